"""The capacity step on a small real store: document vs actor weighting, groupings, stored tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from s3text import steps
from s3text.config import PipelineConfig, load_config
from s3text.records import Actor, Document
from s3text.store import Store

RUN = "run-1"


def _doc(i: int, *actors: Actor) -> Document:
    return Document(source="t", source_kind="project", native_id=str(i), title=f"Project {i}", text="text",
                    date=date(2020, 1, 1), provenance_file="f.csv", provenance_row=i + 1, actors=actors)


@pytest.fixture()
def store_cfg(tmp_path: Path, root: Path) -> PipelineConfig:
    cfg = load_config(root / "configs/default.yaml", [f"store={tmp_path / 's.duckdb'}", "capacity.min_count=1"]
                      ).resolve_paths(root)
    munich = [Actor(name=f"Munich lab {k}", country="DE", nuts_code="DE212") for k in range(3)]
    milan = Actor(name="Milan lab", country="IT", nuts_code="ITC4C")
    lyon = Actor(name="Lyon lab", country="FR", nuts_code="FRK26")
    docs = [_doc(0, *munich), _doc(1, milan), _doc(2, milan, lyon), _doc(3, lyon)]
    with Store(cfg.store) as store:
        store.add_documents(docs, RUN)
        store.replace_run_table("doc_topics", RUN, pd.DataFrame({
            "doc_id": [d.doc_id for d in docs], "topic_id": [0, 0, 1, 1], "probability": 1.0}))
    steps.regions(cfg, RUN)
    return cfg


def _counts(cfg: PipelineConfig) -> dict[tuple[str, int], int]:
    with Store(cfg.store) as store:
        rows = store.query("SELECT region, topic_id, count FROM region_topics WHERE run_id = ?", [RUN])
    return {(r.region, int(r.topic_id)): int(r.count) for r in rows.itertuples() if r.count}


def test_document_weighting_counts_a_document_once_per_unit(store_cfg: PipelineConfig) -> None:
    steps.capacity(store_cfg, RUN)
    # Bavaria is a grouping in the default config (DE2); Milan is ITC4, Lyon FRK2.
    assert _counts(store_cfg) == {("Bavaria", 0): 1, ("ITC4", 0): 1, ("ITC4", 1): 1, ("FRK2", 1): 2}
    with Store(store_cfg.store) as store:
        assert store.count("topic_complexity") == 2
        ext = store.query("SELECT specialised, density_ext FROM region_topics WHERE run_id = ?", [RUN])
    assert ext[ext["specialised"]]["density_ext"].isna().all(), "density_ext is null where specialised"


def test_actor_weighting_counts_each_participating_actor(store_cfg: PipelineConfig) -> None:
    cfg = store_cfg.model_copy(update={"capacity": store_cfg.capacity.model_copy(update={"weighting": "actors"})})
    steps.capacity(cfg, RUN)
    assert _counts(cfg) == {("Bavaria", 0): 3, ("ITC4", 0): 1, ("ITC4", 1): 1, ("FRK2", 1): 2}
