"""The candidates step: flag (region, topic) bundles and store each with its explanation."""

from __future__ import annotations

from typing import Any

import pandas as pd

from s3text import candidates as cand
from s3text import diagnosis
from s3text.candidate_record import Candidate, Evidence
from s3text.complexity import risk_reward
from s3text.config import PipelineConfig
from s3text.regions import NutsTable, load_region_sets
from s3text.steps.analyse import doc_topic_regions, region_units, topic_document_places
from s3text.store import Store

ACTORS_SHOWN = 10


def candidates(cfg: PipelineConfig, run_id: str) -> dict[str, Any]:
    """Flag candidates; each record carries its score components, related strengths, actors,
    evidence, partner regions, Balland's risk/reward quadrant and a plain-language explanation."""
    c = cfg.candidates
    with Store(cfg.store) as store:
        scores = store.query("SELECT topic_id, score, emerging FROM emergence WHERE run_id = ?", [run_id])
        table = store.query("SELECT * EXCLUDE (run_id) FROM region_topics WHERE run_id = ?", [run_id])
        topic_info = store.query("SELECT topic_id, label, lineage_id FROM topics WHERE run_id = ?", [run_id])
        related = store.query("SELECT topic_a, topic_b, value FROM topic_relatedness WHERE run_id = ?", [run_id])
        tci = store.query("SELECT topic_id, kci FROM topic_complexity WHERE run_id = ?", [run_id])
        links = doc_topic_regions(store, cfg, run_id)
        titles = store.query("SELECT doc_id, title, source, year FROM documents").set_index("doc_id")
        names = store.query(
            "SELECT DISTINCT l.org_id AS actor_id, coalesce(o.name, a.name) AS name FROM document_orgs l "
            "JOIN actors a USING (actor_id) LEFT JOIN organisations o USING (org_id)"
        ).drop_duplicates("actor_id").set_index("actor_id")["name"]
    topics = sorted(set(topic_info["topic_id"].astype(int)))
    phi = related.pivot_table(index="topic_a", columns="topic_b", values="value", fill_value=0.0).reindex(
        index=topics, columns=topics, fill_value=0.0)
    nuts = NutsTable.load(cfg.regions.nuts_table, cfg.regions.nuts_version)
    units = region_units(cfg)
    allowed = None
    if c.region_set is not None:
        codes = load_region_sets(cfg.regions.region_sets)[c.region_set]
        allowed = {r for r in table["region"].unique() if units.in_set(r, codes)}
    flagged = cand.flag_candidates(
        emergence=scores.set_index("topic_id"), capacity=table, relatedness=phi,
        links=links[["region", "doc_id", "actor_id", "topic_id"]].drop_duplicates(),
        lineage_ids=topic_info.set_index("topic_id")["lineage_id"], cfg=c, regions=allowed,
    )
    evidence = cand.select_evidence(flagged, links[["doc_id", "region", "topic_id", "probability", "date"]],
                                    n=c.evidence_documents)
    quadrants = risk_reward(table, tci.set_index("topic_id")["kci"].dropna()).set_index(["region", "topic_id"])
    docs_per_actor = links.groupby(["region", "actor_id"])["doc_id"].nunique()
    labels = topic_info.set_index("topic_id")["label"]
    records: list[Candidate] = []
    for _, row in flagged.iterrows():
        record = row.to_dict()
        key = (row["region"], row["topic_id"])
        record["region_name"] = units.label(row["region"], nuts)
        record["topic_label"] = str(labels.get(row["topic_id"], ""))
        record["related_topic_labels"] = [str(labels.get(t, t)) for t in row["related_topics"]]
        record["complexity"] = float(quadrants.at[key, "complexity"]) if key in quadrants.index else None
        record["risk_reward"] = str(quadrants.at[key, "quadrant"]) if key in quadrants.index else None
        ranked = sorted(row["actor_ids"], key=lambda a: (-docs_per_actor.get((row["region"], a), 0), a))
        record["actor_names"] = [str(names.get(a, a)) for a in ranked[:ACTORS_SHOWN]]
        record["partner_regions"] = [p["region"] for p in row["partners"]]
        record["explanation"] = cand.explain(row, region_name=record["region_name"],
                                             topic_label=record["topic_label"],
                                             related_labels=record["related_topic_labels"],
                                             min_count=cfg.capacity.min_count)
        record["evidence"] = [
            Evidence(doc_id=d, title=str(titles.at[d, "title"]), source=str(titles.at[d, "source"]),
                     year=int(titles.at[d, "year"]), relation="topic" if via is None else "related",
                     related_topic_id=via, related_topic_label=None if via is None else str(labels.get(via, via)))
            for d, via in evidence[row["candidate_key"]]
        ]
        records.append(Candidate.model_validate(record))
    flagged_records = [r for r in records if not r.below_minimum]
    weak = [r for r in records if r.below_minimum]
    with Store(cfg.store) as store:
        store.replace_run_table("candidates", run_id, _frame(flagged_records))
        store.replace_run_table("candidates_below_minimum", run_id, _frame(weak))
        places = topic_document_places(store, run_id, links)
    reasons = diagnosis.topic_reasons(
        emerging=scores.loc[scores["emerging"].astype(bool), "topic_id"].astype(int).tolist(),
        with_candidates={r.topic_id for r in flagged_records}, documents=places, capacity=table,
        below_minimum=pd.DataFrame([(r.region, r.topic_id, r.support_documents, r.support_organisations)
                                    for r in weak], columns=diagnosis.HELD_COLUMNS),
        thresholds=diagnosis.Thresholds(
            level=cfg.regions.level, min_density=c.min_density, min_actors=c.min_actors,
            min_support_documents=c.min_support_documents, min_support_organisations=c.min_support_organisations,
            min_topic_documents=c.min_topic_documents, region_set=c.region_set),
        allowed_regions=allowed)
    return {"candidates": len(flagged_records),
            "strengthen": sum(r.kind == "strengthen" for r in flagged_records),
            "diversify": sum(r.kind == "diversify" for r in flagged_records),
            "below_minimum_evidence": len(weak),
            # Why each emerging topic without a candidate has none, and why the run has none (or null).
            "no_candidate_topics": {str(t): {**r.as_dict(), "label": str(labels.get(t, ""))}
                                    for t, r in reasons.items()},
            "why_no_candidates": diagnosis.run_reason(
                topics_scored=len(scores), emerging=int(scores["emerging"].astype(bool).sum()),
                candidates=len(flagged_records), reasons=reasons)}


def _frame(records: list[Candidate]) -> pd.DataFrame:
    """The stored rows: the keys the queries filter and sort on, and the record as JSON."""
    return pd.DataFrame({
        "candidate_key": [r.candidate_key for r in records], "region": [r.region for r in records],
        "topic_id": [r.topic_id for r in records], "kind": [r.kind for r in records],
        "score": [r.score for r in records], "record": [r.model_dump_json() for r in records],
    }, columns=["candidate_key", "region", "topic_id", "kind", "score", "record"])
