"""``s3text report``: one self-contained HTML file that loads nothing and shows hostile text as text."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from s3text.html_report import write_report
from s3text.review import decide
from s3text.store import Store
from tests.support import CONFIG
from tests.unit.test_exports import copy_store, top_candidate

HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_NOTE = '<img src=x onerror="alert(2)"> watch the partners'


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, small_run_store: tuple[Path, str]) -> dict[str, Any]:
    path = copy_store(tmp_path_factory, small_run_store[0], "report")
    with Store(path) as store:
        top = top_candidate(store)
        decide(store, candidate_key=top["candidate_key"], status="watch", reviewer="ana", note=HOSTILE_NOTE,
               record=top)
        store.con.execute("UPDATE documents SET title = ? WHERE doc_id = ?",
                          [HOSTILE_TITLE, top["evidence"][0]["doc_id"]])
        run = store.query("SELECT run_id, config_hash FROM runs").iloc[0]
        regions = store.query("SELECT region, count(*) AS n FROM candidates GROUP BY region")
    out = write_report(path, tmp_path_factory.mktemp("report_out") / "report.html")
    html = out.read_text(encoding="utf-8")
    parser = Tags()
    parser.feed(html)
    return {"html": html, "tags": parser.tags, "text": "".join(parser.text), "top": top, "run_id": run["run_id"],
            "config_hash": run["config_hash"], "regions": regions, "store": path, "path": out}


def test_hostile_text_is_escaped(report: dict[str, Any]) -> None:
    html = report["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HOSTILE_TITLE in report["text"], "shown to the reader as text"
    assert "<script" not in html.lower()
    assert "&lt;img src=x onerror=" in html and "<img" not in html.lower()
    assert not [t for t, attrs in report["tags"] if any(k.startswith("on") for k in attrs)], "no event handler"


def test_the_file_loads_nothing_from_outside(report: dict[str, Any]) -> None:
    html = report["html"].lower()
    assert "<link" not in html and "@import" not in html and "url(http" not in html and "<iframe" not in html
    csp = [a["content"] for t, a in report["tags"] if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in str(csp[0])
    for tag, attrs in report["tags"]:
        assert "src" not in attrs, tag
        for key in ("href", "xlink:href"):
            value = attrs.get(key)
            if value is not None and tag != "a":
                assert value.startswith("#"), (tag, value)  # SVG glyph and clip references only
    links = [a["href"] for t, a in report["tags"] if t == "a" and a.get("href")]
    assert all(str(h).startswith(("#", "https://", "http://")) for h in links)
    assert any(str(h).startswith("https://cordis.europa.eu/project/id/") for h in links), "evidence links"


def test_summary_candidates_and_charts(report: dict[str, Any]) -> None:
    html, top = report["html"], report["top"]
    assert report["run_id"] in html and report["config_hash"] in html
    assert html.count("<svg") >= 2, "trend chart and per-source chart inline"
    assert top["candidate_key"] and top["explanation"].split(";")[0] in report["text"]
    sections = [a["id"] for t, a in report["tags"] if t == "section"]
    assert len(sections) == len(report["regions"])
    shown = sum(1 for t, a in report["tags"] if t == "div" and a.get("class") == "candidate")
    assert shown == sum(min(3, int(n)) for n in report["regions"]["n"])
    assert 'class="badge s-watch">watch</span>' in html and "Reviewed by ana" in html


def test_report_for_a_named_run_and_cli(report: dict[str, Any], tmp_path: Path) -> None:
    from pipeline.cli import app

    again = write_report(report["store"], tmp_path / "named.html", run_id=report["run_id"], per_region=1)
    assert again.read_text(encoding="utf-8").count('<div class="candidate">') == len(report["regions"])
    out = tmp_path / "cli" / "report.html"
    result = CliRunner().invoke(app, ["report", "--out", str(out), "--config", str(CONFIG),
                                      "--set", f"store={report['store']}"])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert report["run_id"] in out.read_text(encoding="utf-8")
