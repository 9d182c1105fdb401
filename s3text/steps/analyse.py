"""Analysis steps: emergence, regional capacity and candidates, from one run's topics."""

from __future__ import annotations

import json
import logging
from typing import Any

import pandas as pd

from s3text import candidates as cand
from s3text import capacity as cap
from s3text import emergence as em
from s3text import lenses
from s3text.config import PipelineConfig
from s3text.regions import NutsTable, load_region_sets
from s3text.store import Store
from s3text.topics import OUTLIER
from s3text.units import RegionUnits

logger = logging.getLogger(__name__)


def _doc_topics(store: Store, run_id: str) -> pd.DataFrame:
    return store.query(
        "SELECT t.doc_id, t.topic_id, t.probability, d.year, d.date FROM doc_topics t "
        "JOIN documents d USING (doc_id) WHERE t.run_id = ?", [run_id]
    )


def emergence(cfg: PipelineConfig, run_id: str) -> dict[str, Any]:
    """Score every topic: growth/novelty/persistence, Porter's EScore, and the lenses (bursts,
    growth-vs-magnitude quadrant, community of actors and regions, diffusion across sources)."""
    e = cfg.emergence
    with Store(cfg.store) as store:
        docs = _doc_topics(store, run_id)
        kinds = store.query("SELECT doc_id, source_kind FROM documents")
        actors = store.query("SELECT DISTINCT doc_id, actor_id FROM document_actors")
        regions = _doc_regions(store, cfg)
    # Every document stays (left joins): a topic's community counts actors and regions where known.
    entities = (docs[["doc_id", "topic_id", "year"]].merge(kinds, on="doc_id")
                .merge(actors, on="doc_id", how="left").merge(regions, on=["doc_id", "actor_id"], how="left"))
    counts = em.year_counts(docs[["topic_id", "year"]])
    totals = em.year_totals(docs["year"])
    scores = em.score_emergence(counts, totals, e)
    if len(scores):
        end = int(scores["end_year"].iloc[0])
        scores = scores.join([
            em.porter_escore(counts, totals, end_year=end).drop(columns="end_year"),
            lenses.burst_summary(counts, totals, cfg.lenses, end_year=end).drop(columns="end_year"),
            lenses.quadrant(counts, totals, start=end - e.recent_years - e.base_years + 1, end=end, cfg=cfg.lenses),
            lenses.community(entities, end_year=end, recent_years=e.recent_years, base_years=e.base_years,
                             cfg=cfg.lenses).drop(columns="end_year"),
            lenses.diffusion(entities.drop_duplicates("doc_id")[["doc_id", "topic_id", "year", "source_kind"]],
                             end_year=end, cfg=cfg.lenses).drop(columns="end_year"),
        ])
    metrics = scores.drop(columns=["score", "emerging"]).astype(object).where(scores.notna(), None)
    frame = pd.DataFrame({
        "topic_id": scores.index.astype(int),
        "metrics": [json.dumps(r, default=_json_default) for r in metrics.to_dict(orient="records")],
        "score": scores["score"].astype(float), "emerging": scores["emerging"].astype(bool),
    })
    with Store(cfg.store) as store:
        store.replace_run_table("emergence", run_id, frame)
    return {"topics_scored": len(scores), "emerging_topics": int(scores["emerging"].sum()),
            "in_burst": int(scores.get("in_burst_at_end", pd.Series(dtype=bool)).sum()),
            "end_year": int(scores["end_year"].iloc[0]) if len(scores) else None}


def _doc_regions(store: Store, cfg: PipelineConfig) -> pd.DataFrame:
    """(doc_id, actor_id, region): each document's actors in their analysis unit (NUTS code cut to
    ``regions.level``, or a named grouping); actors placed too coarsely have no unit."""
    links = store.query(
        "SELECT DISTINCT l.doc_id, l.actor_id, r.nuts_code, r.level FROM document_actors l "
        "JOIN actor_regions r USING (actor_id) WHERE r.nuts_code IS NOT NULL"
    )
    links["region"] = _units(cfg).assign(links)
    return links.dropna(subset=["region"])[["doc_id", "actor_id", "region"]].drop_duplicates()


def _units(cfg: PipelineConfig) -> RegionUnits:
    return RegionUnits(level=cfg.regions.level, groupings=cfg.regions.groupings)


def capacity(cfg: PipelineConfig, run_id: str) -> dict[str, Any]:
    """Region × topic counts → RCA, specialisation, topic relatedness and relatedness density."""
    c = cfg.capacity
    _units(cfg).check(NutsTable.load(cfg.regions.nuts_table, cfg.regions.nuts_version))  # fail before any work
    with Store(cfg.store) as store:
        links = _doc_regions(store, cfg).merge(_doc_topics(store, run_id)[["doc_id", "topic_id"]], on="doc_id")
    links = links[links["topic_id"] != OUTLIER]
    counts = cap.region_topic_counts(links[["doc_id", "region"]], links[["doc_id", "topic_id"]])
    entity = "actor_id" if c.cooccurrence_basis == "actors" else "region"
    incidence = pd.crosstab(links[entity], links["topic_id"]).clip(upper=1)
    table = cap.capacity_table(counts, c, incidence)
    actors = links.groupby(["region", "topic_id"])["actor_id"].nunique().rename("actors").reset_index()
    table = table.merge(actors, on=["region", "topic_id"], how="left").fillna({"actors": 0})
    with Store(cfg.store) as store:
        store.replace_run_table("region_topics", run_id, table[[
            "region", "topic_id", "count", "actors", "rca", "specialised", "density"]])
    return {"regions": int(table["region"].nunique()), "region_topic_cells": len(table),
            "specialisations": int(table["specialised"].sum())}


def candidates(cfg: PipelineConfig, run_id: str) -> dict[str, Any]:
    """Flag candidates and store each as one JSON record with its explanation and evidence."""
    c = cfg.candidates
    with Store(cfg.store) as store:
        scores = store.query("SELECT topic_id, score, emerging FROM emergence WHERE run_id = ?", [run_id])
        table = store.query("SELECT * EXCLUDE (run_id) FROM region_topics WHERE run_id = ?", [run_id])
        topic_info = store.query("SELECT topic_id, label, top_terms FROM topics WHERE run_id = ?", [run_id])
        links = _doc_regions(store, cfg).merge(_doc_topics(store, run_id), on="doc_id")
        links = links[links["topic_id"] != OUTLIER]
        titles = store.query("SELECT doc_id, title, source, year FROM documents").set_index("doc_id")
    entity = "actor_id" if cfg.capacity.cooccurrence_basis == "actors" else "region"
    phi = cap.relatedness(cap.co_occurrence(pd.crosstab(links[entity], links["topic_id"]).clip(upper=1)),
                          cfg.capacity.relatedness)
    nuts = NutsTable.load(cfg.regions.nuts_table, cfg.regions.nuts_version)
    units = _units(cfg)
    region_sets = load_region_sets(cfg.regions.region_sets)
    allowed = None
    if c.region_set is not None:
        codes = region_sets[c.region_set]
        allowed = {r for r in table["region"].unique() if units.in_set(r, codes)}
    flagged = cand.flag_candidates(
        emergence=scores.set_index("topic_id"), capacity=table, relatedness=phi,
        actor_topics=links[["region", "actor_id", "topic_id"]].drop_duplicates(),
        topic_terms=topic_info.set_index("topic_id")["top_terms"], cfg=c, regions=allowed,
    )
    evidence = cand.select_evidence(flagged, links[["doc_id", "region", "topic_id", "probability", "date"]],
                                    n=c.evidence_documents)
    labels = topic_info.set_index("topic_id")["label"]
    records = []
    for _, row in flagged.iterrows():
        record = row.to_dict()
        record["region_name"] = units.label(row["region"], nuts)
        record["topic_label"] = str(labels.get(row["topic_id"], ""))
        record["related_topic_labels"] = [str(labels.get(t, t)) for t in row["related_topics"]]
        record["explanation"] = cand.explain(row, region_name=record["region_name"],
                                             topic_label=record["topic_label"],
                                             related_labels=record["related_topic_labels"])
        record["evidence"] = [
            {"doc_id": d, "title": str(titles.at[d, "title"]), "source": str(titles.at[d, "source"]),
             "year": int(titles.at[d, "year"])}
            for d in evidence[row["candidate_key"]]
        ]
        records.append(record)
    frame = pd.DataFrame({
        "candidate_key": [r["candidate_key"] for r in records], "region": [r["region"] for r in records],
        "topic_id": [int(r["topic_id"]) for r in records], "kind": [r["kind"] for r in records],
        "score": [float(r["score"]) for r in records],
        "record": [json.dumps(r, default=_json_default, ensure_ascii=False) for r in records],
    })
    with Store(cfg.store) as store:
        store.replace_run_table("candidates", run_id, frame)
    return {"candidates": len(frame), "strengthen": int((frame["kind"] == "strengthen").sum()),
            "diversify": int((frame["kind"] == "diversify").sum())}


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
