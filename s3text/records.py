"""Plain records passed between stages.

Readers produce :class:`Document` and :class:`QuarantineRecord` objects; the store persists
them. Keeping these as frozen dataclasses (not ORM rows, not DataFrames) lets every reader be a
pure function of its input file, testable without a database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

SourceKind = Literal["project", "patent", "website", "other"]


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
    native_id: str | None = None  # the source's identifier of the organisation, in id_scheme
    id_scheme: str = "pic"  # pic (CORDIS), patentsview_assignee, ...
    vat: str | None = None  # VAT number when the source gives one (CORDIS organization table)
    nuts_version: str | None = None  # version of nuts_code, when the source says
    geolocation: str | None = None  # "lat,lon" as CORDIS gives it
    ec_contribution: float | None = None  # EU funding of this participation (CORDIS), in EUR

    @property
    def actor_id(self) -> str:
        """One id per (scheme, identifier), else per (normalised name, country).

        PIC ids keep the bare ``pic`` prefix that stores made before other schemes existed use.
        """
        if self.native_id:
            return stable_id(self.id_scheme, self.native_id)
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
    # (scheme, code) pairs: ("cpc", "G06N3/08"), ("euroscivoc", "/engineering and technology/...")
    classes: tuple[tuple[str, str], ...] = ()
    # NUTS codes the source gives for the document itself (not through an actor), e.g. a funding call's region
    nuts_codes: tuple[str, ...] = ()

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


@dataclass(frozen=True, slots=True)
class FileOpened:
    """Yielded by a streaming reader when it opens a file, so summaries can name the encoding used."""

    file: str
    encoding: str


IngestItem = Document | QuarantineRecord | FileOpened  # what a streaming reader yields


@dataclass(slots=True)
class IngestResult:
    """What a reader returns: usable documents and quarantined records, nothing dropped."""

    documents: list[Document] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)

    @classmethod
    def collect(cls, items: Iterable[IngestItem]) -> IngestResult:
        """All of a stream in memory; for tests and small files (the ingest step writes in batches)."""
        result = cls()
        for item in items:
            if isinstance(item, Document):
                result.documents.append(item)
            elif isinstance(item, QuarantineRecord):
                result.quarantine.append(item)
        return result


@dataclass(slots=True)
class FileSummary:
    """Per input file of one ingest: what was read, stored, already there, or quarantined."""

    source: str
    file: str
    # read = stored + duplicates + quarantined; a participant row counts only when it is quarantined
    read: int = 0
    stored: int = 0  # documents new to the store
    duplicates: int = 0  # documents already stored (same source and id); a repeated id within a file is quarantined
    quarantined: int = 0
    encoding: str | None = None
