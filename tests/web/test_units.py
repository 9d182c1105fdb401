"""The web package's pure parts: links, settings, filters, caching, sessions. No store needed."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from starlette.requests import Request

from s3text.errors import ConfigError
from s3text.links import original_link, original_url, patent_page, safe_http_url
from s3text.web import caching
from s3text.web.config import WebConfig, load_web_config, resolve_tokens
from s3text.web.filters import CandidateQuery, group_members
from s3text.web.queries import RunState
from s3text.web.security import Guard, safe_next


def request(headers: dict[str, str] | None = None, query: str = "", cookies: str = "") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if cookies:
        raw.append((b"cookie", cookies.encode()))
    return Request({"type": "http", "method": "GET", "path": "/api/v1/candidates", "query_string": query.encode(),
                    "headers": raw, "scheme": "http", "server": ("testserver", 80), "client": ("1.2.3.4", 5)})


@pytest.mark.parametrize(("source", "kind", "native", "url", "expected"), [
    ("cordis_fp7", "project", "617053", None, "https://cordis.europa.eu/project/id/617053"),
    ("cordis_h2020_energy", "project", " 101029605 ", "javascript:alert(1)",
     "https://cordis.europa.eu/project/id/101029605"),
    ("patentsview_nn", "patent", "7817857", None, "https://patents.google.com/patent/US7817857"),
    ("google_patents_deep_learning", "patent", "US-2013173064-A1", None,
     "https://patents.google.com/patent/US2013173064A1"),
    ("google_patents_deep_learning", "patent", "US-2013173064-A1",
     "https://patents.google.com/patent/US20130173064A1/en", "https://patents.google.com/patent/US20130173064A1/en"),
    ("patentsview_nn", "patent", "D0123456", None, "https://patents.google.com/patent/USD0123456"),
    ("crawl", "website", "x", "https://example.org/about", "https://example.org/about"),
    ("crawl", "website", "x", "javascript:alert(1)", None),
    ("crawl", "website", "x", "data:text/html,<script>", None),
    ("crawl", "website", "x", 'https://example.org/"><script>', None),
    ("patentsview_nn", "patent", "<script>", None, None),
])
def test_original_links(source: str, kind: str, native: str, url: str | None, expected: str | None) -> None:
    assert original_url(source=source, source_kind=kind, native_id=native, url=url) == expected


@pytest.mark.parametrize(("source", "kind", "native", "url", "origin"), [
    ("cordis_fp7", "project", "617053", "https://example.org/p", "cordis"),  # the CORDIS page wins
    ("cordis_official", "project", "ERC-1", "https://example.org/p", "stored"),
    ("patentsview_nn", "patent", "7817857", None, "google_patents"),
    ("uspto", "patent", "9646230", None, "google_patents"),
    ("uspto", "patent", "9646230", "https://example.org/patent", "stored"),
    ("crawl", "website", "x", "https://example.org/about", "stored"),
    ("crawl", "website", "x", None, None),
])
def test_original_link_says_where_the_link_comes_from(source: str, kind: str, native: str, url: str | None,
                                                       origin: str | None) -> None:
    link, got = original_link(source=source, source_kind=kind, native_id=native, url=url)
    assert got == origin and link == original_url(source=source, source_kind=kind, native_id=native, url=url)
    assert (link is None) == (origin is None)


def test_safe_urls_and_patent_numbers() -> None:
    assert safe_http_url("HTTPS://x.org/a?b=c") == "HTTPS://x.org/a?b=c"
    assert safe_http_url("//x.org") is None and safe_http_url("http://") is None and safe_http_url(None) is None
    assert patent_page("EP-1234567-B1") == "https://patents.google.com/patent/EP1234567B1"


def test_tokens_come_from_the_environment_and_never_print() -> None:
    cfg = WebConfig(reviewers={"ana": SecretStr("env:TOK_ANA"), "ben": SecretStr("literal-token-123")})
    tokens = resolve_tokens(cfg, {"TOK_ANA": "from-the-environment"})
    assert tokens["ana"].get_secret_value() == "from-the-environment"
    assert "literal-token" not in repr(cfg) + str(cfg.model_dump()) + cfg.model_dump_json()
    with pytest.raises(ConfigError, match="TOK_ANA is not set") as missing:
        resolve_tokens(cfg, {})
    assert "literal-token" not in str(missing.value)
    with pytest.raises(ConfigError, match="shorter than 12"):
        resolve_tokens(WebConfig(reviewers={"ana": SecretStr("short")}), {})


def test_web_config_defaults_and_validation(tmp_path: Any) -> None:
    cfg = WebConfig()
    assert (cfg.host, cfg.port, cfg.public_statuses, cfg.page_size) == ("127.0.0.1", 8484, ("accepted",), 25)
    with pytest.raises(ValidationError):
        WebConfig(public_statuses=("maybe",))  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        WebConfig(reviewers={"<b>": SecretStr("x" * 20)})
    path = tmp_path / "web.yaml"
    path.write_text("web:\n  port: 9000\n  reviewers:\n    ana: env:TOK\n", encoding="utf-8")
    loaded = load_web_config(path)
    assert loaded.port == 9000 and loaded.reviewers["ana"].get_secret_value() == "env:TOK"
    path.write_text("web:\n  prot: 9000\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"web\.prot"):
        load_web_config(path)
    assert load_web_config(None) == WebConfig()


def test_candidate_query_parsing() -> None:
    q = CandidateQuery.model_validate({"region": "", "topic": "", "status": ["new,watch", "accepted"],
                                       "min_score": "0.5", "sort": ""})
    assert (q.region, q.topic, q.status, q.min_score, q.sort) == (None, None, ["new", "watch", "accepted"], 0.5,
                                                                    "-score")
    assert q.order_by().startswith("c.score DESC")
    assert CandidateQuery(sort="density").order_by().startswith("TRY_CAST(c.record->>'density' AS DOUBLE) ASC")
    for bad in ({"sort": "score; DROP TABLE x"}, {"min_score": "nan"}, {"min_score": 2, "max_score": 1},
                {"region": "a/b"}, {"kind": "grow"}):
        with pytest.raises(ValidationError):
            CandidateQuery.model_validate(bad)
    assert CandidateQuery(region="DE21", changed=True).as_params() == {"region": "DE21", "changed": "true"}


def test_region_groups() -> None:
    regions = ["Bavaria", "DE11", "DE21", "FR10", "Slovenia"]
    groupings = {"Bavaria": ("DE2",), "Slovenia": ("SI03", "SI04")}
    assert group_members(regions, "DE", groupings) == ["Bavaria", "DE11", "DE21"]
    assert group_members(regions, "Bavaria", groupings) == ["Bavaria", "DE21"]
    assert group_members(regions, "SI", groupings) == ["Slovenia"]
    assert group_members(regions, "FR1", groupings) == ["FR10"]


def test_etags_follow_run_decisions_scope_and_query() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    state = RunState("r1", now, 7, None)
    tag = caching.etag(state, request(query="a=1&b=2"), "public")
    assert tag == caching.etag(state, request(query="b=2&a=1"), "public"), "parameter order does not matter"
    assert tag != caching.etag(RunState("r1", now, 8, None), request(query="a=1&b=2"), "public")
    assert tag != caching.etag(RunState("r2", now, 7, None), request(query="a=1&b=2"), "public")
    assert tag != caching.etag(state, request(query="a=1&b=2"), "reviewer")
    assert caching.not_modified(request({"If-None-Match": f'W/{tag}, "other"'}), tag, now)
    assert caching.not_modified(request({"If-None-Match": "*"}), tag, now)
    assert not caching.not_modified(request({"If-None-Match": '"other"'}), tag, now)
    http_date = format_datetime(now, usegmt=True)
    assert caching.not_modified(request({"If-Modified-Since": http_date}), tag, now)
    assert not caching.not_modified(request({"If-Modified-Since": "Thu, 01 Jan 2026 00:00:00 GMT"}), tag, now)
    assert not caching.not_modified(request({"If-Modified-Since": "yesterday"}), tag, now)
    assert not caching.not_modified(request({"If-None-Match": '"x"', "If-Modified-Since": http_date}), tag, now)
    assert caching.headers(tag, now, private=False)["Last-Modified"] == "Fri, 02 Jan 2026 03:04:05 GMT"


def test_sessions_are_signed_and_expire() -> None:
    guard = Guard({"ana": SecretStr("token-ana-0123456789")})
    cookie = guard.session_cookie("ana")
    reviewer = guard.identify(request(cookies=f"s3text_session={cookie}"))
    assert reviewer is not None and (reviewer.name, reviewer.method) == ("ana", "session")
    label, expires, signature = cookie.split(".")
    for forged in (f"{label}.{int(expires) + 9999}.{signature}", f"{label}.{expires}.{'0' * 64}",
                   guard.session_cookie("ana", now=time.time() - 13 * 3600), "x.y", "", "....",
                   Guard({"ana": SecretStr("another-token-123456")}).session_cookie("ana")):
        assert guard.identify(request(cookies=f"s3text_session={forged}")) is None


def test_wrong_credentials_are_throttled() -> None:
    from fastapi import HTTPException

    guard = Guard({"ana": SecretStr("token-ana-0123456789")})
    for _ in range(10):
        with pytest.raises(HTTPException) as denied:
            guard.identify(request({"Authorization": "Bearer wrong-wrong-wrong"}))
        assert denied.value.status_code == 401
    with pytest.raises(HTTPException) as throttled:
        guard.identify(request({"Authorization": "Bearer token-ana-0123456789"}))
    assert throttled.value.status_code == 429


@pytest.mark.parametrize(("target", "expected"), [
    ("/candidates/abc", "/candidates/abc"), ("//evil.example", "/"), ("https://evil.example", "/"),
    ("/\\evil", "/"), ("", "/"), (None, "/"), ("/a\r\nSet-Cookie: x", "/"),
])
def test_next_stays_on_this_site(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_the_web_package_exports_exactly_all_and_stays_free_of_prefect() -> None:
    import subprocess
    import sys
    import types

    import s3text.web

    public = {n for n in dir(s3text.web)
              if not n.startswith("_") and not isinstance(getattr(s3text.web, n), types.ModuleType)}
    assert public == set(s3text.web.__all__)
    code = ("import sys, s3text.web; bad = [m for m in sys.modules if m.split('.')[0] in ('prefect', 'pipeline')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
