"""Flag transformative-activity candidates: emerging topics where a region has related capacity.

A candidate is a (region, topic) pair with everything an analyst needs to judge it: the score
and each of its components, the related topics the region is already strong in, the evidence
documents, and partner regions. The score is a weighted sum of four components in [0, 1]
(weights in config), so ``score == Σ weight·component`` can be checked for every row.

- emergence: the topic's emergence-score rank among all topics (1 = most emerging);
- specialisation: min(RCA, rca_cap) / rca_cap, with the small-count-robust RCA named by
  ``specialisation_rca`` (the 5 % posterior bound by default, :mod:`s3text.shrinkage`), so one
  document cannot carry a high specialisation;
- density: relatedness density of the region to the topic;
- mass: min(actors / mass_target, 1), actors = distinct actors of the region in the topic or in
  the related topics it is specialised in.

Kinds follow Balland et al.: *strengthen* where the region is already specialised in the topic,
*diversify* where it is not yet but its relatedness density reaches ``min_density``.

A topic with fewer than ``min_topic_documents`` documents placed in a unit yields nothing: its
RCAs and its relatedness to other topics would rest on those few documents' partners.

Support: the distinct documents and organisations of the region in the topic and those related
topics (the set behind ``mass``). A pair below ``min_support_documents`` or
``min_support_organisations`` is not flagged: it carries the reasons in ``below_minimum`` and the
step keeps it apart from the candidates an analyst reviews.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from s3text.config import CandidatesConfig
from s3text.records import stable_id

RELATED_SHOWN = 5

CANDIDATE_COLUMNS = [
    "candidate_key", "region", "topic_id", "lineage_id", "kind", "score", "emergence", "specialisation",
    "density", "mass", "rca", "rca_shrunk", "rca_lower", "count", "actors", "support_documents",
    "support_organisations", "below_minimum", "emergence_score", "related_topics", "actor_ids", "partners",
]
SPECIALISATION_RCA = {"lower": "rca_lower", "mean": "rca_shrunk"}  # config value -> capacity column


def candidate_key(region: str, lineage_id: str) -> str:
    """Key an analyst's decision hangs on: the region and the topic's lineage, which survives refits
    that renumber topics (see :mod:`s3text.lineage`)."""
    return stable_id("candidate", region, lineage_id)


def emergence_rank(scores: pd.Series) -> pd.Series:
    """Rank of each topic's emergence score, scaled to (0, 1]; ties share the mean rank."""
    return scores.rank(method="average", pct=True)


def flag_candidates(
    *,
    emergence: pd.DataFrame,
    capacity: pd.DataFrame,
    relatedness: pd.DataFrame,
    links: pd.DataFrame,
    lineage_ids: pd.Series,
    cfg: CandidatesConfig,
    regions: Collection[str] | None = None,
) -> pd.DataFrame:
    """One row per (region, topic) that qualifies by kind; ``below_minimum`` empty where it is flagged.

    ``emergence``: index topic_id, columns ``score``, ``emerging``. ``capacity``: long table with
    region, topic_id, count, rca, rca_shrunk, rca_lower, specialised, density. ``relatedness``: topic × topic φ.
    ``links``: region, doc_id, actor_id (organisation), topic_id: who worked on what, where.
    ``lineage_ids``: topic_id → lineage id. ``regions`` limits the regions flagged.
    """
    ranks = emergence_rank(emergence["score"])
    wide = capacity.set_index(["region", "topic_id"])
    specialised = capacity.pivot_table(index="region", columns="topic_id", values="specialised", fill_value=0)
    actors_by = links.groupby(["region", "topic_id"])["actor_id"].agg(set)
    docs_by = links.groupby(["region", "topic_id"])["doc_id"].agg(set)
    spec_rca = SPECIALISATION_RCA[cfg.specialisation_rca]
    placed_docs = links.groupby("topic_id")["doc_id"].nunique()
    rows = []
    for topic_id in emergence.index[emergence["emerging"].astype(bool)]:
        if placed_docs.get(topic_id, 0) < cfg.min_topic_documents:
            continue  # capacity in it would rest on a handful of documents (s3text.diagnosis says so)
        phi = relatedness.loc[topic_id] if topic_id in relatedness.index else pd.Series(dtype=float)
        for region in specialised.index:
            if regions is not None and region not in regions:
                continue
            cell = wide.loc[(region, topic_id)] if (region, topic_id) in wide.index else None
            rca = float(cell["rca"]) if cell is not None else 0.0
            robust = float(cell[spec_rca]) if cell is not None else 0.0
            count = int(cell["count"]) if cell is not None else 0
            density = float(cell["density"]) if cell is not None else 0.0
            is_spec = bool(cell["specialised"]) if cell is not None else False
            if is_spec:
                kind = "strengthen"
            elif density >= cfg.min_density:
                kind = "diversify"
            else:
                continue
            strong = specialised.loc[region]
            related = [int(j) for j in phi[phi > 0].sort_values(ascending=False).index
                       if j != topic_id and strong.get(j, 0) == 1]
            members: set[str] = set(actors_by.get((region, topic_id), set()))
            documents: set[str] = set(docs_by.get((region, topic_id), set()))
            for j in related:
                members |= actors_by.get((region, j), set())
                documents |= docs_by.get((region, j), set())
            if len(members) < cfg.min_actors:
                continue
            components = {
                "emergence": float(ranks[topic_id]),
                "specialisation": min(robust, cfg.rca_cap) / cfg.rca_cap,
                "density": density,
                "mass": min(len(members) / cfg.mass_target, 1.0),
            }
            lineage_id = str(lineage_ids.get(topic_id, topic_id))
            rows.append({
                "candidate_key": candidate_key(region, lineage_id),
                "region": region, "topic_id": int(topic_id), "lineage_id": lineage_id, "kind": kind,
                "score": candidate_score(components, cfg), **components,
                "rca": rca, "rca_shrunk": float(cell["rca_shrunk"]) if cell is not None else 0.0,
                "rca_lower": float(cell["rca_lower"]) if cell is not None else 0.0,
                "count": count, "actors": len(members), "support_documents": len(documents),
                "support_organisations": len(members),
                "below_minimum": below_minimum(len(documents), len(members), cfg),
                "emergence_score": float(emergence.loc[topic_id, "score"]),
                "related_topics": related[:RELATED_SHOWN], "actor_ids": sorted(members),
                "partners": partner_regions(capacity, int(topic_id), phi, exclude=region, n=cfg.partner_regions),
            })
    frame = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)
    return frame.sort_values(["score", "region", "topic_id"], ascending=[False, True, True], ignore_index=True)


def below_minimum(documents: int, organisations: int, cfg: CandidatesConfig) -> list[str]:
    """Why the support is too thin to flag, in plain words; empty when it reaches both minimums."""
    reasons = []
    if documents < cfg.min_support_documents:
        reasons.append(f"{documents} supporting document{'s' if documents != 1 else ''}, "
                       f"fewer than the minimum {cfg.min_support_documents}")
    if organisations < cfg.min_support_organisations:
        reasons.append(f"{organisations} supporting organisation{'s' if organisations != 1 else ''}, "
                       f"fewer than the minimum {cfg.min_support_organisations}")
    return reasons


def candidate_score(components: dict[str, float], cfg: CandidatesConfig) -> float:
    return (
        cfg.weight_emergence * components["emergence"]
        + cfg.weight_specialisation * components["specialisation"]
        + cfg.weight_density * components["density"]
        + cfg.weight_mass * components["mass"]
    )


def partner_regions(capacity: pd.DataFrame, topic_id: int, phi: pd.Series, *, exclude: str, n: int
                    ) -> list[dict[str, object]]:
    """Partners for cross-regional cooperation: other regions specialised in the topic (highest RCA
    first), then, to fill ``n``, regions specialised in its most related topics (``via_topic``)."""
    spec = capacity[capacity["specialised"].astype(bool) & (capacity["region"] != exclude)]
    order = [topic_id] + [int(j) for j in phi[phi > 0].sort_values(ascending=False).index if j != topic_id]
    partners: list[dict[str, object]] = []
    for via in order:
        cells = spec[spec["topic_id"] == via].sort_values(["rca", "region"], ascending=[False, True])
        for cell in cells.itertuples(index=False):
            if len(partners) >= n:
                return partners
            if all(p["region"] != cell.region for p in partners):
                partners.append({"region": cell.region, "via_topic": via, "rca": float(cell.rca)})
    return partners


def select_evidence(
    candidates: pd.DataFrame, doc_index: pd.DataFrame, *, n: int
) -> dict[str, list[tuple[str, int | None]]]:
    """Evidence per candidate as (doc_id, related topic or None): the region's documents in the topic,
    most central first, then, to fill ``n``, its documents in the related topics (strongest relation
    first). A document appears once, under the first of these it belongs to.

    ``doc_index``: doc_id, region, topic_id, probability, date.
    """
    ordered = doc_index.sort_values(["probability", "date", "doc_id"], ascending=[False, False, True])
    by_cell = {key: list(dict.fromkeys(grp["doc_id"])) for key, grp in ordered.groupby(["region", "topic_id"])}
    evidence: dict[str, list[tuple[str, int | None]]] = {}
    for row in candidates.itertuples(index=False):
        chosen: dict[str, int | None] = dict.fromkeys(by_cell.get((row.region, row.topic_id), [])[:n])
        for related in row.related_topics:
            for doc in by_cell.get((row.region, related), []):
                if len(chosen) >= n:
                    break
                chosen.setdefault(doc, int(related))
        evidence[row.candidate_key] = list(chosen.items())
    return evidence


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def explain(row: pd.Series, *, region_name: str | None, topic_label: str, related_labels: list[str],
            min_count: int) -> str:
    """A plain-language paragraph built from the components, for the analyst's first read."""
    where = f"{row['region']} ({region_name})" if region_name else str(row["region"])
    docs = f"{row['count']} document{'s' if row['count'] != 1 else ''}"
    rca = f"RCA {row['rca']:.2f}, shrunk to {row['rca_shrunk']:.2f} (5 % bound {row['rca_lower']:.2f})"
    if row["kind"] == "strengthen":
        base = f"{where} is already specialised in the emerging topic '{topic_label}' ({rca}, {docs})"
    else:
        why = f"below the minimum of {min_count}" if row["rca"] >= 1 else "a share below the average"
        base = (f"{where} is not yet specialised in the emerging topic '{topic_label}' ({rca} on "
                f"{docs}, {why}) but its relatedness density to it is {row['density']:.2f}")
    related = f"; related strengths: {'; '.join(related_labels)}" if related_labels else ""
    support = (f"on {row['support_documents']} document{'s' if row['support_documents'] != 1 else ''} from "
               f"{row['support_organisations']} organisation{'s' if row['support_organisations'] != 1 else ''}")
    return (f"{base}{related}. The evidence rests {support} of the region in the topic or its related "
            f"topics. Its emergence score ({row['emergence_score']:.2f}) is at the "
            f"{_ordinal(round(100 * row['emergence']))} percentile of all topics. "
            f"Candidate score {row['score']:.3f}.")
