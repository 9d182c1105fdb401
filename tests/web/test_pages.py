"""The review pages on a real store: content, filters, links, hostile text, errors, headers."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from s3text.records import Actor, Document
from s3text.store import Store
from s3text.web import create_app
from tests.web.conftest import BASE, Site, web_config

pytestmark = pytest.mark.slow
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
CLOSE = "</script><script>alert(2)</script>"
TEMPLATES = Path(__file__).resolve().parents[2] / "s3text" / "web" / "templates"


def keys_on(html: str) -> list[str]:
    return re.findall(r'href="/candidates/([0-9a-f]{16})"', html)


@pytest.fixture(scope="module")
def hostile(site: Site) -> str:
    """A hostile document as the evidence of one candidate, hostile labels, a javascript: URL."""
    with Store(site.store) as store:
        key, raw = store.con.execute("SELECT candidate_key, record FROM candidates WHERE run_id = ? "
                                     "ORDER BY score DESC LIMIT 1", [site.run_id]).fetchall()[0]
        doc = Document(source="patentsview_evil", source_kind="patent", native_id="X-1", title=SCRIPT,
                       text=IMG, date=date(2020, 1, 1), provenance_file="evil.csv", provenance_row=2,
                       url="javascript:alert(3)", actors=(Actor(name=IMG, country="FR"),))
        store.add_documents([doc], site.run_id)
        record = json.loads(raw)
        record["evidence"].insert(0, {"doc_id": doc.doc_id, "title": SCRIPT, "source": doc.source, "year": 2020,
                                      "relation": "topic"})
        record["topic_label"], record["explanation"], record["region_name"] = IMG, SCRIPT + CLOSE, IMG
        record["actor_names"] = [SCRIPT]
        store.con.execute("UPDATE candidates SET record = ? WHERE run_id = ? AND candidate_key = ?",
                          [json.dumps(record), site.run_id, key])
        store.con.execute("INSERT INTO topic_series VALUES (?, ?, 2020, 'source', ?, 1)",
                          [site.run_id, record["topic_id"], CLOSE])
    return str(key)


def assert_only_escaped(html: str, *texts: str) -> None:
    for text in texts:
        assert text not in html
    assert "<script>alert" not in html and "<img" not in html and "javascript:" not in html


def test_queue_lists_filters_and_paginates(site: Site) -> None:
    api = site.client.get("/api/v1/candidates", params={"status": "new,accepted,rejected,watch", "limit": 1},
                          auth=("ana", "token-ana-0123456789")).json()
    assert api["total"] >= 2, "two pages need two candidates"
    size = api["total"] // 2  # two pages or three, however many candidates the run has
    with TestClient(create_app(site.store, web_config(page_size=size), site.config()), base_url=BASE) as client:
        first = client.get("/")
        assert first.status_code == 200 and "text/html" in first.headers["content-type"]
        page_one = keys_on(first.text)
        assert len(page_one) == size, "page_size"
        second = client.get("/?page=2")
        assert keys_on(second.text) and set(keys_on(second.text)).isdisjoint(page_one)
        assert 'rel="next"' in first.text and 'rel="prev"' in second.text
    region = api["items"][0]["region"]
    filtered = site.client.get("/", params={"region": region, "kind": "", "topic": "", "min_score": ""})
    assert filtered.status_code == 200 and keys_on(filtered.text)
    assert all(f'/regions/{region}"' in row for row in re.findall(r"<tr>.*?</tr>", filtered.text, re.S)[1:])
    by_group = site.client.get("/", params={"group": region[:2], "sort": "region", "status": "new"})
    assert by_group.status_code == 200 and keys_on(by_group.text)
    assert site.client.get("/", params={"min_score": "abc"}).status_code == 422


def test_candidate_page_shows_everything(site: Site) -> None:
    key = keys_on(site.client.get("/?sort=-score").text)[1]
    html = site.client.get(f"/candidates/{key}").text
    for part in ("Why", "Trend of the topic", "beside its peers", "Related topics", "Partner regions", "Evidence",
                 "Decision", "History", "emergence", "specialisation", "density", "mass"):
        assert part in html
    assert "https://cordis.europa.eu/project/id/" in html
    specs = re.findall(r'<script type="application/json" data-chart="(\w+)">(.*?)</script>', html, re.S)
    assert {name for name, _ in specs} == {"trend", "peers"}
    for _, spec in specs:
        figure = json.loads(spec)
        assert figure["data"] and figure["layout"]
    assert '<script src="/static/vendor/plotly.min.js" defer></script>' in html
    assert "Sign in" in html and 'name="csrf_token"' not in html.split('id="decision"')[1], "no form anonymously"


def test_topic_and_region_pages(site: Site) -> None:
    topics = site.client.get("/topics")
    assert topics.status_code == 200
    topic_id = re.findall(r'href="/topics/(\d+)"', topics.text)[0]
    page = site.client.get(f"/topics/{topic_id}")
    assert page.status_code == 200 and 'data-chart="trend"' in page.text and 'data-chart="regions"' in page.text
    assert "By specialisation (RCA)" in page.text and "By relatedness density" in page.text
    regions = site.client.get("/regions")
    assert regions.status_code == 200
    code = re.findall(r'href="/regions/([A-Z0-9]+)"', regions.text)[0]
    region = site.client.get(f"/regions/{code}")
    assert region.status_code == 200 and "Specialised topics" in region.text and "Emerging opportunities" in region.text
    assert site.client.get("/topics/99999").status_code == 404
    assert site.client.get("/regions/ZZ99").status_code == 404


def test_hostile_text_is_escaped_everywhere(site: Site, hostile: str) -> None:
    page = site.client.get(f"/candidates/{hostile}").text
    assert_only_escaped(page, SCRIPT, IMG, CLOSE)
    assert str(escape(SCRIPT)) in page and str(escape(IMG)) in page
    chart = re.search(r'data-chart="trend">(.*?)</script>', page, re.S)
    assert chart is not None and "<" not in chart.group(1), "JSON in the page escapes < (tojson)"
    evil = site.client.get(f"/api/v1/candidates/{hostile}", auth=("ana", "token-ana-0123456789")).json()
    region, topic = evil["candidate"]["region"], evil["candidate"]["topic_id"]
    for path in ("/", "/?q=onerror", f"/regions/{region}", f"/topics/{topic}"):
        html = site.client.get(path).text
        assert_only_escaped(html, SCRIPT, IMG, CLOSE)
    assert str(escape(CLOSE)) in html, "the hostile source name shows, escaped, in the topic's data table"
    first = evil["candidate"]["evidence"][0]
    assert first["title"] == SCRIPT and first["link"] is None, "data stays verbatim in JSON; no javascript: link"


def test_templates_never_mark_text_safe() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", "") and "autoescape false" not in text, template.name


def test_errors_are_messages_and_headers_are_strict(site: Site) -> None:
    missing = site.client.get("/candidates/0123456789abcdef")
    assert missing.status_code == 404 and "No candidate with this key" in missing.text
    assert "Traceback" not in missing.text and "text/html" in missing.headers["content-type"]
    assert site.client.get("/nowhere").status_code == 404
    assert site.client.post("/").status_code == 405
    assert site.client.get("/", headers={"Host": "rebound.example:8484"}).status_code == 400, "DNS rebinding"
    assert site.client.get("/", headers={"Host": "localhost:8484"}).status_code == 200
    headers = site.client.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"


def test_static_files_are_local(site: Site) -> None:
    plotly = site.client.get("/static/vendor/plotly.min.js")
    assert plotly.status_code == 200 and b"plotly.js" in plotly.content[:200]
    assert site.client.get("/static/app.js").status_code == 200
    assert site.client.get("/static/app.css").status_code == 200
    html = site.client.get("/topics/0").text
    assert "cdn." not in html and "https://" not in html.split("<main>")[0]


def test_unexpected_errors_hide_the_traceback(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from s3text.web import catalog

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(catalog, "topic_list", boom)
    page = site.client.get("/topics")
    api = site.client.get("/api/v1/topics")
    assert page.status_code == api.status_code == 500
    assert "secret internals" not in page.text + api.text and "Traceback" not in page.text + api.text
    assert api.json()["error"]["message"].startswith("Something went wrong")
