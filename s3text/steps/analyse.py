"""Analysis steps: emergence and regional capacity, from one run's topics."""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd

from s3text import capacity as cap
from s3text import complexity, lenses
from s3text import emergence as em
from s3text.config import PipelineConfig
from s3text.diagnosis import DOCUMENT_COLUMNS
from s3text.regions import NutsTable
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
        # Organisations, not actor records: one body under several spellings or PICs counts once.
        actors = store.query("SELECT DISTINCT doc_id, org_id AS actor_id FROM document_orgs")
        regions = _doc_regions(store, cfg)
    # Every document stays (left joins): a topic's community counts actors and regions where known.
    entities = (docs[["doc_id", "topic_id", "year", "date"]].merge(kinds, on="doc_id")
                .merge(actors, on="doc_id", how="left").merge(regions, on=["doc_id", "actor_id"], how="left"))
    counts = em.year_counts(docs[["topic_id", "year"]])
    totals = em.year_totals(docs["year"])
    scores = em.score_emergence(counts, totals, e)
    if len(scores):
        end = int(scores["end_year"].iloc[0])
        scores = scores.join([
            em.porter_escore(counts, totals, end_year=end).drop(columns="end_year"),
            em.porter_filters(counts, totals, e, end_year=end),
            lenses.burst_summary(counts, totals, cfg.lenses, end_year=end).drop(columns="end_year"),
            lenses.quadrant(counts, totals, start=end - e.recent_years - e.base_years + 1, end=end, cfg=cfg.lenses),
            lenses.community(entities, end_year=end, recent_years=e.recent_years, base_years=e.base_years,
                             cfg=cfg.lenses).drop(columns="end_year"),
            lenses.diffusion(entities.drop_duplicates("doc_id")[["doc_id", "topic_id", "year", "source_kind"]],
                             end_year=end, cfg=cfg.lenses).drop(columns="end_year"),
        ])
        # Porter's community attribute: more than one organisation behind the topic.
        scores["porter_emerging"] &= scores["multiple_communities"].astype(bool)
    series = _topic_series(entities)
    metrics = scores.drop(columns=["score", "emerging"]).astype(object).where(scores.notna(), None)
    frame = pd.DataFrame({
        "topic_id": scores.index.astype(int),
        "metrics": [json.dumps(r, default=json_default) for r in metrics.to_dict(orient="records")],
        "score": scores["score"].astype(float), "emerging": scores["emerging"].astype(bool),
    })
    with Store(cfg.store) as store:
        store.replace_run_table("emergence", run_id, frame)
        store.replace_run_table("topic_series", run_id, series)
    return {"topics_scored": len(scores), "emerging_topics": int(scores["emerging"].sum()),
            "in_burst": int(scores.get("in_burst_at_end", pd.Series(dtype=bool)).sum()),
            "porter_emerging": int(scores.get("porter_emerging", pd.Series(dtype=bool)).sum()),
            "end_year": int(scores["end_year"].iloc[0]) if len(scores) else None}


def _topic_series(entities: pd.DataFrame) -> pd.DataFrame:
    """Documents per topic and year, by source kind, by region and by quarter (``value`` Q1..Q4 of
    ``period``); a document counts once per value."""
    parts = []
    entities = entities.assign(quarter="Q" + ((pd.to_datetime(entities["date"]).dt.month - 1) // 3 + 1).astype(str))
    for dimension, column in (("source", "source_kind"), ("region", "region"), ("quarter", "quarter")):
        rows = entities.dropna(subset=[column]).drop_duplicates(["doc_id", column])
        rows = rows[rows["topic_id"] != OUTLIER]
        grouped = rows.groupby(["topic_id", "year", column]).size().rename("count").reset_index()
        parts.append(pd.DataFrame({"topic_id": grouped["topic_id"].astype(int), "period": grouped["year"].astype(int),
                                   "dimension": dimension, "value": grouped[column].astype(str),
                                   "count": grouped["count"].astype(int)}))
    return pd.concat(parts, ignore_index=True)


def _doc_regions(store: Store, cfg: PipelineConfig) -> pd.DataFrame:
    """(doc_id, actor_id, region): each document's organisations (``actor_id`` holds the organisation
    id) in their analysis unit (NUTS code cut to ``regions.level``, or a named grouping); actors placed
    too coarsely have no unit. An organisation with sites in two regions counts in both."""
    links = store.query(
        "SELECT DISTINCT l.doc_id, l.org_id AS actor_id, r.nuts_code, r.level FROM document_orgs l "
        "JOIN actor_regions r USING (actor_id) WHERE r.nuts_code IS NOT NULL"
    )
    links["region"] = region_units(cfg).assign(links)
    return links.dropna(subset=["region"])[["doc_id", "actor_id", "region"]].drop_duplicates()


def region_units(cfg: PipelineConfig) -> RegionUnits:
    return RegionUnits(level=cfg.regions.level, groupings=cfg.regions.groupings)


def capacity(cfg: PipelineConfig, run_id: str) -> dict[str, Any]:
    """Region × topic counts → RCA, specialisation, topic relatedness, relatedness density (and its
    "not yet specialised" variant) and topic complexity."""
    c = cfg.capacity
    region_units(cfg).check(NutsTable.load(cfg.regions.nuts_table, cfg.regions.nuts_version))  # fail before any work
    with Store(cfg.store) as store:
        links = doc_topic_regions(store, cfg, run_id)
        centroids = store.query("SELECT topic_id, vector FROM topic_centroids WHERE run_id = ?", [run_id])
        placed = store.query("SELECT nuts_code, level FROM actor_regions WHERE nuts_code IS NOT NULL")
    if c.weighting == "actors":
        counts = pd.crosstab(links["region"], links["topic_id"]).rename_axis(index="region", columns="topic_id")
    else:
        counts = cap.region_topic_counts(links[["doc_id", "region"]], links[["doc_id", "topic_id"]])
    if c.relatedness_source == "embedding":
        phi = cap.embedding_relatedness(pd.DataFrame(np.stack(centroids["vector"].to_numpy()),
                                                     index=pd.Index(centroids["topic_id"].astype(int))))
    else:
        entity = "actor_id" if c.cooccurrence_basis == "actors" else "region"
        phi = cap.relatedness(cap.co_occurrence(pd.crosstab(links[entity], links["topic_id"]).clip(upper=1)),
                              c.relatedness)
    table = cap.capacity_table(counts, c, phi=phi)
    alpha = float(table.attrs["rca_alpha"])  # a merge drops attrs
    actors = links.groupby(["region", "topic_id"])["actor_id"].nunique().rename("actors").reset_index()
    table = table.merge(actors, on=["region", "topic_id"], how="left").fillna({"actors": 0})
    spec = table.pivot_table(index="region", columns="topic_id", values="specialised", fill_value=0)
    _, pci = complexity.eci_pci(spec) if min(spec.shape) >= 2 else (pd.Series(), pd.Series())
    tci = complexity.tci(spec) if min(spec.shape) >= 2 else pd.Series(dtype=float)
    related = phi.rename_axis(index="topic_a", columns="topic_b").stack().rename("value").reset_index()
    with Store(cfg.store) as store:
        store.replace_run_table("region_topics", run_id, table[[
            "region", "topic_id", "count", "actors", "rca", "rca_shrunk", "rca_lower", "specialised", "density",
            "density_ext"]])
        store.replace_run_table("topic_relatedness", run_id, related[related["value"] > 0])
        store.replace_run_table("topic_complexity", run_id, pd.DataFrame({
            "topic_id": spec.columns.astype(int), "kci": tci.reindex(spec.columns).to_numpy(dtype=float),
            "pci": pci.reindex(spec.columns).to_numpy(dtype=float)}))
    return {"regions": int(table["region"].nunique()), "region_topic_cells": len(table),
            "specialisations": int(table["specialised"].sum()), "relatedness": c.relatedness_source,
            "rca_prior_alpha": alpha,
            # the level used, and the actor placements it cannot use (e.g. country only at NUTS-2)
            "level": cfg.regions.level,
            "actor_placements_too_coarse": int(region_units(cfg).assign(placed).isna().sum())}


def topic_document_places(store: Store, run_id: str, links: pd.DataFrame) -> pd.DataFrame:
    """Per document in a topic: its source, how many organisations it names, how many of them are
    placed at all, and how many in an analysis unit (:data:`s3text.diagnosis.DOCUMENT_COLUMNS`).
    ``links``: the run's :func:`doc_topic_regions`, which the caller already holds."""
    named = store.query(
        "SELECT t.doc_id, t.topic_id, d.source, count(DISTINCT o.org_id) AS organisations, "
        "count(DISTINCT CASE WHEN r.nuts_code IS NOT NULL THEN o.org_id END) AS placed "
        "FROM doc_topics t JOIN documents d USING (doc_id) LEFT JOIN document_orgs o USING (doc_id) "
        "LEFT JOIN actor_regions r ON r.actor_id = o.actor_id "
        f"WHERE t.run_id = ? AND t.topic_id <> {OUTLIER} GROUP BY t.doc_id, t.topic_id, d.source", [run_id])
    in_unit = links.groupby("doc_id")["actor_id"].nunique().rename("in_unit")
    out = named.merge(in_unit, left_on="doc_id", right_index=True, how="left").fillna({"in_unit": 0})
    return out.astype({"organisations": int, "placed": int, "in_unit": int})[DOCUMENT_COLUMNS]


def doc_topic_regions(store: Store, cfg: PipelineConfig, run_id: str) -> pd.DataFrame:
    """(doc_id, actor_id, region, topic_id, probability, year, date) for documents in a topic."""
    links = _doc_regions(store, cfg).merge(_doc_topics(store, run_id), on="doc_id")
    return links[links["topic_id"] != OUTLIER]


def json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
