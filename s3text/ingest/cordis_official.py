"""The CORDIS project tables (project, organization, euroSciVoc) in CSV, JSON or XLSX, streamed.

Memory is bounded by the small tables, not by the projects: organisations and EuroSciVoc rows are read
first into ``projectID -> [(row, Actor or class)]`` (a participation is a few short strings; a project
carries an abstract of kilobytes), then projects stream and each Document leaves as soon as it is built.
Side rows whose project never loads are quarantined at the end; their raw text is fetched by a second
pass over that table, so it is not held for every row in the meantime.

``nuts_version`` of an organisation's nutsCode: CORDIS writes the code current when the export was
made, and the export date is not in the tables, so no version is assumed. It is None unless the source
config says, and the region resolver then tries the versions it knows.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from s3text.ingest._common import Core, Problem, Quarantine, check_core, extras, norm_space, opt
from s3text.ingest.tabular import Table, open_table, table_kind, zip_member
from s3text.records import Actor, Document, FileOpened, IngestItem, QuarantineRecord

log = logging.getLogger(__name__)

PROJECT_REQUIRED = ("id", "title", "objective", "startDate")
# fmt: off
EXTRA_KEYS = ("acronym", "programme", "frameworkProgramme", "fundingScheme", "legalBasis", "topics", "status",
              "endDate", "keywords", "ecMaxContribution", "totalCost", "masterCall", "subCall", "nature")
# fmt: on
_MONEY_KEYS = frozenset({"ecMaxContribution", "totalCost"})
CORDIS_PROJECT_URL = "https://cordis.europa.eu/project/id/{}"  # the pattern of the INRAE export's cordisUrl
_AMOUNT = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_DECIMAL_COMMA = re.compile(r"-?\d+,\d{1,2}")  # "3499076,25": CORDIS CSV money; "1,234" stays ambiguous
_INTEGRAL_FLOAT = re.compile(r"(\d+)\.0")


@dataclass(frozen=True, slots=True)
class Layout:
    """Column names that differ between the official tables and the flattened INRAE CSV."""

    delimiter: str
    org_id: str  # the organisation's PIC
    org_required: tuple[str, ...]
    url: Callable[[Mapping[str, str], str], str | None]


OFFICIAL = Layout(";", "organisationID", ("projectID", "organisationID", "name"),
                  lambda values, pid: opt(values.get("cordisUrl")) or CORDIS_PROJECT_URL.format(pid))
FLAT = Layout(",", "pic", ("projectID", "name"), lambda values, pid: opt(values.get("cordisUrl")))


def parse_amount(value: str) -> float | None:
    """EUR amount; "" is None. A decimal comma with 1-2 decimals is read as such, anything else raises."""
    value = value.strip()
    if not value:
        return None
    if _AMOUNT.fullmatch(value):
        return float(value)
    if _DECIMAL_COMMA.fullmatch(value):
        return float(value.replace(",", "."))
    raise ValueError(f"{value!r} is not an amount (expected 1234.5 or 1234,5; thousands separators are ambiguous)")


def ident(value: str | None) -> str:
    """An id as text; a table re-saved through a spreadsheet or pandas can hold 626272.0."""
    value = (value or "").strip()
    match = _INTEGRAL_FLOAT.fullmatch(value)
    return match.group(1) if match else value


def _interned(value: str | None, strings: dict[str, str]) -> str | None:
    found = opt(value)
    return None if found is None else strings.setdefault(found, found)


def check_project(values: Mapping[str, str], seen: set[str], require_abstract: bool) -> Core | Problem:
    """The checks of :func:`check_core` on a project of any CORDIS layout."""
    return check_core(values, id_col="id", title_col="title", text_col="objective", date_cols=("startDate",),
                      seen=seen, require_abstract=require_abstract)


def build_actor(
    values: Mapping[str, str], org_id: str, nuts_version: str | None, strings: dict[str, str]
) -> Actor | Problem:
    """An Actor from one participation, or the problem that prevents it.

    ``strings`` interns repeated values (names, cities, codes): one university takes part in thousands of
    projects, and a held table of participations is mostly those repeats.
    """
    name = norm_space(values.get("name", ""))
    if not name:
        return "name", "missing_name", "participant has no name"
    try:
        contribution = parse_amount(values.get("ecContribution", ""))
    except ValueError as exc:
        return "ecContribution", "bad_amount", str(exc)

    def text(key: str) -> str | None:
        return _interned(values.get(key), strings)

    nuts = text("nutsCode")
    return Actor(
        name=strings.setdefault(name, name),
        country=text("country"),
        city=text("city"),
        postcode=text("postCode"),
        nuts_code=nuts,
        kind=text("activityType"),
        role=text("role") or "participant",
        native_id=_interned(ident(values.get(org_id)), strings),
        vat=text("vatNumber"),
        nuts_version=nuts_version if nuts else None,
        geolocation=text("geolocation"),
        ec_contribution=contribution,
    )


def build_document(core: Core, values: Mapping[str, str], *, source: str, file: str, row: int, layout: Layout,
                   actors: Sequence[Actor] = (), classes: Sequence[tuple[str, str]] = ()) -> Document:
    # The unnamed first column of the H2020 energy file is the row index in CORDIS's project.csv.
    index = {"source_index": values[""].strip()} if values.get("", "").strip() else {}
    extra = extras(values, EXTRA_KEYS) | index
    for key in _MONEY_KEYS.intersection(extra):
        # One spelling per amount whatever the format wrote ("50000", "50000.0", "2073781,25").
        with contextlib.suppress(ValueError):
            extra[key] = repr(parse_amount(extra[key]))
    return Document(
        source=source, source_kind="project", native_id=core.native_id, title=core.title, text=core.text,
        date=core.date, provenance_file=file, provenance_row=row, actors=tuple(actors),
        url=layout.url(values, core.native_id), extra=extra, classes=tuple(classes),
    )


_Item = TypeVar("_Item", Actor, tuple[str, str])


@dataclass(slots=True)
class _Side(Generic[_Item]):
    """A side table held by project id as (row number, item), with what is needed to quarantine leftovers."""

    table: Table
    path: Path
    member: str | None
    by_project: dict[str, list[tuple[int, _Item]]] = field(default_factory=dict)


def iter_tables(
    project: Path, organization: Path | None, euroscivoc: Path | None, *, layout: Layout, source: str,
    require_abstract: bool = True, encoding: str = "auto", nuts_version: str | None = None,
) -> Iterator[IngestItem]:
    """Projects joined with their organisations and EuroSciVoc classes; see the module docstring."""
    # Opened first so that a bad project header fails before minutes are spent on the side tables; closed
    # however the stream ends, as it is still unread while they load.
    with closing(_open(project, "project", PROJECT_REQUIRED, layout, encoding).table) as table:
        yield FileOpened(table.file, table.encoding)
        orgs: _Side[Actor] | None = None
        voc: _Side[tuple[str, str]] | None = None
        if organization is not None:
            orgs = _open(organization, "organization", layout.org_required, layout, encoding)
            yield FileOpened(orgs.table.file, orgs.table.encoding)
            yield from _load_orgs(orgs, layout, source, nuts_version)
        if euroscivoc is not None:
            voc = _open(euroscivoc, "euroSciVoc", ("projectID", "euroSciVocPath"), layout, encoding)
            yield FileOpened(voc.table.file, voc.table.encoding)
            yield from _load_classes(voc, source)
        seen: set[str] = set()
        rejected: set[str] = set()
        quarantine = Quarantine(source, table.file)
        for row in table.rows:
            texts = row.texts()
            values = {**texts, "id": ident(texts.get("id"))}
            checked = row.problem or check_project(values, seen, require_abstract)
            if isinstance(checked, Core):
                actors = [a for _, a in orgs.by_project.pop(checked.native_id, ())] if orgs else []
                classes = [c for _, c in voc.by_project.pop(checked.native_id, ())] if voc else []
                yield build_document(checked, values, source=source, file=table.file, row=row.number, layout=layout,
                                     actors=actors, classes=classes)
                continue
            yield quarantine(row.number, checked, row.raw)
            if checked[1] != "duplicate_id" and values["id"]:
                rejected.add(values["id"])
        for side in (orgs, voc):
            if side is not None:
                yield from _leftovers(side, rejected - seen, source, layout, encoding)


def _open(path: Path, role: str, required: Sequence[str], layout: Layout, encoding: str) -> _Side[Any]:
    member = zip_member(path, role) if path.suffix.lower() == ".zip" else None
    return _Side(open_table(path, required=required, delimiter=layout.delimiter, encoding=encoding, member=member),
                 path, member)


def _load_orgs(side: _Side[Actor], layout: Layout, source: str, nuts_version: str | None) -> Iterator[QuarantineRecord]:
    strings: dict[str, str] = {}
    quarantine = Quarantine(source, side.table.file)
    for row in side.table.rows:
        values = row.texts()
        pid = ident(values.get("projectID"))
        actor = row.problem or (
            build_actor(values, layout.org_id, nuts_version, strings)
            if pid else ("projectID", "missing_id", "projectID is empty")
        )
        if isinstance(actor, Actor):
            bucket = side.by_project.setdefault(strings.setdefault(pid, pid), [])
            # One organisation listed twice in a project (e.g. as coordinator and as participant) would
            # count twice towards a region's critical mass; the first listing is kept. Compared within the
            # project's few participants rather than through a set of all pairs, which would double the memory.
            if not any(_same_org(actor, held) for _, held in bucket):
                bucket.append((row.number, actor))
                continue
            actor = (layout.org_id, "duplicate_participant", f"{actor.name!r} already listed for project {pid}")
        yield quarantine(row.number, actor, row.raw)
    log.debug("%s: participations of %d projects held", side.table.file, len(side.by_project))


def _same_org(a: Actor, b: Actor) -> bool:
    """Same actor_id, without hashing: the PIC when there is one, else name and country."""
    if a.native_id or b.native_id:
        return a.native_id == b.native_id
    return a.name.casefold() == b.name.casefold() and a.country == b.country


def _load_classes(side: _Side[tuple[str, str]], source: str) -> Iterator[QuarantineRecord]:
    seen: set[tuple[str, str]] = set()
    quarantine = Quarantine(source, side.table.file)
    for row in side.table.rows:
        values = row.texts()
        pid, path = ident(values.get("projectID")), norm_space(values.get("euroSciVocPath", ""))
        problem = row.problem
        if problem is None and not pid:
            problem = "projectID", "missing_id", "projectID is empty"
        elif problem is None and not path:
            problem = "euroSciVocPath", "missing_class", "euroSciVocPath is empty"
        elif problem is None and (pid, path) in seen:
            problem = "euroSciVocPath", "duplicate_class", f"{path!r} already listed for project {pid}"
        if problem is not None:
            yield quarantine(row.number, problem, row.raw)
            continue
        seen.add((pid, path))
        side.by_project.setdefault(sys.intern(pid), []).append((row.number, ("euroscivoc", sys.intern(path))))


def _leftovers(
    side: _Side[Any], rejected: set[str], source: str, layout: Layout, encoding: str
) -> Iterator[IngestItem]:
    """Quarantine the held rows whose project never loaded, with raw text from a second pass."""
    reasons: dict[int, Problem] = {}
    for pid, items in side.by_project.items():
        problem = (
            ("projectID", "project_quarantined", f"project {pid} was quarantined")
            if pid in rejected
            else ("projectID", "unknown_project", f"no project with id {pid} in the project file")
        )
        reasons.update((number, problem) for number, _ in items)
    side.by_project.clear()
    if not reasons:
        return
    table = open_table(side.path, delimiter=layout.delimiter, encoding=encoding, member=side.member)
    quarantine = Quarantine(source, table.file)
    for row in table.rows:
        if (found := reasons.pop(row.number, None)) is not None:
            yield quarantine(row.number, found, row.raw)
        if not reasons:
            table.rows.close()
            break


def iter_cordis_official(
    project: Path | str, organization: Path | str | None = None, *, euroscivoc: Path | str | None = None,
    source: str, require_abstract: bool = True, encoding: str = "auto", nuts_version: str | None = None,
) -> Iterator[IngestItem]:
    """The official CORDIS export of FP7, H2020 or HORIZON: project + organization (+ euroSciVoc) tables.

    Each table may be ``;``-CSV (plain, .gz, or in a .zip), a JSON array (.json, .json.gz, in a .zip) or
    .xlsx, told by its name; a zip holding several tables gives the member named like the table
    (project.csv, organization.json, euroSciVoc.xlsx). Only the columns a document needs are required,
    because the layout differs between programmes and releases (HORIZON adds ``nature``).
    """
    for path in (project, organization, euroscivoc):
        if path is not None and Path(path).suffix.lower() != ".zip":
            table_kind(Path(path))  # fail on an unknown format before anything is read
    yield from iter_tables(
        Path(project), Path(organization) if organization is not None else None,
        Path(euroscivoc) if euroscivoc is not None else None, layout=OFFICIAL, source=source,
        require_abstract=require_abstract, encoding=encoding, nuts_version=nuts_version,
    )
