"""Plain records passed between stages.

Readers produce :class:`Document` and :class:`QuarantineRecord` objects; the store persists
them. Keeping these as frozen dataclasses (not ORM rows, not DataFrames) lets every reader be a
pure function of its input file, testable without a database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

SourceKind = Literal["project", "patent", "website"]


def stable_id(*parts: str, length: int = 16) -> str:
    """A short, stable hex id: sha256 over the parts joined by a unit separator."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


def content_hash(title: str, text: str) -> str:
    """Hash of the text a model sees; whitespace runs and case do not change it."""
    canonical = " ".join(f"{title}\n{text}".split()).casefold()
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Actor:
    """An organisation (project participant, patent assignee, company)."""

    name: str
    country: str | None = None  # ISO-2 as the source writes it (CORDIS: UK, EL)
    city: str | None = None
    postcode: str | None = None
    nuts_code: str | None = None  # when the source itself gives one
    kind: str | None = None  # CORDIS activityType (HES, REC, PRC, PUB, OTH) or "assignee"
    role: str = "participant"  # coordinator, participant, assignee, ...
    native_id: str | None = None  # e.g. CORDIS PIC

    @property
    def actor_id(self) -> str:
        if self.native_id:
            return stable_id("pic", self.native_id)
        return stable_id("name", " ".join(self.name.split()).casefold(), self.country or "")


@dataclass(frozen=True, slots=True)
class Document:
    """One text unit with everything later stages need to place it in time and space."""

    source: str  # dataset name, e.g. "cordis_fp7", "patentsview"
    source_kind: SourceKind
    native_id: str
    title: str
    text: str
    date: date
    provenance_file: str
    provenance_row: int  # 1-based line or record number in provenance_file
    actors: tuple[Actor, ...] = ()
    language: str | None = None  # when the source states it
    url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def doc_id(self) -> str:
        return stable_id(self.source, self.native_id)

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.text)


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """A record that could not be used, with the reason and where it came from."""

    source: str
    file: str
    row: int
    field: str
    reason: str
    raw: str


@dataclass(slots=True)
class IngestResult:
    """What a reader returns: usable documents and quarantined records, nothing dropped."""

    documents: list[Document] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)

    def extend(self, other: IngestResult) -> None:
        self.documents.extend(other.documents)
        self.quarantine.extend(other.quarantine)
