"""URL normalisation, page identity and trap detection."""

from __future__ import annotations

import pytest

from s3text.crawl.settings import DEFAULT_STRIP_PARAMS
from s3text.crawl.urls import BadURL, authority, clean, page_key, resolve, site_host, trap_reason


def c(url: str) -> str:
    return clean(url, strip_params=DEFAULT_STRIP_PARAMS)


@pytest.mark.parametrize(("raw", "expected"), [
    ("HTTP://Example.COM:80/a/./b/../c#frag", "http://example.com/a/c"),
    ("https://example.com:443/", "https://example.com/"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("https://example.com/p;jsessionid=ABC123?id=7", "https://example.com/p?id=7"),
    ("https://example.com/p?PHPSESSID=1&b=2&utm_source=news&utm_medium=mail&fbclid=x", "https://example.com/p?b=2"),
    ("https://user:secret@example.com/private", "https://example.com/private"),
    ("https://bücher.example/über uns", "https://xn--bcher-kva.example/%C3%BCber%20uns"),
    ("https://example.com/%7euser/%2f", "https://example.com/~user/%2F"),
    ("https://example.com/a//b/", "https://example.com/a/b/"),
])
def test_urls_clean_normalises(raw: str, expected: str) -> None:
    assert c(raw) == expected


@pytest.mark.parametrize("raw", [
    "file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "data:text/html,<b>x</b>",
    "javascript:alert(1)", "mailto:a@example.com", "//example.com/no-scheme", "http:///nohost",
    "https://example.com/" + "a" * 3000, "https://not a host/", "https://exa$mple.com/", "https://a..b/",
])
def test_urls_clean_refuses_other_schemes_and_junk(raw: str) -> None:
    with pytest.raises(BadURL):
        c(raw)


def test_urls_one_page_key_for_http_https_www_slash_and_tracking() -> None:
    variants = ["http://www.firma.at/produkte/", "https://firma.at/produkte", "https://firma.at/produkte/#top",
                "https://www.firma.at/produkte?utm_campaign=spring", "HTTPS://FIRMA.AT/produkte/"]
    assert len({page_key(c(v)) for v in variants}) == 1
    assert page_key(c("https://firma.at/p?b=2&a=1")) == page_key(c("https://firma.at/p?a=1&b=2"))
    assert page_key(c("https://firma.at/p?a=1")) != page_key(c("https://firma.at/p?a=2"))
    assert authority(c("https://www.firma.at:8443/x")) == "www.firma.at:8443"
    assert site_host(c("https://www.firma.at/x")) == "firma.at"


def test_urls_resolve_links() -> None:
    assert resolve("https://x.ch/a/b", "../c") == "https://x.ch/c"
    assert resolve("https://x.ch/a/", "//y.ch/z") == "https://y.ch/z"
    for href in ("mailto:a@x.ch", "javascript:void(0)", "#section", "tel:+41", "   ", "data:text/plain,x"):
        assert resolve("https://x.ch/", href) is None


@pytest.mark.parametrize(("url", "reason"), [
    ("https://x.ch/events/calendar?month=2031-05", "trap_calendar"),
    ("https://x.ch/veranstaltungen?tx_cal_controller=1&date=20310501", "trap_calendar"),
    ("https://x.ch/kalender/2031/05/", "trap_calendar"),
    ("https://x.ch/a/b/a/b/a/b/a", "trap_repeated_segment"),
    ("https://x.ch/" + "/".join(f"s{i}" for i in range(20)), "trap_deep_path"),
    ("https://x.ch/news/2023/05/new-milling-centre", None),
    ("https://x.ch/events/42-open-day", None),
    ("https://x.ch/produkte?id=2031", None),
])
def test_urls_trap_reason(url: str, reason: str | None) -> None:
    assert trap_reason(url) == reason
