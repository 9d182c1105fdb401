"""Every limit and threshold of the crawler, with defaults, in one validated model.

The defaults follow Scrapy's project template where it is polite (one request at a time per host,
a delay of at least one second, robots.txt obeyed) and RFC 9309 for robots.txt. The pipeline
config holds one :class:`CrawlConfig` under ``crawl:``; the library takes it as an argument.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from pathlib import Path

from pydantic import Field, field_validator

from s3text._model import _Model

# Words of the pages that say what a company does, in en/de/it/fr/sl, matched as path segments
# (or their starts). Such pages are fetched first, so a page cap keeps the informative ones.
PREFERRED_WORDS = (
    # en
    "about", "about-us", "company", "products", "product", "solutions", "solution", "technology",
    "technologies", "research", "innovation", "services", "expertise", "competences", "what-we-do",
    # de
    "ueber-uns", "über-uns", "uber-uns", "unternehmen", "firma", "produkte", "produkt", "loesungen",
    "lösungen", "technologie", "technologien", "forschung", "entwicklung", "innovation", "leistungen",
    "kompetenzen",
    # it
    "chi-siamo", "azienda", "prodotti", "prodotto", "soluzioni", "tecnologia", "tecnologie", "ricerca",
    "innovazione", "servizi", "competenze",
    # fr
    "a-propos", "qui-sommes-nous", "entreprise", "societe", "produits", "produit", "technologie",
    "recherche", "innovation", "services", "savoir-faire",
    # sl
    "o-nas", "podjetje", "izdelki", "produkti", "resitve", "rešitve", "tehnologija", "tehnologije",
    "raziskave", "razvoj", "inovacije", "storitve",
)

# Files that are never HTML and pages that are never content (sessions, carts, logins, print views).
DEFAULT_EXCLUDE = (
    r"\.(?:pdf|jpe?g|png|gif|svg|webp|bmp|ico|tiff?|zip|gz|tgz|rar|7z|exe|dmg|msi|mp[34]|avi|mov|wmv|webm|"
    r"docx?|xlsx?|pptx?|odt|ods|csv|xml|json|rss|atom|css|js|woff2?|ttf|eot)$",
    r"/(?:login|logout|signin|sign-in|register|cart|basket|checkout|warenkorb|kasse|carrello|panier|"
    r"kosarica|wp-admin|wp-login\.php|wp-json|xmlrpc\.php|cgi-bin|feed)(?:/|$)",
    r"[?&](?:print|share|replytocom|add-to-cart|add_to_cart|lang_switch)=",
)

# Query parameters that name a session or a tracking campaign, never a different page.
DEFAULT_STRIP_PARAMS = (
    "jsessionid", "phpsessid", "sid", "sessionid", "session_id", "session", "aspsessionid", "cfid",
    "cftoken", "zenid", "osCsid", "s_id", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content", "utm_id", "gclid", "dclid", "fbclid", "msclkid", "yclid", "mc_cid", "mc_eid", "_ga",
    "_gl", "_hsenc", "_hsmi", "igshid", "ref_src", "trk",
)

RETRY_STATUSES = (408, 429, 500, 502, 503, 504, 522, 524)  # Scrapy's RETRY_HTTP_CODES


class CrawlConfig(_Model):
    """Politeness, safety and scope of a website crawl; times in seconds, sizes in bytes."""

    seeds: Path | None = None  # seed CSV of the scheduled crawl (the CLI's --seeds overrides it)
    seeds_encoding: str = "auto"  # as a source's `encoding:`: a BOM or UTF-8, else a code page told with confidence
    source_name: str = Field(default="web", pattern=r"^[a-z0-9_]+$")  # documents' `source`
    # Identity: site owners must be able to see who crawls and reach them. A crawl refuses to start
    # without a contact URL (or e-mail address as mailto:).
    contact_url: str | None = None
    # The robots.txt group name and the User-Agent's product; RFC 9309 allows only letters, "_" and "-"
    # in it, hence "stext" for s3text.
    product_token: str = Field(default="stext-crawler", pattern=r"^[A-Za-z_-]+$")
    product_version: str = "0.1"
    # Politeness
    request_delay: float = Field(default=1.0, ge=0)  # between two requests to one host
    max_crawl_delay: float = Field(default=60.0, ge=0)  # a robots Crawl-delay above this: host skipped
    max_parallel_hosts: int = Field(default=16, ge=1)  # sites crawled at once (one request at a time each)
    site_time_budget: float = Field(default=1800.0, gt=0)  # wall-clock seconds per site and crawl
    # Timeouts, retries
    connect_timeout: float = Field(default=10.0, gt=0)  # DNS + TCP + TLS
    read_timeout: float = Field(default=20.0, gt=0)  # between two chunks
    request_deadline: float = Field(default=60.0, gt=0)  # whole request and body, wall clock
    retries: int = Field(default=2, ge=0)  # after the first attempt, on retry_statuses and network errors
    retry_statuses: tuple[int, ...] = RETRY_STATUSES
    backoff_base: float = Field(default=2.0, ge=0)  # retry n waits base * 2**(n-1), +-25 % jitter
    backoff_max: float = Field(default=60.0, ge=0)
    max_retry_after: float = Field(default=300.0, ge=0)  # a longer Retry-After: give up on the URL
    # Sizes and types
    max_body_bytes: int = Field(default=5 * 2**20, ge=1024)  # as sent (compressed)
    max_decoded_bytes: int = Field(default=10 * 2**20, ge=1024)  # after Content-Encoding
    robots_max_bytes: int = Field(default=512 * 2**10, ge=1024)  # RFC 9309: parse at least 500 KiB
    content_types: tuple[str, ...] = ("text/html", "application/xhtml+xml")
    max_redirects: int = Field(default=5, ge=0, le=20)  # RFC 9309 asks robots.txt to follow 5
    max_url_length: int = Field(default=2083, ge=64)
    # Scope
    max_pages_per_site: int = Field(default=50, ge=1)  # requests for pages (robots, sitemaps not counted)
    max_depth: int = Field(default=3, ge=0)  # link hops from the seed page; sitemap entries count as 1
    max_frontier_per_site: int = Field(default=2000, ge=1)  # URLs remembered per site (trap defence)
    max_query_variants: int = Field(default=10, ge=1)  # URLs per path differing only in the query
    max_path_segments: int = Field(default=12, ge=1)
    max_repeated_segment: int = Field(default=2, ge=1)  # /a/b/a/b/a: a segment seen more often is a trap
    include_patterns: tuple[str, ...] = ()  # regexes on path?query; empty: every path
    exclude_patterns: tuple[str, ...] = DEFAULT_EXCLUDE
    preferred_words: tuple[str, ...] = PREFERRED_WORDS
    strip_params: tuple[str, ...] = DEFAULT_STRIP_PARAMS
    use_sitemaps: bool = True
    max_sitemaps: int = Field(default=5, ge=0)  # sitemap files read per site (an index counts)
    max_sitemap_urls: int = Field(default=500, ge=0)  # entries taken from sitemaps per site
    respect_meta_robots: bool = True  # <meta name=robots> and X-Robots-Tag: noindex, nofollow
    robots_cache_hours: float = Field(default=24.0, ge=0, le=24)  # RFC 9309: at most 24 h
    # Extraction
    min_text_chars: int = Field(default=100, ge=1)  # less main text: page skipped (navigation, forms)
    detect_languages: tuple[str, ...] = ("en", "de", "it", "fr", "sl", "es", "nl", "pt", "pl", "hr")
    flush_every: int = Field(default=25, ge=1)  # pending documents written to `documents` in batches
    # Safety: the crawler fetches only global addresses. Tests switch this on to reach their local
    # server; `allowed_networks` exempts named networks (an intranet mirror) and nothing else.
    allow_private_addresses: bool = False
    allowed_networks: tuple[str, ...] = ()
    lock_timeout: float = Field(default=10.0, ge=0)  # waiting for another run holding the store

    @field_validator("include_patterns", "exclude_patterns")
    @classmethod
    def _regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
        return value

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError as exc:
                raise ValueError(f"bad network {net!r}: {exc}") from exc
        return value

    @field_validator("contact_url")
    @classmethod
    def _contact(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(https?://[^\s/]+\S*|mailto:[^\s@]+@[^\s@]+)$", value):
            raise ValueError("a contact URL is http(s)://... or mailto:name@domain")
        return value

    def config_hash(self) -> str:
        """Hash of the crawl settings (sorted keys, as :meth:`PipelineConfig.config_hash`); names the crawl's run id."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def user_agent(self) -> str:
        """Product token, version and the contact, as the Scrapy template and RFC 9309 suggest."""
        return f"{self.product_token}/{self.product_version} (+{self.contact_url or 'no contact configured'})"
