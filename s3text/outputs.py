"""The run's output step: candidates.csv/json, topics.csv and the topic-trend plot, written after every refresh."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from s3text.candidate_record import export_columns, export_row
from s3text.config import PipelineConfig
from s3text.review import current_decisions, with_review_state
from s3text.store import Store
from s3text.writers import list_cell, write_csv, write_json

logger = logging.getLogger(__name__)

# candidates.csv: the export's candidate columns (from the record) and the evidence titles.
CANDIDATE_CSV_COLUMNS = [*export_columns(), "evidence_titles"]


def load_candidates(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The run's candidates, each with its analysts' review state (status ``new`` when undecided)."""
    rows = store.query("SELECT record FROM candidates WHERE run_id = ? ORDER BY score DESC, candidate_key",
                       [run_id])
    return with_review_state([json.loads(r) for r in rows["record"]], current_decisions(store))


def load_below_minimum(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The run's (region, topic) pairs below the evidence minimums: never flagged, never reviewed."""
    rows = store.query("SELECT record FROM candidates_below_minimum WHERE run_id = ? "
                       "ORDER BY score DESC, candidate_key", [run_id])
    return [json.loads(r) for r in rows["record"]]


def candidates_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    kinds = export_columns()
    flat = []
    for r in records:
        row = {c: list_cell(v, " | ") if kinds[c].startswith("list_") and v is not None else v
               for c, v in export_row(r).items()}
        flat.append({**row, "evidence_titles": list_cell([e["title"] for e in r["evidence"]], " | ")})
    return pd.DataFrame(flat, columns=CANDIDATE_CSV_COLUMNS)


def yearly_counts(store: Store, run_id: str) -> dict[int, dict[int, int]]:
    """Documents per topic and year of a run: {topic_id: {year: count}}, years ascending, no zeros."""
    periods = store.query("SELECT topic_id, period, count FROM topic_periods WHERE run_id = ? AND count > 0 "
                          "ORDER BY topic_id, period", [run_id])
    return {int(t): {int(p): int(c) for p, c in zip(g["period"], g["count"], strict=True)}
            for t, g in periods.groupby("topic_id")}


def topics_frame(store: Store, run_id: str) -> pd.DataFrame:
    topics = store.query("SELECT topic_id, lineage_id, label, top_terms, size, coherence FROM topics "
                         "WHERE run_id = ? ORDER BY topic_id", [run_id])
    scores = store.query("SELECT topic_id, metrics, score, emerging FROM emergence WHERE run_id = ?", [run_id])
    per_year = yearly_counts(store, run_id)
    metrics = {int(t): json.loads(m) for t, m in zip(scores["topic_id"], scores["metrics"], strict=True)}
    score_of = dict(zip(scores["topic_id"].astype(int), scores["score"], strict=True))
    emerging = dict(zip(scores["topic_id"].astype(int), scores["emerging"], strict=True))
    topics["first_year"] = [min(per_year.get(t, {0: 0})) for t in topics["topic_id"]]
    topics["last_year"] = [max(per_year.get(t, {0: 0})) for t in topics["topic_id"]]
    topics["counts_per_year"] = [json.dumps(per_year.get(t, {})) for t in topics["topic_id"]]
    for key in ("growth", "novelty", "persistence", "escore", "porter_emerging", "in_burst_at_end", "quadrant",
                "actors_recent", "regions_recent", "diffusion"):
        topics[key] = [metrics.get(int(t), {}).get(key) for t in topics["topic_id"]]
    topics["emergence_score"] = [score_of.get(int(t)) for t in topics["topic_id"]]
    topics["emerging"] = [bool(emerging.get(int(t), False)) for t in topics["topic_id"]]
    return topics


def export(cfg: PipelineConfig, run_id: str) -> dict[str, Any]:
    out = Path(cfg.out_dir)
    with Store(cfg.store) as store:
        records = load_candidates(store, run_id)
        topics = topics_frame(store, run_id)
        periods = store.query("SELECT topic_id, period, count FROM topic_periods WHERE run_id = ?", [run_id])
        totals = store.query(
            "SELECT d.year AS period, count(*) AS n FROM doc_topics t JOIN documents d USING (doc_id) "
            "WHERE t.run_id = ? GROUP BY d.year", [run_id])
        metrics = store.query("SELECT metrics FROM emergence WHERE run_id = ? LIMIT 1", [run_id])
        below = load_below_minimum(store, run_id)
    write_csv(candidates_frame(records), out / "candidates.csv")
    write_json(records, out / "candidates.json")
    write_json(below, out / "candidates_below_minimum.json")
    write_csv(topics, out / "topics.csv")
    plot_path = out / "topic_trends.png"
    try:
        from s3text.plots import plot_topic_trends

        end_years = [json.loads(m).get("end_year") for m in metrics["metrics"]]
        plot_topic_trends(topics, periods, totals, plot_path, end_year=end_years[0] if end_years else None,
                          recent_years=cfg.emergence.recent_years)
    except ImportError:  # matplotlib is an install requirement; a trimmed install still exports data
        logger.warning("matplotlib missing: %s not drawn", plot_path)
    return {"candidates_written": len(records), "below_minimum_written": len(below), "topics_written": len(topics),
            "files": [str(out / n) for n in ("candidates.csv", "candidates.json", "candidates_below_minimum.json",
                                             "topics.csv", "topic_trends.png")]}
