"""The stability step (after candidates): the run's kept share and candidate Jaccard against the
previous completed run (:mod:`s3text.stability`), stored in ``run_stability`` and returned for run.json."""

from __future__ import annotations

from typing import Any

import pandas as pd

from s3text import stability as st
from s3text.config import PipelineConfig
from s3text.store import Store

# Each document's lineage id in a run; outliers (no topics row) give NULL.
_DOC_LINEAGE = ("SELECT d.doc_id, t.lineage_id FROM doc_topics d LEFT JOIN topics t "
                "ON t.run_id = d.run_id AND t.topic_id = d.topic_id WHERE d.run_id = ?")
_CANDIDATE_KEYS = "SELECT candidate_key FROM candidates WHERE run_id = ?"


def stability(cfg: PipelineConfig, run_id: str) -> dict[str, Any]:
    """Compare this run with the last completed one (this run is still running, so never itself)."""
    with Store(cfg.store) as store:
        previous = store.latest_run()
        current_docs = _doc_lineage(store, run_id)
        current_keys = store.query(_CANDIDATE_KEYS, [run_id])["candidate_key"].tolist()
        prev_docs = _doc_lineage(store, previous) if previous is not None else {}
        prev_keys = (store.query(_CANDIDATE_KEYS, [previous])["candidate_key"].tolist()
                     if previous is not None else None)
        figures = st.stability(prev_docs, current_docs, prev_keys, current_keys)
        store.replace_run_table("run_stability", run_id,
                                pd.DataFrame([{"previous_run": previous, **figures.as_dict()}]))
    return {"previous_run": previous, **figures.as_dict()}


def _doc_lineage(store: Store, run_id: str) -> dict[str, str | None]:
    rows = store.query(_DOC_LINEAGE, [run_id])
    return {str(d): (None if pd.isna(lid) else str(lid)) for d, lid in zip(rows["doc_id"], rows["lineage_id"],
                                                                             strict=True)}
