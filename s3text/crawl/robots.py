"""robots.txt per RFC 9309, parsed by Protego.

Outcome of fetching ``/robots.txt`` (RFC 9309, 2.3.1):

* 2xx: the rules apply (Protego; the first ``robots_max_bytes`` are parsed, RFC: at least 500 KiB);
* 4xx ("unavailable"): the crawler may access any resource;
* 5xx, timeouts, refused connections, blocked addresses ("unreachable"): complete disallow, for this
  crawl; an unreachable robots.txt is never cached, so the next crawl asks again.

Parsed and 4xx outcomes are cached in the store for at most ``robots_cache_hours`` (RFC: 24 h).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from protego import Protego

Outcome = Literal["parsed", "allow_all", "disallow_all"]


@dataclass(slots=True)
class RobotsRules:
    outcome: Outcome
    status: int | None = None
    body: str = ""
    why: str = ""  # for disallow_all: what went wrong
    _parser: Protego | None = field(default=None, repr=False)

    @classmethod
    def from_response(cls, status: int | None, body: bytes | str | None, *, error: str | None = None,
                      max_bytes: int = 512 * 1024) -> RobotsRules:
        if error is not None or status is None:
            return cls("disallow_all", status, why=error or "unreachable")
        if 200 <= status < 300:
            raw = body if isinstance(body, bytes) else (body or "").encode("utf-8")
            text = raw[:max_bytes].decode("utf-8", errors="replace")
            return cls("parsed", status, text, _parser=Protego.parse(text))
        if 400 <= status < 500:
            return cls("allow_all", status)
        return cls("disallow_all", status, why=f"HTTP {status}")

    @classmethod
    def from_cache(cls, outcome: str, status: int | None, body: str | None) -> RobotsRules:
        if outcome == "parsed":
            return cls("parsed", status, body or "", _parser=Protego.parse(body or ""))
        return cls("allow_all" if outcome == "allow_all" else "disallow_all", status)

    @property
    def cacheable(self) -> bool:
        return self.outcome != "disallow_all"

    def allowed(self, url: str, token: str) -> bool:
        if self.outcome == "allow_all":
            return True
        if self.outcome == "disallow_all" or self._parser is None:
            return False
        if url.rstrip("/").endswith("/robots.txt"):
            return True  # RFC 9309 2.2.2: robots.txt itself is always allowed
        return bool(self._parser.can_fetch(url, token))

    def delay(self, token: str) -> float | None:
        """Seconds between requests the site asks for: Crawl-delay, or Request-rate as seconds per request."""
        if self._parser is None:
            return None
        delays = []
        crawl_delay = self._parser.crawl_delay(token)
        if crawl_delay is not None:
            delays.append(float(crawl_delay))
        rate = self._parser.request_rate(token)
        if rate is not None and rate.requests:
            delays.append(rate.seconds / rate.requests)
        return max(delays) if delays else None

    def sitemaps(self) -> list[str]:
        return list(self._parser.sitemaps) if self._parser is not None else []
