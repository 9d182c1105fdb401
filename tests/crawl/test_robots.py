"""robots.txt per RFC 9309: rules obeyed, 4xx allows all, 5xx and timeouts disallow all, Crawl-delay honoured."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from s3text.crawl import CrawlConfig, CrawlReport
from s3text.crawl.robots import RobotsRules
from s3text.store import Store
from tests.crawl.webserver import Site, html, words

TOKEN = "stext-crawler"
ROBOTS = b"""User-agent: *
Disallow: /private
Crawl-delay: 0.3

User-agent: stext-crawler
Disallow: /private
Disallow: /only-us
Allow: /private/press
"""


def test_robots_outcomes_follow_rfc9309() -> None:
    rules = RobotsRules.from_response(200, ROBOTS)
    assert rules.allowed("https://x.ch/", TOKEN)
    assert not rules.allowed("https://x.ch/private/plans", TOKEN)
    assert rules.allowed("https://x.ch/private/press", TOKEN)  # the longest match wins
    assert not rules.allowed("https://x.ch/only-us", TOKEN)  # our own group, not '*'
    assert rules.allowed("https://x.ch/robots.txt", TOKEN)
    assert rules.delay(TOKEN) is None and rules.delay("other") == 0.3
    assert RobotsRules.from_response(404, b"").allowed("https://x.ch/private", TOKEN)  # unavailable: allow all
    assert RobotsRules.from_response(401, b"").allowed("https://x.ch/private", TOKEN)
    for unreachable in (RobotsRules.from_response(500, b""), RobotsRules.from_response(503, b""),
                        RobotsRules.from_response(None, None, error="deadline")):
        assert not unreachable.allowed("https://x.ch/", TOKEN) and not unreachable.cacheable
    assert RobotsRules.from_response(200, b"\x00\xffgarbage{{").allowed("https://x.ch/a", TOKEN)  # garbage: allow


def _site(make_site: Callable[..., Site], robots: tuple[int, bytes] | None) -> Site:
    site = make_site()
    if robots is not None:
        site.page("/robots.txt", robots[1], status=robots[0], headers={"Content-Type": "text/plain"})
    site.page("/", html("Home", words(20, "home"), ["/about", "/private/plans", "/private/press", "/only-us"]))
    for path in ("/about", "/private/plans", "/private/press", "/only-us"):
        site.page(path, html(path, words(20, path)))
    return site


def test_robots_disallowed_paths_are_never_fetched(make_site: Callable[..., Site], tmp_path: Path,
                                                   settings: Callable[..., CrawlConfig],
                                                   run_crawl: Callable[..., CrawlReport]) -> None:
    site = _site(make_site, (200, ROBOTS))
    report = run_crawl(settings(), site)
    assert sorted(site.paths()) == ["/", "/about", "/private/press", "/robots.txt"]
    assert all(h.user_agent == "stext-crawler/0.1 (+https://example.org/s3text-crawler-tests)" for h in site.hits())
    assert report.totals["skipped"] == {"robots": 2}
    with Store(tmp_path / "store.duckdb") as store:
        skipped = store.con.execute("SELECT url FROM crawl_frontier WHERE reason = 'robots' ORDER BY url").fetchall()
        cached = store.con.execute("SELECT outcome, status FROM robots_cache").fetchall()
    assert [u for (u,) in skipped] == [f"{site.url}/only-us", f"{site.url}/private/plans"]
    assert cached == [("parsed", 200)]


@pytest.mark.parametrize("status", [500, 503])
def test_robots_server_error_disallows_the_whole_host(status: int, make_site: Callable[..., Site],
                                                      settings: Callable[..., CrawlConfig],
                                                      run_crawl: Callable[..., CrawlReport]) -> None:
    site = _site(make_site, (status, b"oops"))
    report = run_crawl(settings(retries=1), site)
    assert set(site.paths()) == {"/robots.txt"}  # asked twice (one retry), no page
    assert len(site.paths()) == 2
    assert report.totals["skipped"] == {"robots_unreachable": 1}
    assert report.totals["fetched"] == 0


def test_robots_timeout_disallows_and_404_allows(make_site: Callable[..., Site], settings: Callable[..., CrawlConfig],
                                                 run_crawl: Callable[..., CrawlReport]) -> None:
    import time

    slow = _site(make_site, None)
    slow.handler("/robots.txt", lambda h: time.sleep(1.5))
    missing = _site(make_site, (404, b"not here"))
    report = run_crawl(settings(retries=0, request_deadline=0.5), slow, missing)
    assert slow.paths() == ["/robots.txt"]
    by_host = {h["host"]: h for h in report.hosts}
    assert by_host[f"127.0.0.1:{slow.port}"]["skipped"] == {"robots_unreachable": 1}
    assert by_host[f"127.0.0.1:{missing.port}"]["fetched"] == 5  # 404: every page, /private too


def test_robots_crawl_delay_is_honoured(make_site: Callable[..., Site], settings: Callable[..., CrawlConfig],
                                        run_crawl: Callable[..., CrawlReport]) -> None:
    site = _site(make_site, (200, b"User-agent: *\nCrawl-delay: 0.4\n"))
    run_crawl(settings(request_delay=0.01), site)
    starts = [h.start for h in site.hits()]
    assert len(starts) == 6
    gaps = [b - a for a, b in itertools.pairwise(starts[1:])]  # after robots.txt is known
    assert min(gaps) >= 0.39, gaps


def test_robots_crawl_delay_too_long_skips_the_host(make_site: Callable[..., Site],
                                                    settings: Callable[..., CrawlConfig],
                                                    run_crawl: Callable[..., CrawlReport]) -> None:
    site = _site(make_site, (200, b"User-agent: *\nCrawl-delay: 3600\n"))
    report = run_crawl(settings(max_crawl_delay=60), site)
    assert site.paths() == ["/robots.txt"]
    assert report.totals["skipped"] == {"crawl_delay_too_long": 1}
