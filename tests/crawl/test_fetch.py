"""Politeness and limits against a real local server: delays measured on the server side, faults."""

from __future__ import annotations

import itertools
import resource
import time
from collections.abc import Callable
from pathlib import Path

from s3text.crawl import CrawlConfig, CrawlReport
from s3text.crawl.fetch import retry_after_seconds
from s3text.store import Store
from tests.crawl.webserver import Site, gzip_bomb, html, words


def _statuses(tmp_path: Path) -> dict[str, tuple[str, str | None]]:
    with Store(tmp_path / "store.duckdb") as store:
        rows = store.con.execute("SELECT url, status, reason FROM crawl_frontier").fetchall()
    return {url.split("/", 3)[3]: (status, reason) for url, status, reason in rows}


def test_fetch_one_request_at_a_time_per_host_with_the_delay(
        make_site: Callable[..., Site], settings: Callable[..., CrawlConfig],
        run_crawl: Callable[..., CrawlReport]) -> None:
    sites = [make_site() for _ in range(3)]
    for site in sites:
        site.page("/", html("Home", words(20, "home"), [f"/p{i}" for i in range(4)]))
        for i in range(4):
            site.page(f"/p{i}", html(f"p{i}", words(20, f"p{i}")))
    report = run_crawl(settings(request_delay=0.3), *sites)
    assert report.totals["fetched"] == 15
    for site in sites:
        hits = site.hits()
        assert len(hits) == 6  # robots.txt, home, 4 pages
        for before, after in itertools.pairwise(hits):
            assert before.end is not None and after.start >= before.end  # never two at once
            assert after.start - before.end >= 0.29, (before, after)  # the delay, measured by the server
    # hosts run in parallel (told by the order of requests, not by a stopwatch): every host started
    # before any host made its last request, and while one host waited out its delays, each other
    # host was served at least three times (one after the other, none would be)
    assert max(s.hits()[0].start for s in sites) < min(s.hits()[-1].start for s in sites)  # the hosts overlap
    for site in sites:
        first, last = site.hits()[0].start, site.hits()[-1].start
        for other in sites:
            if other is not site:
                assert sum(first <= h.start <= last for h in other.hits()) >= 3, (site.url, other.url)


def test_fetch_faults_are_recorded_with_reasons(make_site: Callable[..., Site], settings: Callable[..., CrawlConfig],
                                                run_crawl: Callable[..., CrawlReport], tmp_path: Path) -> None:
    site = make_site()
    paths = ["/missing", "/boom", "/loop-a", "/chain0", "/pdf", "/big", "/chunked", "/bomb", "/drip", "/moved", "/ok"]
    site.page("/", html("Home", words(20, "home"), paths))
    site.page("/boom", b"error", status=500)
    site.page("/loop-a", b"", status=302, headers={"Location": "/loop-b"})
    site.page("/loop-b", b"", status=302, headers={"Location": "/loop-a"})
    for i in range(10):
        site.page(f"/chain{i}", b"", status=301, headers={"Location": f"/chain{i + 1}"})
    site.page("/pdf", b"%PDF-1.4 ...", headers={"Content-Type": "application/pdf"})
    site.page("/moved", b"", status=301, headers={"Location": "/ok"})
    site.page("/ok", html("OK", words(20, "ok")))

    def big(h: object) -> None:  # announces 50 MB and streams until the client hangs up
        from tests.crawl.webserver import _Handler

        assert isinstance(h, _Handler)
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(50 * 2**20))
        h.end_headers()
        for _ in range(50):
            h.wfile.write(b"<p>" + b"x" * 2**20)

    def chunked(h: object) -> None:  # no length, closes the connection at the end
        from tests.crawl.webserver import _Handler

        assert isinstance(h, _Handler)
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        for _ in range(50):
            h.wfile.write(b"<p>" + b"y" * 2**20)

    bomb = gzip_bomb(200)

    def gzipped(h: object) -> None:
        from tests.crawl.webserver import _Handler

        assert isinstance(h, _Handler)
        h.send(200, bomb, {"Content-Encoding": "gzip"})

    dripped: list[int] = []  # bytes each /drip request got out before the client hung up

    def drip(h: object) -> None:  # one byte every 0.2 s: never a read timeout, always the deadline
        from tests.crawl.webserver import _Handler

        assert isinstance(h, _Handler)
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        dripped.append(0)
        for _ in range(1000):
            h.wfile.write(b"x")
            h.wfile.flush()
            dripped[-1] += 1
            time.sleep(0.2)

    site.handler("/big", big)
    site.handler("/chunked", chunked)
    site.handler("/bomb", gzipped)
    site.handler("/drip", drip)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cfg = settings(retries=1, max_redirects=5, max_body_bytes=2**20, max_decoded_bytes=4 * 2**20,
                   read_timeout=0.8, request_deadline=1.0)
    report = run_crawl(cfg, site)
    status = _statuses(tmp_path)
    assert status["missing"] == ("failed", "http_404")
    assert status["boom"] == ("failed", "http_500")
    assert status["loop-a"] == ("failed", "redirect_loop")
    assert status["chain0"] == ("failed", "too_many_redirects")
    assert status["pdf"] == ("skipped", "not_html")
    assert status["big"] == ("failed", "too_large")
    assert status["chunked"] == ("failed", "too_large")
    assert status["bomb"] == ("failed", "too_large_decoded")
    assert status["drip"] == ("failed", "deadline")
    assert status["moved"] == ("redirected", None) and status["ok"] == ("stored", None)
    assert len(site.hits("/missing")) == 1  # a 404 is not retried
    assert len(site.hits("/boom")) == 2  # a 500 is: 1 + 1 retry
    assert len(site.hits("/drip")) == 2  # the deadline counts as a timeout and is retried
    assert len(site.hits("/ok")) == 1  # reached through /moved once, not fetched again
    assert [h.path for h in site.hits() if h.path.startswith("/chain")] == [f"/chain{i}" for i in range(6)]
    # the bomb expands to 200 MB: refused after 4 MB, memory never held it
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 150 * 1024
    # the 1000-byte drip (200 s) was cut by the 1 s deadline, told by the server: about 5 bytes went out
    # per request before the client hung up (the second may still be dripping into the closed socket)
    assert len(dripped) == 2 and max(dripped) < 50, dripped
    assert report.totals["failed"]["too_large"] == 2


def test_fetch_429_waits_for_retry_after(make_site: Callable[..., Site], settings: Callable[..., CrawlConfig],
                                         run_crawl: Callable[..., CrawlReport], tmp_path: Path) -> None:
    site = make_site()
    site.page("/", html("Home", words(20, "home"), ["/busy"]))
    answers = iter([(429, {"Retry-After": "1"}), (200, {})])

    def busy(h: object) -> None:
        from tests.crawl.webserver import _Handler

        assert isinstance(h, _Handler)
        status, headers = next(answers)
        h.send(status, html("Busy", words(20, "busy")).encode(), headers)

    site.handler("/busy", busy)
    run_crawl(settings(request_delay=0.01, retries=2), site)
    first, second = site.hits("/busy")
    assert second.start - first.start >= 1.0
    assert _statuses(tmp_path)["busy"] == ("stored", None)


def test_fetch_retry_after_parses_seconds_and_dates() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 10) == 10.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
