"""The candidate filters shared by the queue page and ``GET /api/v1/candidates``, validated once."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Kind = Literal["strengthen", "diversify"]
Status = Literal["new", "accepted", "rejected", "watch"]
STATUSES: tuple[Status, ...] = ("new", "accepted", "rejected", "watch")
KINDS: tuple[Kind, ...] = ("strengthen", "diversify")

# sort key -> SQL expression over candidates c LEFT JOIN decisions d (a fixed list: never user SQL)
SORT_SQL = {
    "score": "c.score",
    "region": "c.region",
    "topic": "c.topic_id",
    "kind": "c.kind",
    "status": "coalesce(d.status, 'new')",
    "decided": "d.decided_at",
    **{k: f"TRY_CAST(c.record->>'{k}' AS DOUBLE)" for k in ("emergence", "specialisation", "density", "mass", "rca")},
}
SORT_PATTERN = "^-?(" + "|".join(SORT_SQL) + ")$"
REGION_PATTERN = r"^[\w][\w .'-]{0,63}$"
MAX_LIMIT = 200


class CandidateQuery(BaseModel):
    """Filters and order of a candidate list. Empty form fields count as "not given"."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    region: str | None = Field(default=None, pattern=REGION_PATTERN, description="region code or grouping name")
    group: str | None = Field(default=None, pattern=REGION_PATTERN,
                              description="configured region grouping name, or a NUTS code prefix (DE, DE2)")
    topic: int | None = Field(default=None, ge=0, description="topic id of the latest run")
    kind: Kind | None = None
    status: list[Status] = Field(default_factory=list, description="repeat or comma-separate for several")
    min_score: float | None = None
    max_score: float | None = None
    changed: bool | None = Field(default=None, description="only candidates changed since their review")
    q: str | None = Field(default=None, max_length=100, description="text in the topic label or region name")
    sort: str = Field(default="-score", pattern=SORT_PATTERN, description="a key, '-' first for descending")

    @field_validator("region", "group", "topic", "kind", "min_score", "max_score", "changed", "q", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("sort", mode="before")
    @classmethod
    def _blank_sort(cls, value: Any) -> Any:
        return "-score" if value is None or (isinstance(value, str) and not value.strip()) else value

    @field_validator("status", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        return [s.strip() for item in items if isinstance(item, str) for s in item.split(",") if s.strip()]

    @field_validator("min_score", "max_score")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @model_validator(mode="after")
    def _range(self) -> CandidateQuery:
        if self.min_score is not None and self.max_score is not None and self.min_score > self.max_score:
            raise ValueError("min_score is above max_score")
        return self

    def order_by(self) -> str:
        key = self.sort.lstrip("-")
        direction = "DESC" if self.sort.startswith("-") else "ASC"
        return f"{SORT_SQL[key]} {direction} NULLS LAST, c.candidate_key"

    def as_params(self) -> dict[str, str]:
        """The non-default filters as query parameters (pagination links keep them)."""
        out: dict[str, str] = {}
        for name, value in self.model_dump(exclude_defaults=True, exclude={"page", "limit", "offset"}).items():
            out[name] = ",".join(value) if isinstance(value, list) else str(value).lower() \
                if isinstance(value, bool) else str(value)
        return out


class ApiCandidateQuery(CandidateQuery):
    """``GET /api/v1/candidates``: the filters, and a page as limit and offset."""

    limit: int | None = Field(default=None, ge=1, le=MAX_LIMIT, description="default: the server's page_size")
    offset: int = Field(default=0, ge=0)


class QueueQuery(CandidateQuery):
    """The queue page: the filters, and a page number."""

    page: int = Field(default=1, ge=1, le=1_000_000)

    @field_validator("page", mode="before")
    @classmethod
    def _blank_page(cls, value: Any) -> Any:
        return 1 if isinstance(value, str) and not value.strip() else value


def group_members(regions: list[str], group: str, groupings: dict[str, tuple[str, ...]]) -> list[str]:
    """Regions of a group: a configured grouping's units, else every region whose code starts with
    ``group`` (a grouping counts when one of its NUTS prefixes does)."""
    if group in groupings:
        prefixes = groupings[group]
        return [r for r in regions if r == group or any(r.startswith(p) for p in prefixes)]
    return [r for r in regions
            if r.startswith(group) or any(p.startswith(group) for p in groupings.get(r, ()))]
