"""PatentsView bulk tables of granted patents (the ``g_`` tables of the data download), joined on patent_id.

Layout, from PatentsView's data dictionary (https://patentsview.org/download/data-download-dictionary):
tab-separated, ``"``-quoted, one header line, plain or as a one-file ``.zip`` (``g_patent.tsv.zip``).
Only the columns named below are required; the tables carry more, and versions differ in which.

- g_patent: patent_id, patent_date, patent_title (optional: patent_type, wipo_kind, num_claims, withdrawn,
  and patent_abstract, which older releases kept here)
- g_patent_abstract: patent_id, patent_abstract
- g_cpc_current: patent_id, cpc_group (``G06N3/08``; optional cpc_sequence)
- g_assignee_disambiguated: patent_id, assignee_id, disambig_assignee_organization,
  disambig_assignee_individual_name_first/_last, location_id (optional assignee_sequence)
- g_inventor_disambiguated: patent_id, inventor_id, disambig_inventor_name_first/_last, location_id
- g_location_disambiguated: location_id, disambig_city, disambig_country (ISO-2; optional latitude, longitude)

Memory: the full side tables are big (the abstracts about 2 GB, g_cpc_current some 50 million rows), so
they are not held in dicts. Each is spooled once into a temporary SQLite file keyed by patent_id (only
the columns used, the line and the raw record), then g_patent streams with indexed lookups (500
patents a query). Resident memory is the location table (one row per place, small) plus SQLite's cache,
whatever the size of the tables; disk use (under TMPDIR) is about the size of the side tables. No sort
order of the files is assumed. Measured on synthetic tables of 300,000 patents with 3.3 million side
rows (423 MB): peak RSS 286 MiB (127 MiB of it the interpreter and imports) against 1,563 MiB for the
same side tables in dicts, 79 s in all, so about 35-40 min for the full ~8 million grants.
Side rows whose patent is not in g_patent are quarantined as ``unknown_patent``: pass side tables
cut to the same patents as g_patent, or ``report_orphans=False`` for a slice.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

from s3text.errors import InputError
from s3text.ingest._common import (
    MAX_RAW,
    Core,
    CsvTable,
    Problem,
    Quarantine,
    check_core,
    extras,
    read_csv,
    structural_problem,
)
from s3text.ingest.patents import InventorPolicy, cpc_code, patent_document, with_inventors
from s3text.records import Actor, Document, FileOpened, IngestItem, QuarantineRecord

log = logging.getLogger(__name__)

_PATENT = ("patent_id", "patent_date", "patent_title")
_LOCATION = ("location_id", "disambig_city", "disambig_country")
_ASSIGNEE_NAME = ("disambig_assignee_organization", "disambig_assignee_individual_name_first",
                  "disambig_assignee_individual_name_last")
_INVENTOR_NAME = ("disambig_inventor_name_first", "disambig_inventor_name_last")
# Columns kept per side table after patent_id, in this order; the first is the one a bad value blames.
_SIDE: dict[str, tuple[str, ...]] = {
    "abstract": ("patent_abstract",),
    "cpc": ("cpc_group",),
    "assignee": (*_ASSIGNEE_NAME, "assignee_id", "location_id"),
    "inventor": (*_INVENTOR_NAME, "inventor_id", "location_id"),
}
_SEQUENCE = {"cpc": "cpc_sequence", "assignee": "assignee_sequence", "inventor": "inventor_sequence"}
_BATCH = 10_000  # rows per insert
_LOOKUP = 500  # patents per side-row query (SQLite allows 32766 parameters)
_Place = tuple[str | None, str | None, str | None]  # country, city, "lat,lon"


def iter_patentsview_bulk(
    patent: Path | str,
    *,
    abstract: Path | str | None = None,
    cpc: Path | str | None = None,
    assignee: Path | str | None = None,
    location: Path | str | None = None,
    inventor: Path | str | None = None,
    source: str,
    require_abstract: bool = True,
    encoding: str = "auto",
    inventors: InventorPolicy = "fallback",
    report_orphans: bool = True,
) -> Iterator[IngestItem]:
    """Documents from g_patent joined with the side tables given; see the module doc for columns and memory.

    A withdrawn patent is quarantined (reason ``withdrawn``), never dropped. Actors: assignees
    (organisation, else the individual's name) with the country, city and coordinates of their
    location; inventors as the ``inventors`` policy says. ``classes``: one ``("cpc", "G06N3/08")`` per
    CPC row (the subclass is its first four characters, so it is not stored twice). Raises
    InputError naming the file and column when a table lacks a required column, or when an abstract
    is required and neither an abstract table nor a patent_abstract column exists. With
    ``inventors="never"`` the inventor table is not read at all.
    """
    main_path = Path(patent)
    side_paths = {r: Path(p) for r, p in (("abstract", abstract), ("cpc", cpc), ("assignee", assignee),
                                          ("inventor", inventor)) if p is not None}
    if inventors == "never":
        side_paths.pop("inventor", None)
    loc_path = Path(location) if location is not None else None
    with ExitStack() as opened:  # closes the tables and removes the spool however the stream ends

        def table(path: Path, required: Sequence[str]) -> CsvTable:
            found = read_csv(path, required=required, delimiter="\t", encoding=encoding)
            opened.callback(found.close)
            return found

        main = table(main_path, _PATENT)
        if require_abstract and abstract is None and "patent_abstract" not in main.header:
            raise InputError("no abstract table given and no patent_abstract column here", file=str(main_path),
                             field="patent_abstract")
        # Every header is checked before the long spooling starts, so a wrong file fails at once.
        sides = {r: table(p, ("patent_id", *_SIDE[r])) for r, p in side_paths.items()}
        loc_table = table(loc_path, _LOCATION) if loc_path else None
        yield FileOpened(str(main_path), main.encoding)
        for role, side in sides.items():
            yield FileOpened(str(side_paths[role]), side.encoding)
        places: dict[str, _Place] = {}
        if loc_path is not None and loc_table is not None:
            yield FileOpened(str(loc_path), loc_table.encoding)
            yield from _read_locations(loc_path, loc_table, source, places)
        spool = _Spool(Path(opened.enter_context(tempfile.TemporaryDirectory(prefix="s3text-patentsview-")))
                       / "side.sqlite")
        opened.callback(spool.close)
        for role, side in sides.items():
            yield from spool.load(role, side_paths[role], side, source)
        spool.index()
        yield from _join(main_path, main, spool, places, source, require_abstract, inventors)
        for role, line, pid, raw in spool.orphans() if report_orphans else ():
            problem = ("patent_id", "unknown_patent", f"patent_id {pid!r} is not in {main_path.name}")
            yield Quarantine(source, str(side_paths[role]))(line, problem, raw)


def _read_locations(path: Path, table: CsvTable, source: str, places: dict[str, _Place]) -> Iterator[QuarantineRecord]:
    quarantine = Quarantine(source, str(path))
    for rec in table.records:
        values = rec.get(table.header)
        key = values.get("location_id", "").strip()
        problem = structural_problem(rec, table.header)
        if problem is None and not key:
            problem = "location_id", "missing_id", "location_id is empty"
        elif problem is None and key in places:
            problem = "location_id", "duplicate_id", f"location_id {key!r} already seen earlier in the file"
        if problem is not None:
            yield quarantine(rec.line, problem, rec.raw)
            continue
        lat, lon = values.get("latitude", "").strip(), values.get("longitude", "").strip()
        try:
            geo = f"{float(lat)},{float(lon)}" if lat and lon else None
        except ValueError:
            yield quarantine(rec.line, ("latitude", "bad_coordinates", f"{lat!r}, {lon!r} are not numbers"), rec.raw)
            continue
        country = values["disambig_country"].strip().upper() or None
        places[key] = (country, values["disambig_city"].strip() or None, geo)


class _Spool:
    """Side-table rows on disk, keyed by patent_id, and the patent ids g_patent has shown (for orphans)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        # A scratch file: no journal or fsync (a crash loses nothing that the input files do not hold).
        # The kept columns go to f0..f4 as they are: no serialisation to pay per row.
        self.db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536;"
            "CREATE TABLE side (role TEXT, patent_id TEXT, seq INTEGER, line INTEGER, raw TEXT,"
            " f0 TEXT, f1 TEXT, f2 TEXT, f3 TEXT, f4 TEXT);"
            "CREATE TABLE patents (patent_id TEXT PRIMARY KEY);"
        )

    def load(self, role: str, path: Path, table: CsvTable, source: str) -> Iterator[QuarantineRecord]:
        quarantine, header = Quarantine(source, str(path)), table.header
        at = [header.index(c) for c in ("patent_id", *_SIDE[role])]
        seq_at = header.index(_SEQUENCE[role]) if _SEQUENCE.get(role) in header else None
        batch: list[tuple[object, ...]] = []
        insert = "INSERT INTO side VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        for rec in table.records:
            problem = structural_problem(rec, header)
            if problem is None:
                pid, *fields = (rec.fields[i].strip() for i in at)
                problem = _side_problem(role, pid, fields)
            if problem is not None:
                yield quarantine(rec.line, problem, rec.raw)
                continue
            if role == "cpc":
                fields[0] = cpc_code(fields[0]) or fields[0]
            seq = rec.fields[seq_at].strip() if seq_at is not None else ""
            padded = fields + [None] * (5 - len(fields))
            batch.append((role, pid, int(seq) if seq.isdigit() else None, rec.line, rec.raw[:MAX_RAW], *padded))
            if len(batch) >= _BATCH:
                self.db.executemany(insert, batch)
                batch.clear()
        self.db.executemany(insert, batch)

    def index(self) -> None:
        self.db.execute("CREATE INDEX side_patent ON side (patent_id)")

    def claim(self, patent_id: str) -> bool:
        """Record a patent id of g_patent; False when it was there already."""
        return self.db.execute("INSERT OR IGNORE INTO patents VALUES (?)", (patent_id,)).rowcount == 1

    def rows(self, patent_ids: Sequence[str]) -> dict[str, dict[str, list[tuple[str, ...]]]]:
        """Side rows of several patents at once (one query per batch, not per patent): id -> role -> rows."""
        found: dict[str, dict[str, list[tuple[str, ...]]]] = defaultdict(lambda: defaultdict(list))
        marks = ", ".join("?" * len(patent_ids))
        query = (f"SELECT patent_id, role, f0, f1, f2, f3, f4 FROM side WHERE patent_id IN ({marks})"
                 " ORDER BY patent_id, role, seq, rowid")
        for pid, role, *fields in self.db.execute(query, list(patent_ids)):
            found[pid][role].append(tuple(fields))
        return found

    def orphans(self) -> Iterator[tuple[str, int, str, str]]:
        query = ("SELECT role, line, patent_id, raw FROM side WHERE patent_id NOT IN (SELECT patent_id FROM patents)"
                 " ORDER BY role, line")
        yield from self.db.execute(query)

    def close(self) -> None:
        self.db.close()


def _side_problem(role: str, pid: str, fields: list[str]) -> Problem | None:
    if not pid:
        return "patent_id", "missing_id", "patent_id is empty"
    if role == "cpc" and cpc_code(fields[0]) is None:
        return "cpc_group", "bad_code", f"{fields[0]!r} is not a CPC group symbol like G06N3/08"
    names = {"assignee": _ASSIGNEE_NAME, "inventor": _INVENTOR_NAME}.get(role, ())
    if names and not any(fields[: len(names)]):
        return names[0], "missing_name", f"{' and '.join(names)} are all empty"
    return None


def _join(
    path: Path,
    main: CsvTable,
    spool: _Spool,
    places: dict[str, _Place],
    source: str,
    require_abstract: bool,
    inventors: InventorPolicy,
) -> Iterator[Document | QuarantineRecord]:
    quarantine = Quarantine(source, str(path))
    unplaced = 0
    while chunk := list(itertools.islice(main.records, _LOOKUP)):
        side = spool.rows([r.fields[0].strip() for r in chunk if r.fields and r.fields[0].strip()])
        for rec in chunk:
            values = rec.get(main.header)
            pid = values.get("patent_id", "").strip()
            problem = structural_problem(rec, main.header)
            # Claimed before the other checks, so the side rows of a withdrawn or invalid patent are not
            # reported again as orphans; a row that does not split into its fields has no trustworthy id.
            first = spool.claim(pid) if pid and problem is None else True
            rows = side.get(pid, {}) if problem is None else {}
            abstracts = list(dict.fromkeys(fields[0] for fields in rows.get("abstract", [])))
            if problem is None and not first:
                problem = "patent_id", "duplicate_id", f"patent_id {pid!r} already seen earlier in the file"
            elif problem is None and values.get("withdrawn", "").strip().lower() in ("1", "true"):
                problem = "withdrawn", "withdrawn", "the patent was withdrawn after grant"
            elif problem is None and len(abstracts) > 1:
                problem = "patent_abstract", "ambiguous_abstract", f"{len(abstracts)} different abstracts for {pid!r}"
            if abstracts:
                values["patent_abstract"] = abstracts[0]
            checked = problem or check_core(values, id_col="patent_id", title_col="patent_title",
                                            text_col="patent_abstract", date_cols=("patent_date",), seen=set(),
                                            require_abstract=require_abstract)
            if not isinstance(checked, Core):
                yield quarantine(rec.line, checked, rec.raw)
                continue
            people = {role: [_actor(role, fields, places) for fields in rows.get(role, [])]
                      for role in ("assignee", "inventor")}
            unplaced += sum(1 for actors in people.values() for _, known in actors if not known)
            yield patent_document(
                checked, source=source, file=str(path), row=rec.line, office="US",
                extra=extras(values, ("patent_type", "wipo_kind", "num_claims")),
                actors=with_inventors([a for a, _ in people["assignee"]], [a for a, _ in people["inventor"]],
                                      inventors),
                classes=dict.fromkeys(("cpc", fields[0]) for fields in rows.get("cpc", [])),
            )
    if unplaced and places:
        log.warning("%s: %d assignee/inventor rows name a location_id missing from the location table", path, unplaced)


def _actor(role: str, fields: Sequence[str], places: dict[str, _Place]) -> tuple[Actor, bool]:
    """The actor of one assignee or inventor row, and whether its location_id (if any) was found."""
    if role == "assignee":
        org, first, last, native_id, loc = fields[:5]
        name = org or " ".join(p for p in (first, last) if p)
    else:
        first, last, native_id, loc = fields[:4]
        name = " ".join(p for p in (first, last) if p)
    country, city, geo = places.get(loc, (None, None, None))
    actor = Actor(name, country=country, city=city, kind=role, role=role, native_id=native_id or None,
                  id_scheme=f"patentsview_{role}", geolocation=geo)
    return actor, not loc or loc in places
