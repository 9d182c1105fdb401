"""Why an emerging topic has no candidate, and why a run has none, in plain words.

A topic can fail to yield a candidate at each link of the chain from documents to regions: its
documents name no organisation, the organisations cannot be placed, they are placed too coarsely
for the analysis level, too few documents are placed to measure capacity in it, the regions that
hold them are outside the region set, none reaches the evidence minimum, or no region has the
capacity (specialisation or relatedness density). The first link that breaks is the reason given,
with the figures that show it, so an analyst knows what to change: a source, ``regions.level``,
the region set or a threshold.

Pure functions over frames the candidates step already holds; no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

# Reason codes in the order they are tested, each with its short form for a run's summary; the full
# text, with the topic's figures, is built in :func:`topic_reasons`. Held-back candidates are tested
# before capacity: a candidate held back for its evidence had the capacity.
REASONS = {
    "no_organisations": "no document names an organisation",
    "unplaced": "no organisation could be placed in a region",
    "coarse_places": "only country-level places",
    "thin_topic": "too few documents with a placed organisation",
    "outside_region_set": "every region with documents is outside the region set",
    "below_evidence_minimum": "no region reaches the evidence minimum",
    "no_capacity": "no region has the specialisation or relatedness density",
    "too_few_actors": "no region has enough active organisations",
}


DOCUMENT_COLUMNS = ["doc_id", "topic_id", "source", "organisations", "placed", "in_unit"]
HELD_COLUMNS = ["region", "topic_id", "support_documents", "support_organisations"]


@dataclass(frozen=True)
class Thresholds:
    """The settings a reason may name (from ``regions`` and ``candidates`` in the config)."""

    level: int
    min_density: float
    min_actors: int
    min_support_documents: int
    min_support_organisations: int
    min_topic_documents: int
    region_set: str | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def topic_reasons(
    *,
    emerging: Collection[int],
    with_candidates: Collection[int],
    documents: pd.DataFrame,
    capacity: pd.DataFrame,
    below_minimum: pd.DataFrame,
    thresholds: Thresholds,
    allowed_regions: Collection[str] | None = None,
) -> dict[int, Reason]:
    """A reason for every emerging topic without a flagged candidate.

    ``documents`` (``DOCUMENT_COLUMNS``): one row per (doc_id, topic_id) of the run's documents in a
    topic, with ``source``, ``organisations`` (distinct organisations named), ``placed``
    (organisations placed at any level) and ``in_unit`` (organisations placed finely enough for an
    analysis unit).
    ``capacity``: the region-topic table (region, topic_id, count, specialised, density).
    ``below_minimum`` (``HELD_COLUMNS``): candidates held back for too little evidence; may be empty.
    """
    t = thresholds
    out: dict[int, Reason] = {}
    done = set(with_candidates)
    for topic in sorted(int(x) for x in emerging if int(x) not in done):
        docs = documents[documents["topic_id"] == topic]
        n = len(docs)
        cells = capacity[(capacity["topic_id"] == topic) & (capacity["count"] > 0)]
        held = below_minimum[below_minimum["topic_id"] == topic] if len(below_minimum) else below_minimum
        if not (docs["organisations"] > 0).any():
            sources = ", ".join(f"{s} {c}" for s, c in Counter(docs["source"]).most_common(3))
            out[topic] = Reason("no_organisations", f"none of its {_plural(n, 'document')} names an organisation "
                                f"({sources}); add a source with participants, assignees or company sites")
        elif not (docs["placed"] > 0).any():
            named = int((docs["organisations"] > 0).sum())
            out[topic] = Reason("unplaced", f"{_plural(named, 'document')} name organisations, but none of them "
                                "could be placed in a NUTS region (outside Europe, or no address, city or register "
                                "match)")
        elif not (docs["in_unit"] > 0).any():
            coarse = int((docs["placed"] > 0).sum())
            out[topic] = Reason("coarse_places", f"only country-level places ({_plural(coarse, 'document')}): "
                                f"capacity runs at NUTS-{t.level}; set regions.level: 0 or add city data")
        elif (placed := int((docs["in_unit"] > 0).sum())) < t.min_topic_documents:
            out[topic] = Reason("thin_topic", f"only {_plural(placed, 'document')} of its {n} "
                                f"{'has' if placed == 1 else 'have'} an organisation placed at NUTS-{t.level} "
                                f"(minimum {t.min_topic_documents}): its specialisations and its relatedness to "
                                f"other topics would rest on {'it' if placed == 1 else 'them'} alone")
        elif allowed_regions is not None and not set(cells["region"]) & set(allowed_regions):
            out[topic] = Reason("outside_region_set", f"its {_plural(len(cells), 'region')} with documents "
                                f"all lie outside the region set '{t.region_set}'")
        elif len(held):
            best = held.sort_values(["support_documents", "support_organisations", "region"],
                                    ascending=[False, False, True]).iloc[0]
            out[topic] = Reason("below_evidence_minimum", "no region reaches the evidence minimum "
                                f"({_plural(t.min_support_documents, 'document')} from "
                                f"{_plural(t.min_support_organisations, 'organisation')}); closest: {best['region']} "
                                f"with {_plural(int(best['support_documents']), 'document')} from "
                                f"{_plural(int(best['support_organisations']), 'organisation')}")
        elif not (cells["specialised"].astype(bool) | (cells["density"] >= t.min_density)).any():
            top = cells.sort_values(["density", "region"], ascending=[False, True]).iloc[0] if len(cells) else None
            best = f"; highest: {top['density']:.2f} in {top['region']}" if top is not None else ""
            out[topic] = Reason("no_capacity", "no region is specialised in it or has a relatedness density of "
                                f"{t.min_density:g} or more to it{best}")
        else:
            out[topic] = Reason("too_few_actors", f"no region has {t.min_actors} or more organisations active in "
                                "it or in its related strengths")
    return out


def run_reason(*, topics_scored: int, emerging: int, candidates: int, reasons: Mapping[int, Reason]) -> str | None:
    """One sentence on why a run flagged nothing; None when it flagged something."""
    if candidates:
        return None
    if not topics_scored:
        return "no topic was scored: the run modelled no topic with documents dated up to the end year"
    if not emerging:
        return (f"none of the {topics_scored} topics passes the emergence test (enough recent documents, growth "
                "and persistence; see the emergence section of the config)")
    counts = Counter(r.code for r in reasons.values())
    order = list(REASONS)
    parts = "; ".join(f"{_plural(c, 'topic')}: {REASONS[code]}"
                      for code, c in sorted(counts.items(), key=lambda kv: order.index(kv[0])))
    return f"none of the {_plural(emerging, 'emerging topic')} has a candidate ({parts})"


def recorded_reasons(manifest: Mapping[str, Any]) -> dict[int, dict[str, str]]:
    """The reasons a run's manifest records (``stages.candidates.no_candidate_topics``): topic id →
    {code, text, label}; empty for a run recorded before the candidates step said why."""
    stage = manifest.get("stages", {}).get("candidates", {})
    return {int(t): r for t, r in (stage.get("no_candidate_topics") or {}).items()}
