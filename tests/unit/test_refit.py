"""Refreshes that keep the topics: assignment, drift, refit triggers (pure functions) and the topics
step on the small real corpus (a forced refit continues lineage; a changed setting forces a refit)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from s3text import refit
from s3text.config import TopicsConfig, load_config
from s3text.store import Store
from tests.support import CONFIG, ROOT

CENTROIDS = pd.DataFrame([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], index=pd.Index([4, 7]))


def test_nearest_centroid_with_a_minimum_similarity() -> None:
    emb = np.array([[0.9, 0.1, 0.0], [0.1, 0.9, 0.1], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    topics, sims = refit.assign_nearest(emb, CENTROIDS, min_similarity=0.5)
    assert topics.tolist() == [4, 7, -1, 4]  # the last is a tie: the smaller topic id wins
    assert sims[2] == pytest.approx(0.0)
    shuffled = CENTROIDS.iloc[::-1]
    assert refit.assign_nearest(emb[::-1], shuffled, 0.5)[0].tolist() == topics[::-1].tolist()
    assert refit.assign_nearest(emb, CENTROIDS, min_similarity=0.995)[0].tolist() == [-1, -1, -1, -1]
    none, _ = refit.assign_nearest(np.empty((0, 3)), CENTROIDS, 0.5)
    assert none.tolist() == []
    with pytest.raises(ValueError, match="dimensions"):
        refit.assign_nearest(np.ones((1, 2)), CENTROIDS, 0.5)


def test_wilson_lower_bound_needs_evidence() -> None:
    assert refit.wilson_lower(0, 0, 0.95) == 0.0
    assert refit.wilson_lower(3, 3, 0.95) < 0.6 < refit.wilson_lower(90, 100, 0.95)  # 3 of 3 is no proof
    assert refit.wilson_lower(50, 100, 0.95) < 0.5 < refit.wilson_lower(500, 600, 0.95)


def test_drift_new_share_outliers_and_centroid_movement() -> None:
    emb = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.0, 0.8], [0.0, 0.0, 1.0]])
    topics = np.array([4, 4, 7, 4, -1])
    new = np.array([False, False, False, True, True])
    drift = refit.measure_drift(topics, emb, new, 2, CENTROIDS, {4: "L4", 7: "L7"}, 0.95)
    assert (drift.documents, drift.new_since_fit, drift.new_outliers, drift.removed_since_fit) == (5, 2, 1, 2)
    assert drift.new_share == pytest.approx(0.4) and drift.new_outlier_share == pytest.approx(0.5)
    mean = np.array([2.6, 0.0, 0.8]) / np.linalg.norm([2.6, 0.0, 0.8])
    assert drift.min_centroid_similarity == pytest.approx(mean[0]) and drift.moved_lineage == "L4"
    assert json.dumps(drift.as_dict())


def reference(fingerprint: str = "fp", served: int = 1, age: float = 0.5) -> refit.Reference:
    return refit.Reference("fit-run", fingerprint, age, served)


def test_refit_triggers_before_assignment() -> None:
    auto = TopicsConfig()
    assert refit.schedule_reasons(auto, None, "fp") == ["no reference fit"]
    assert refit.schedule_reasons(auto, reference(), "fp") == []
    assert refit.schedule_reasons(TopicsConfig(refit="always"), reference(), "fp") == ["topics.refit is always"]
    changed = refit.schedule_reasons(TopicsConfig(refit="never"), reference("old"), "fp")
    assert len(changed) == 1 and "changed" in changed[0]  # even "never": the reference is of other settings
    assert refit.schedule_reasons(TopicsConfig(refit_every_runs=3), reference(served=2), "fp") == []
    assert "schedule" in refit.schedule_reasons(TopicsConfig(refit_every_runs=3), reference(served=3), "fp")[0]
    assert "days old" in refit.schedule_reasons(TopicsConfig(refit_after_days=0.25), reference(), "fp")[0]
    assert refit.schedule_reasons(TopicsConfig(refit="never", refit_every_runs=1), reference(served=9), "fp") == []


def drift(new_share: float = 0.01, outliers: float = 0.0, centroid: float = 0.99) -> refit.Drift:
    return refit.Drift(300, 3, new_share, 0, outliers, outliers, 0, centroid, "L")


def test_refit_triggers_from_drift() -> None:
    cfg = TopicsConfig(refit_max_new_share=0.2, refit_max_new_outlier_share=0.6, refit_min_centroid_similarity=0.9)
    assert refit.drift_reasons(cfg, drift()) == []
    assert "new since the fit" in refit.drift_reasons(cfg, drift(new_share=0.25))[0]
    assert "outlier share" in refit.drift_reasons(cfg, drift(outliers=0.7))[0]
    assert "moved" in refit.drift_reasons(cfg, drift(centroid=0.85))[0]
    assert refit.drift_reasons(cfg, drift(centroid=math.nan)) == ["no topic of the reference fit has a document left"]
    assert refit.drift_reasons(TopicsConfig(refit="never"), drift(new_share=0.9, centroid=0.1)) == []


def test_fingerprint_follows_fit_settings_only() -> None:
    base = load_config(CONFIG)
    fp = refit.fit_fingerprint(base, "model@1")
    assert refit.fit_fingerprint(load_config(CONFIG, ["topics.lineage_min_similarity=0.9", "topics.refit=never",
                                                      "topics.assign_min_similarity=0.3"]), "model@1") == fp
    assert refit.fit_fingerprint(load_config(CONFIG, ["topics.min_df=3"]), "model@1") != fp
    assert refit.fit_fingerprint(load_config(CONFIG, ["topics.seed=7"]), "model@1") != fp
    assert refit.fit_fingerprint(base, "model@2") != fp
    assert refit.fit_fingerprint(load_config(CONFIG, ["normalise.supported_languages=[en]"]), "model@1") != fp


def test_carry_keeps_unchanged_documents_only() -> None:
    previous = pd.DataFrame({"doc_id": ["a", "b", "c"], "content_hash": ["ha", "hb", "hc"], "topic_id": [3, -1, 5],
                             "probability": [0.9, 0.0, 0.4]})
    kept, topics, probs = refit.carry_assignment(["a", "b", "c", "d"], ["ha", "hb", "hc-changed", "hd"], previous)
    assert kept.tolist() == [True, True, False, False]  # c's text changed: assigned afresh, like the new d
    assert topics.tolist()[:2] == [3, -1] and probs[0] == pytest.approx(0.9) and np.isnan(probs[3])


def test_carried_events_continue_and_end() -> None:
    prev = pd.DataFrame([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], index=pd.Index(["L4", "L7"]))
    current = pd.DataFrame([[0.8, 0.6, 0.0]], index=pd.Index([4]))
    events = refit.carried_events({4: "L4", 7: "L7"}, prev, current, {"L4": {"a", "b"}, "L7": {"c"}},
                                  {4: {"a", "b", "d"}})
    assert events[["lineage_id", "event"]].values.tolist() == [["L4", "continued"], ["L7", "ended"]]
    assert events["similarity"].iloc[0] == pytest.approx(0.8)
    assert events["jaccard"].iloc[0] == pytest.approx(1.0)  # d is new, c left the topics: neither counts


@pytest.mark.slow
def test_forced_refit_continues_lineage_and_a_changed_setting_refits(small_run_store: tuple[Path, str],
                                                                     tmp_path: Path) -> None:
    from s3text import steps
    from tests.support import record_run, small_config

    path, first = small_run_store
    shutil.copy(path, tmp_path / "s3text.duckdb")
    cfg = small_config(tmp_path)
    with Store(cfg.store, read_only=True) as store:
        before = store.query("SELECT doc_id, topic_id FROM doc_topics WHERE run_id = ? ORDER BY doc_id", [first])
        ids = set(store.query("SELECT lineage_id FROM topics WHERE run_id = ?", [first])["lineage_id"])
    assigned = record_run(cfg, (steps.topics,))
    forced = record_run(small_config(tmp_path, "topics.refit=always"), (steps.topics,))
    changed = record_run(small_config(tmp_path, "topics.top_terms=8", "topics.refit=never"), (steps.topics,))
    with Store(cfg.store, read_only=True) as store:
        runs = store.query("SELECT run_id, mode, fit_run_id, reasons FROM topic_runs").set_index("run_id")
        forced_ids = set(store.query("SELECT lineage_id FROM topics WHERE run_id = ?", [forced])["lineage_id"])
        events = store.query("SELECT event FROM topic_lineage WHERE run_id = ?", [forced])["event"]
        kept = store.query("SELECT doc_id, topic_id FROM doc_topics WHERE run_id = ? ORDER BY doc_id", [assigned])
    assert (runs.loc[assigned, "mode"], runs.loc[assigned, "fit_run_id"]) == ("assign", first)
    assert kept.equals(before)  # no new document: every topic kept
    assert runs.loc[forced, "mode"] == "refit" and json.loads(runs.loc[forced, "reasons"]) == ["topics.refit is always"]
    # The same data and seed refit to the same topics: lineage continues, every id carried.
    assert set(events) == {"continued"} and forced_ids == ids
    assert runs.loc[changed, "mode"] == "refit" and "changed" in json.loads(runs.loc[changed, "reasons"])[0]
    assert runs.loc[changed, "fit_run_id"] == changed


def test_default_yaml_states_every_refit_setting() -> None:
    text = (ROOT / "configs" / "default.yaml").read_text()
    for key in ("refit:", "refit_every_runs:", "refit_after_days:", "assign_min_similarity:", "refit_max_new_share:",
                "refit_max_new_outlier_share:", "refit_outlier_confidence:", "refit_min_centroid_similarity:"):
        assert key in text
