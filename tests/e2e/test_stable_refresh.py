"""Keys from content and refreshes that keep the topics, on the small real corpus with the real model:
two stores built from scratch agree byte for byte; re-adding 3 documents assigns them and keeps every
earlier document's topic (issue 11, items 1 and 2)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from bench.holdout import held_out, without
from s3text.outputs import export
from s3text.store import Store
from tests.support import ANALYSE, PREPARE, record_run, small_config

pytestmark = pytest.mark.slow
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)?")


def summary(store_path: Path, run_id: str) -> dict[str, Any]:
    with Store(store_path, read_only=True) as store:
        manifest = store.query("SELECT manifest FROM runs WHERE run_id = ?", [run_id])["manifest"].iloc[0]
    return dict(json.loads(manifest)["stages"])


def keys(store_path: Path, run_id: str) -> tuple[list[str], list[str]]:
    with Store(store_path, read_only=True) as store:
        lineage = store.query("SELECT lineage_id FROM topics WHERE run_id = ? ORDER BY 1", [run_id])["lineage_id"]
        cands = store.query("SELECT candidate_key FROM candidates WHERE run_id = ? ORDER BY 1", [run_id])
    return lineage.tolist(), cands["candidate_key"].tolist()


def exported(folder: Path, run_id: str) -> str:
    """candidates.json of the run with its run id and timestamps blanked."""
    cfg = small_config(folder)
    export(cfg, run_id)
    text = (cfg.out_dir / "candidates.json").read_text(encoding="utf-8")
    return STAMP.sub("<time>", text.replace(run_id, "<run>"))


def test_two_stores_built_from_scratch_give_the_same_keys_and_candidates(small_run_store: tuple[Path, str],
                                                                         tmp_path: Path) -> None:
    path, first_run = small_run_store
    (tmp_path / "a").mkdir()
    shutil.copy(path, tmp_path / "a" / "s3text.duckdb")
    second_run = record_run(small_config(tmp_path / "b"), PREPARE + ANALYSE)
    first_lineage, first_keys = keys(tmp_path / "a" / "s3text.duckdb", first_run)
    second_lineage, second_keys = keys(tmp_path / "b" / "s3text.duckdb", second_run)
    assert first_lineage and first_lineage == second_lineage  # ids from content, not from the run
    assert first_keys and first_keys == second_keys
    # Every byte of the analyst's file agrees apart from run ids and timestamps.
    assert exported(tmp_path / "a", first_run) == exported(tmp_path / "b", second_run)


def test_re_adding_three_documents_assigns_them_and_keeps_every_earlier_topic(small_run_store: tuple[Path, str],
                                                                             tmp_path: Path) -> None:
    path, _ = small_run_store
    with Store(path, read_only=True) as store:  # documents whose return changes no other document's status
        eligible = store.query(
            "SELECT d.doc_id FROM documents d JOIN normalised n USING (doc_id) WHERE n.status = 'ok' "
            "AND d.source = 'cordis_fp7' AND d.doc_id NOT IN (SELECT duplicate_of FROM normalised "
            "WHERE duplicate_of IS NOT NULL) AND d.doc_id NOT IN (SELECT doc_id FROM near_duplicates) "
            "AND d.doc_id NOT IN (SELECT other_id FROM near_duplicates)")["doc_id"]
    full = small_config(tmp_path)
    held, _ = held_out(full, count=3, eligible=set(eligible))
    assert len(held) == 3
    fewer = without(full, held, tmp_path / "data")
    with Store(full.store) as store:  # the same vectors the full store computed: skip recomputing them
        store.import_embeddings(path)
    first = record_run(fewer, PREPARE + ANALYSE)
    second = record_run(full, PREPARE + ANALYSE)
    stages = summary(full.store, second)
    topics, stability = stages["topics"], stages["stability"]
    assert stages["ingest"]["documents_new"] == 3
    assert (topics["mode"], topics["reasons"], topics["fit_run_id"]) == ("assign", [], first)
    assert topics["documents_assigned"] == 3 and topics["drift"]["new_since_fit"] == 3
    assert set(topics["lineage"]) == {"continued"}
    with Store(full.store, read_only=True) as store:
        before = store.query("SELECT doc_id, topic_id FROM doc_topics WHERE run_id = ?", [first])
        after = store.query("SELECT doc_id, topic_id, assigned_by FROM doc_topics WHERE run_id = ?", [second])
        stored = store.query("SELECT * EXCLUDE (run_id) FROM run_stability WHERE run_id = ?", [second])
        keys = [set(store.query("SELECT candidate_key FROM candidates WHERE run_id = ?", [r])["candidate_key"])
                for r in (first, second)]
    merged = before.merge(after, on="doc_id", how="left", suffixes=("_before", "_after"))
    assert len(merged) == stability["earlier_documents"] > 0
    assert (merged["topic_id_before"] == merged["topic_id_after"]).all()  # every earlier document keeps its topic
    assert set(after.loc[~after["doc_id"].isin(before["doc_id"]), "doc_id"]) == {d.doc_id for d in held}
    assert stability["previous_run"] == first
    assert stability["kept_share"] >= 0.99 and stability["kept_documents"] == stability["earlier_documents"]
    assert stability["candidate_jaccard"] is not None and 0 <= stability["candidate_jaccard"] <= 1
    assert keys[0] | keys[1], "the small corpus flags candidates"
    assert stability["candidate_jaccard"] == pytest.approx(len(keys[0] & keys[1]) / len(keys[0] | keys[1]), abs=1e-4)
    assert stored.iloc[0]["kept_share"] == stability["kept_share"]
    assert stored.iloc[0]["candidate_jaccard"] == pytest.approx(stability["candidate_jaccard"])
