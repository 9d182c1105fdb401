"""From a page's bytes to its main text, title, language and outgoing links.

The HTML is parsed once (``trafilatura.utils.load_html``: encoding from the bytes, the meta tag
or a detector); links and robots meta tags are read from that tree, then trafilatura extracts
the main text (boilerplate, navigation, cookie banners and footers removed). The language is the
normalise stage's own detection (:meth:`s3text.normalise.Normaliser.detect`, lingua, offline) on the
first few thousand characters.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

TREE_LIMIT = 200_000  # elements; a larger page is an HTML bomb, not a company page
DETECT_CHARS = 3000  # language detection reads the start of the main text

if TYPE_CHECKING:
    from s3text.normalise import Normaliser


@dataclass(slots=True)
class Extracted:
    title: str
    text: str
    language: str | None
    links: list[str] = field(default_factory=list)  # href values resolved against the page (or <base>)
    noindex: bool = False
    nofollow: bool = False


@functools.lru_cache(maxsize=4)
def _normaliser(languages: tuple[str, ...]) -> Normaliser:
    from s3text.normalise import Normaliser

    return Normaliser(supported_languages=(), detect_languages=languages)  # only detection is used


def detect_language(text: str, languages: Sequence[str]) -> str | None:
    if not text.strip():
        return None
    return _normaliser(tuple(languages)).detect([text[:DETECT_CHARS]])[0]


def _robots_directives(tree: Any, header: str | None, token: str) -> tuple[bool, bool]:
    values = [header or ""]
    for meta in tree.xpath("//meta[@name and @content]"):
        if meta.get("name", "").strip().lower() in ("robots", token.lower()):
            values.append(meta.get("content", ""))
    words = {w.strip().lower() for v in values for w in v.replace(";", ",").split(",")}
    return bool(words & {"noindex", "none"}), bool(words & {"nofollow", "none"})


def extract(body: bytes, url: str, *, languages: Sequence[str] = ("en", "de", "it", "fr", "sl"),
            x_robots_tag: str | None = None, token: str = "stext-crawler") -> Extracted | None:
    """Main text and links of an HTML page; None when it cannot be parsed or is too large a tree."""
    import trafilatura
    from trafilatura.utils import load_html

    tree = load_html(body)
    if tree is None:
        return None
    if sum(1 for _ in tree.iter()) > TREE_LIMIT:
        return None
    noindex, nofollow = _robots_directives(tree, x_robots_tag, token)
    base = url
    for el in tree.xpath("//base[@href]")[:1]:
        from urllib.parse import urljoin

        base = urljoin(url, el.get("href", "").strip())
    links = []
    if not nofollow:
        for a in tree.xpath("//a[@href]"):
            if "nofollow" in (a.get("rel") or "").lower().split():
                continue
            links.append(_join(base, a.get("href", "")))
    doc = trafilatura.bare_extraction(tree, url=url, with_metadata=True, include_comments=False,
                                      include_tables=True)
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    title = (getattr(doc, "title", None) or "").strip() if doc is not None else ""
    return Extracted(title=" ".join(title.split()), text=text, language=detect_language(text, languages),
                     links=[link for link in links if link], noindex=noindex, nofollow=nofollow)


def _join(base: str, href: str) -> str:
    from s3text.crawl.urls import resolve

    return resolve(base, href) or ""
