"""The candidate record: one typed definition of a flagged (region, topic), its evidence and partners.

The candidates step builds a :class:`Candidate` and stores its JSON; the exports (CSV, JSON, Parquet,
XLSX, ``candidates.csv``), the API schema and the web pages take their fields from here, so a field
is added, renamed or explained in one place. docs/EXPORTS.md documents the export columns.
"""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["strengthen", "diversify"]
Relation = Literal["topic", "related"]


class _Record(BaseModel):
    # Stored records are read back by later versions: unknown keys (an older field) are ignored, and
    # fields added since (null where noted "None: written before") stay readable for older runs.
    model_config = ConfigDict(extra="ignore")


class Evidence(_Record):
    """A document behind the candidate: of the region in the topic itself, or in a related topic."""

    doc_id: str
    title: str
    source: str
    year: int
    relation: Relation | None = Field(default=None, description=(
        "`topic`: the document is in the candidate's topic; `related`: in one of the related topics the region "
        "is strong in; None: written before"))
    related_topic_id: int | None = Field(default=None, description="for `related`: the topic it is in")
    related_topic_label: str | None = Field(default=None, description="for `related`: that topic's label")


class Partner(_Record):
    region: str
    via_topic: int = Field(description="the topic (the candidate's or a related one) the partner is specialised in")
    rca: float


class Candidate(_Record):
    candidate_key: str = Field(description="stable across refreshes: region + topic lineage")
    region: str
    region_name: str | None = None
    topic_id: int
    lineage_id: str | None = None
    topic_label: str
    kind: Kind
    score: float
    emergence: float = Field(description="component: percentile rank of the topic's emergence score")
    specialisation: float = Field(description="component: min(rca_lower, rca_cap) / rca_cap")
    density: float = Field(description="component: relatedness density of the region to the topic")
    mass: float = Field(description="component: min(actors / mass_target, 1)")
    rca: float = Field(description="raw location quotient (EconGeo)")
    rca_shrunk: float | None = Field(default=None, description="posterior mean RCA, empirical-Bayes Poisson-Gamma; "
                                                                "None: written before")
    rca_lower: float | None = Field(default=None, description="5 % posterior quantile of the RCA")
    count: int = Field(description="the region's documents in the topic")
    actors: int = Field(description="distinct organisations of the region in the topic or its related topics")
    support_documents: int | None = Field(default=None, description="distinct documents of the region in the topic "
                                                                     "or its related topics; None: written before")
    support_organisations: int | None = Field(default=None, description="distinct organisations behind them")
    below_minimum: list[str] = Field(default_factory=list,
                                     description="why the evidence is below the minimums; empty when flagged")
    emergence_score: float | None = None
    complexity: float | None = None
    risk_reward: str | None = None
    related_topics: list[int] = Field(default_factory=list, description="related topics the region is strong in")
    related_topic_labels: list[str] = Field(default_factory=list)
    actor_ids: list[str] = Field(default_factory=list)
    actor_names: list[str] = Field(default_factory=list)
    partner_regions: list[str] = Field(default_factory=list)
    partners: list[Partner] = Field(default_factory=list)
    explanation: str
    evidence: list[Evidence] = Field(default_factory=list)


# Nested or internal fields the flat exports leave out (evidence has its own table).
NOT_EXPORTED = ("actor_ids", "partners", "evidence")
REVIEW_COLUMNS = {"status": "str", "changed_since_review": "bool", "reviewer": "str", "note": "str",
                  "decided_at": "str"}
_KINDS = {str: "str", int: "int", float: "float", bool: "bool"}


def _kind(annotation: Any) -> str:
    """Export kind (docs/EXPORTS.md) of a field's type: Literal and Optional read as their values."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        (inner,) = [a for a in get_args(annotation) if a is not type(None)]
        return _kind(inner)
    if origin is Literal:
        return _KINDS[type(get_args(annotation)[0])]
    if origin is list:
        return "list_" + _kind(get_args(annotation)[0])
    return _KINDS[annotation]


def export_columns() -> dict[str, str]:
    """The flat candidate columns, name → kind, in order: the record's fields, then the review state,
    then the evidence ids."""
    fields = {name: _kind(info.annotation) for name, info in Candidate.model_fields.items() if name not in NOT_EXPORTED}
    return {**fields, **REVIEW_COLUMNS, "evidence_ids": "list_str"}


def export_row(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record (with its review state) as a flat export row of :func:`export_columns`."""
    row = {c: record.get(c) for c in export_columns()}
    row["evidence_ids"] = [e["doc_id"] for e in record.get("evidence") or []]
    return row
