"""Response models of the JSON API (``/api/v1``): the versioned contract the portal reads.

``schema_version`` is in every response. Adding a field keeps the version; removing, renaming or
retyping one raises it, with a new URL prefix (``/api/v2``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from s3text.candidate_record import Candidate, Evidence, Partner
from s3text.web.filters import Status

API_SCHEMA_VERSION = 1  # the API's own; the export files have theirs (docs/EXPORTS.md)


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Envelope(_Out):
    schema_version: int = API_SCHEMA_VERSION
    run_id: str | None = Field(description="the completed run shown (the latest); null before the first run")


class YearCount(_Out):
    year: int
    count: int


class ActorOut(_Out):
    name: str
    country: str | None = None
    role: str | None = None
    nuts_code: str | None = None


class EvidenceOut(Evidence):
    """The record's evidence item with what the store says about the document now."""

    date: str | None = None
    source_kind: str | None = None
    native_id: str | None = None
    link: str | None = Field(default=None, description="the original: CORDIS project page, patent or web page")
    actors: list[ActorOut] | None = None
    actors_total: int | None = None


PartnerOut = Partner


class CandidateOut(Candidate):
    """The stored candidate record (s3text/candidate_record.py) with its review state."""

    evidence: list[EvidenceOut] = Field(default_factory=list)  # type: ignore[assignment]  # with links
    # Internal organisation ids: the record keeps them for the step, the exports and the API leave them out.
    actor_ids: list[str] = Field(default_factory=list, exclude=True)
    status: Status
    decided_at: str | None = None
    changed_since_review: bool
    reviewer: str | None = Field(default=None, description="only for an authenticated reviewer")
    note: str | None = Field(default=None, description="only for an authenticated reviewer")


class CandidatePage(Envelope):
    total: int
    limit: int
    offset: int
    statuses: list[Status] = Field(description="the statuses this list was drawn from")
    items: list[CandidateOut]


class CandidateDetail(Envelope):
    candidate: CandidateOut


class RelatedOut(_Out):
    topic_id: int
    label: str
    relatedness: float


class TopicOut(_Out):
    topic_id: int
    lineage_id: str | None = None
    label: str
    top_terms: list[str]
    size: int
    coherence: float | None = None
    first_year: int
    last_year: int
    yearly: list[YearCount]
    emergence_score: float | None = None
    emerging: bool
    growth: float | None = None
    novelty: float | None = None
    persistence: float | None = None
    escore: float | None = None
    porter_emerging: bool | None = None
    in_burst_at_end: bool | None = None
    quadrant: str | None = None
    actors_recent: int | None = None
    regions_recent: int | None = None
    diffusion: float | None = None


class TopicList(Envelope):
    items: list[TopicOut]


class _CellMetrics(_Out):
    """What region_topics holds for one (region, topic) cell."""

    count: int
    actors: int
    rca: float
    specialised: bool
    density: float
    density_ext: float | None = None


class RegionTopicOut(_CellMetrics):
    region: str


class SeriesOut(_Out):
    total: list[YearCount]
    by_source: dict[str, list[YearCount]]


class NoCandidateOut(_Out):
    code: str = Field(description="which link from documents to regions breaks (s3text.diagnosis.REASONS)")
    text: str = Field(description="the reason in plain words, with the figures that show it")


class TopicDetailOut(TopicOut):
    related: list[RelatedOut] = []
    lineage: dict[str, Any] | None = None
    complexity: dict[str, float | None] | None = None
    series: SeriesOut
    regions: list[RegionTopicOut]
    no_candidate: NoCandidateOut | None = Field(
        default=None, description="why this emerging topic has no candidate; null when it has one or is not emerging")


class TopicDetail(Envelope):
    topic: TopicDetailOut


class RegionOut(_Out):
    region: str
    name: str | None = None
    topics: int
    specialisations: int
    documents: int
    candidates: int = Field(description="candidates with a status this caller may see")


class RegionList(Envelope):
    items: list[RegionOut]


class TopicMetricOut(_CellMetrics):
    topic_id: int
    label: str
    lineage_id: str | None = None
    emergence_score: float | None = None
    emerging: bool | None = None


class RegionDetail(Envelope):
    region: str
    name: str | None = None
    topics: list[TopicMetricOut]
    candidates: list[CandidateOut]


class RunOut(Envelope):
    run: dict[str, Any]


class FieldProblem(_Out):
    field: str
    message: str


class ErrorBody(_Out):
    status: int
    message: str
    fields: list[FieldProblem] | None = None


class ErrorOut(_Out):
    schema_version: int = API_SCHEMA_VERSION
    error: ErrorBody
