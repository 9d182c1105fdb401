"""Fixtures of the crawler tests: local sites on loopback addresses, fast polite settings, a seed file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from s3text.crawl import CrawlConfig, CrawlReport, crawl
from tests.crawl.webserver import Site

CONTACT = "https://example.org/s3text-crawler-tests"


@pytest.fixture
def make_site() -> Iterator[Callable[..., Site]]:
    sites: list[Site] = []

    def make(host: str = "127.0.0.1") -> Site:
        site = Site(host=host).start()
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.stop()


@pytest.fixture
def settings() -> Callable[..., CrawlConfig]:
    """Test settings: the local server is reachable, delays and backoffs are short."""

    def build(**changes: Any) -> CrawlConfig:
        base: dict[str, Any] = {"contact_url": CONTACT, "allow_private_addresses": True, "request_delay": 0.01,
                                "backoff_base": 0.05, "connect_timeout": 2.0, "read_timeout": 5.0,
                                "request_deadline": 10.0, "use_sitemaps": False}
        return CrawlConfig(**{**base, **changes})

    return build


def write_seeds(folder: Path, *rows: tuple[str, ...], header: str = "name,website,country,nuts,city,sector") -> Path:
    path = folder / "seeds.csv"
    path.write_text("\n".join([header, *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def run_crawl(tmp_path: Path) -> Callable[..., CrawlReport]:
    """Crawl ``sites`` (one seed row each) into ``tmp_path/store.duckdb``."""

    def go(cfg: CrawlConfig, *sites: Site | str, resume: bool = False, seeds: Path | None = None,
           **kwargs: Any) -> CrawlReport:
        if seeds is None and sites:
            rows = [(f"Company {i}", s if isinstance(s, str) else s.url + "/", "AT", "AT33", "Innsbruck", "machinery")
                    for i, s in enumerate(sites)]
            seeds = write_seeds(tmp_path, *rows)
        return crawl(tmp_path / "store.duckdb", cfg, seeds=seeds, resume=resume, **kwargs)

    return go
