"""SSRF guard: non-global addresses refused after resolution, at connect time, on every hop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from s3text.crawl import CrawlConfig, CrawlReport
from s3text.crawl.fetch import Fetcher, FetchError, HostGates
from s3text.crawl.guard import AddressPolicy
from s3text.store import Store
from tests.crawl.webserver import Site, html, words

BLOCKED = ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "10.0.0.5", "192.168.1.1", "172.16.0.1",
           "169.254.169.254", "100.64.0.1", "0.0.0.0", "::", "224.0.0.1", "fe80::1", "fc00::1", "64:ff9b::a9fe:a9fe",
           "2002:7f00:1::", "192.0.2.10", "198.18.0.1", "240.0.0.1", "255.255.255.255"]


@pytest.mark.parametrize("address", BLOCKED)
def test_guard_refuses_non_global_addresses(address: str) -> None:
    assert AddressPolicy().why_refused(address) is not None
    assert AddressPolicy(allow_private=True).why_refused(address) is None  # the test switch


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_guard_allows_global_addresses(address: str) -> None:
    assert AddressPolicy().why_refused(address) is None


def test_guard_allowed_networks_exempt_only_themselves() -> None:
    policy = AddressPolicy(allowed_networks=["127.0.0.2/32"])
    assert policy.why_refused("127.0.0.2") is None
    assert policy.why_refused("127.0.0.1") == "loopback"
    assert policy.why_refused("169.254.169.254") == "link-local"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "2130706433", "0177.0.0.1", "0x7f.1",
                                  "169.254.169.254", "100.64.0.1", "0.0.0.0", "[::ffff:127.0.0.1]"])
def test_guard_preflight_checks_the_resolved_address(host: str) -> None:
    """Decimal, octal and hex forms resolve to loopback (no network needed) and are refused."""
    cfg = CrawlConfig(contact_url="https://example.org/c")

    async def check() -> str | None:
        async with Fetcher(cfg, HostGates(0, 0)) as fetcher:
            return await fetcher.preflight(f"http://{host}:8080/")

    why = asyncio.run(check())
    assert why is not None and why.startswith(("blocked_address", "dns_error")), why


def test_guard_connects_to_the_checked_address_only(make_site: Callable[..., Site]) -> None:
    """DNS rebinding: the connection resolves once, checks, and connects to what it checked.

    A resolver answers 127.0.0.2 (an allowed network, where the site is) and then 127.0.0.1 (where
    another server waits on the same port). The pre-flight sees 127.0.0.2; the connection gets
    127.0.0.1 from its own lookup and is refused; the server on 127.0.0.1 never sees a request."""
    good = make_site("127.0.0.2")
    good.page("/", html("ok", words(5)))
    evil = Site(host="127.0.0.1")
    try:
        evil._server = None
        from tests.crawl.webserver import _Handler, _Server

        evil._server = _Server(("127.0.0.1", good.port), _Handler)
    except OSError:
        pytest.skip("port taken on 127.0.0.1")
    evil._server.site = evil
    import threading

    threading.Thread(target=evil._server.serve_forever, daemon=True).start()
    answers = iter(["127.0.0.2", "127.0.0.1", "127.0.0.1"])
    calls: list[str] = []

    async def flipping(host: str, port: int) -> list[str]:
        calls.append(host)
        return [next(answers)]

    async def pinned(host: str, port: int) -> list[str]:
        return ["127.0.0.2"]

    cfg = CrawlConfig(contact_url="https://example.org/c", allowed_networks=("127.0.0.2/32",), retries=0)
    url = f"http://company.test:{good.port}/"

    async def go(resolver: Callable[[str, int], object]) -> tuple[str | None, str]:
        async with Fetcher(cfg, HostGates(0, 0), resolver=resolver) as fetcher:  # type: ignore[arg-type]
            first = await fetcher.preflight(url)
            try:
                response = await fetcher.get(url, accept=None, max_decoded=10**6)
            except FetchError as exc:
                return first, exc.reason
            return first, str(response.status)

    try:
        assert asyncio.run(go(flipping)) == (None, "blocked_address")
        assert calls == ["company.test", "company.test"]  # one lookup for the check, one for the connection
        assert evil.hits() == []
        # and the connection really goes where the resolver said: the name itself is never looked up
        assert asyncio.run(go(pinned)) == (None, "200")
        assert [h.path for h in good.hits()] == ["/"]
    finally:
        evil.stop()


def test_guard_redirects_to_loopback_and_metadata_are_refused(
        make_site: Callable[..., Site], settings: Callable[..., CrawlConfig],
        run_crawl: Callable[..., CrawlReport], tmp_path: Path) -> None:
    """With the test switch off (only 127.0.0.2 allowed), hops to 127.0.0.1 and 169.254.169.254 fail."""
    site = make_site("127.0.0.2")
    inner = make_site("127.0.0.1")
    inner.page("/", html("internal", words(20)))
    site.page("/", html("home", words(20, "home"), ["/to-loopback", "/to-metadata", "/to-decimal"]))
    site.page("/to-loopback", b"", status=302, headers={"Location": f"{inner.url}/"})
    site.page("/to-metadata", b"", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    site.page("/to-decimal", b"", status=302, headers={"Location": f"http://2130706433:{inner.port}/"})
    seed_site = make_site("127.0.0.2")
    seed_site.page("/", b"", status=301, headers={"Location": f"http://127.0.0.1:{inner.port}/"})
    cfg = settings(allow_private_addresses=False, allowed_networks=("127.0.0.2/32",))
    report = run_crawl(cfg, site, seed_site)
    assert inner.hits() == []
    with Store(tmp_path / "store.duckdb") as store:
        rows = dict(store.con.execute("SELECT url, reason FROM crawl_frontier WHERE status = 'failed'").fetchall())
    assert rows == {f"{site.url}/to-loopback": "blocked_address", f"{site.url}/to-metadata": "blocked_address",
                    f"{site.url}/to-decimal": "blocked_address", f"{seed_site.url}/": "blocked_address"}
    assert report.totals["failed"] == {"blocked_address": 4}


def test_guard_seed_on_a_private_address_is_never_contacted(
        make_site: Callable[..., Site], settings: Callable[..., CrawlConfig],
        run_crawl: Callable[..., CrawlReport]) -> None:
    site = make_site("127.0.0.1")
    site.page("/", html("home", words(20)))
    report = run_crawl(settings(allow_private_addresses=False), site)
    assert site.hits() == []
    assert report.totals["failed"] == {"blocked_address": 1}
