"""Why nothing: an emerging topic without a candidate, and a run without any, say why in the run
summary, the topic page, the API and the report (real small store, real steps)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from s3text import steps
from s3text.diagnosis import REASONS, Reason, run_reason
from s3text.html_report import write_report
from s3text.runinfo import utc_now
from s3text.store import Store
from s3text.web import create_app
from tests.web.conftest import BASE, BEN, Built, small_config, web_config

pytestmark = pytest.mark.slow


def emerging_topics(store_path: Path, run_id: str) -> set[int]:
    with Store(store_path, read_only=True) as store:
        rows = store.query("SELECT topic_id FROM emergence WHERE run_id = ? AND emerging", [run_id])
    return set(rows["topic_id"].astype(int))


def emerging_scores(built: Built) -> list[int]:
    """Every topic the run scored."""
    with Store(built.path, read_only=True) as store:
        return store.query("SELECT topic_id FROM emergence WHERE run_id = ?", [built.run_id])["topic_id"].tolist()


def test_every_emerging_topic_has_a_candidate_or_a_reason(built_store: Built) -> None:
    with Store(built_store.path, read_only=True) as store:
        manifest = json.loads(store.query("SELECT manifest FROM runs WHERE run_id = ?",
                                          [built_store.run_id])["manifest"].iloc[0])
        with_candidates = set(store.query("SELECT DISTINCT topic_id FROM candidates WHERE run_id = ?",
                                          [built_store.run_id])["topic_id"].astype(int))
    emerging = emerging_topics(built_store.path, built_store.run_id)
    assert emerging, "the small corpus has emerging topics (tests/e2e/config_small.yaml)"
    reasons = {int(t): r for t, r in manifest["stages"]["candidates"]["no_candidate_topics"].items()}
    assert set(reasons) == emerging - with_candidates
    assert all(r["code"] in REASONS and r["text"] and r["label"] for r in reasons.values())


@pytest.fixture(scope="module")
def starved(built_store: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The small run's candidates step again with a topic minimum no topic reaches: no candidate at all."""
    folder = tmp_path_factory.mktemp("starved")
    shutil.copy(built_store.path, folder / "s3text.duckdb")
    cfg = small_config(folder, "candidates.min_topic_documents=100000")
    summary = steps.candidates(cfg, built_store.run_id)
    with Store(cfg.store) as store:
        manifest = json.loads(store.query("SELECT manifest FROM runs WHERE run_id = ?",
                                          [built_store.run_id])["manifest"].iloc[0])
        store.finish_run(built_store.run_id, "completed", utc_now(),
                         {**manifest, "stages": {**manifest["stages"], "candidates": summary}})
    mp = pytest.MonkeyPatch()
    mp.setenv("S3TEXT_TEST_TOKEN_BEN", BEN)
    with TestClient(create_app(cfg.store, web_config(), cfg), base_url=BASE) as client:
        yield {"summary": summary, "client": client, "store": cfg.store, "folder": folder}
    mp.undo()


def test_a_run_without_candidates_says_why(built_store: Built, starved: dict[str, Any]) -> None:
    summary = starved["summary"]
    emerging = emerging_topics(built_store.path, built_store.run_id)
    assert summary["candidates"] == 0
    assert {int(t) for t in summary["no_candidate_topics"]} == emerging
    reasons = {int(t): Reason(r["code"], r["text"]) for t, r in summary["no_candidate_topics"].items()}
    # No topic reaches the floor: each breaks there, or earlier in the chain (REASONS' order).
    assert {r.code for r in reasons.values()} <= set(list(REASONS)[:list(REASONS).index("thin_topic") + 1])
    assert any(r.code == "thin_topic" for r in reasons.values())
    assert all("(minimum 100000)" in r.text for r in reasons.values() if r.code == "thin_topic")
    assert summary["why_no_candidates"] == run_reason(topics_scored=len(emerging_scores(built_store)),
                                                      emerging=len(emerging), candidates=0, reasons=reasons)
    assert summary["why_no_candidates"].startswith(f"none of the {len(emerging)} emerging topic")


def test_topic_page_api_and_report_show_the_reason(built_store: Built, starved: dict[str, Any]) -> None:
    reasons = starved["summary"]["no_candidate_topics"]
    topic = min(int(t) for t, r in reasons.items() if r["code"] == "thin_topic")
    reason = reasons[str(topic)]
    page = starved["client"].get(f"/topics/{topic}")
    assert page.status_code == 200 and 'id="no-candidate"' in page.text and reason["text"] in page.text
    api = starved["client"].get(f"/api/v1/topics/{topic}").json()["topic"]
    assert api["no_candidate"] == {"code": "thin_topic", "text": reason["text"]}
    report = write_report(starved["store"], starved["folder"] / "report.html").read_text(encoding="utf-8")
    assert starved["summary"]["why_no_candidates"] in report and reason["text"] in report
