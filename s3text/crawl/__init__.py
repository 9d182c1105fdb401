"""Company websites: a polite, safe crawler that stores each page's main text as versioned documents.

``crawl(store, CrawlConfig(...), seeds="companies.csv")`` reads the seed list, crawls every site
within its limits (robots.txt per RFC 9309, one request at a time per host, SSRF guard, size and
time caps) and stores each page whose text is new or changed as a document of source ``web``;
``crawl(..., resume=True)`` continues an interrupted crawl. See docs/CRAWLER.md.

The names are imported lazily: ``s3text.config`` imports :class:`CrawlConfig` and must not pull
in httpx, trafilatura or the store with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from s3text.crawl.crawler import crawl
    from s3text.crawl.report import CrawlReport, build_report, stored_report
    from s3text.crawl.seeds import Seed, read_seeds
    from s3text.crawl.settings import CrawlConfig

_WHERE = {"CrawlConfig": "settings", "CrawlReport": "report", "build_report": "report", "crawl": "crawler",
          "stored_report": "report", "Seed": "seeds", "read_seeds": "seeds"}
__all__ = ["CrawlConfig", "CrawlReport", "Seed", "build_report", "crawl", "read_seeds", "stored_report"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"s3text.crawl.{_WHERE[name]}"), name)
    raise AttributeError(f"module 's3text.crawl' has no attribute {name!r}")
