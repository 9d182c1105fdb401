"""Patent readers: PatentsView API CSV and Google Patents search exports with their abstracts ndjson.

Both stream: they yield :class:`FileOpened` per file, then documents and quarantined records.
PatentsView bulk tables are read by :mod:`s3text.ingest.patentsview`, USPTO grant XML by
:mod:`s3text.ingest.uspto`.

The Google abstracts ndjson is NOT in the CSV's row order, although it has the same number of
lines: in the ten Koehrsen topic files only 19-41 of 659-949 lines per topic sit on the CSV row of
the same title (the scraper wrote results as they arrived), and a line can be up to 487 rows away.
So abstracts are joined on the whitespace-normalised title, and a title that appears several times
with different abstracts is quarantined rather than guessed.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from pathlib import Path
from typing import Literal

from s3text.errors import InputError
from s3text.ingest._common import Core, CsvTable, Quarantine, check_core, norm_space, opt, read_csv, structural_problem
from s3text.ingest.textio import open_text
from s3text.records import Actor, Document, FileOpened, IngestItem, IngestResult, QuarantineRecord

log = logging.getLogger(__name__)

_GOOGLE_DATES = ("priority date", "filing/creation date", "publication date")
_GOOGLE_EXTRAS = (("inventors", "inventor/author"), ("grant_date", "grant date"),
                  ("publication_date", "publication date"))  # (extra key, column)
# A comma-separated piece that is only a legal-form or name suffix belongs to the name before it
# ("Aison Co., Ltd.", "Iowa State University Research Foundation, Inc."), not to a new assignee.
_SUFFIX = re.compile(
    r"(inc|incorporated|ltd|limited|llc|l\.l\.c|lp|l\.p|llp|plc|corp|corporation|co|company|gmbh|ag|kg|"
    r"n\.v|nv|b\.v|bv|s\.a|sa|s\.p\.a|spa|ab|oy|jr|sr|ii|iii|iv)\.?\)?"
    r"(;.*)?",  # "Garrett, Jr.; James H.": surname, suffix; given names
    re.IGNORECASE,
)
# "Searete Llc, A Limited Liability Corporation Of The State Of Delaware": an appositive, not an assignee.
_APPOSITIVE = re.compile(r"(a|an)\s", re.IGNORECASE)


def iter_patentsview_csv(
    path: Path | str, *, source: str, require_abstract: bool = True, encoding: str = "auto"
) -> Iterator[IngestItem]:
    """PatentsView API CSV (patent_abstract, patent_date, patent_number, patent_title): US grants, no actors."""
    path = Path(path)
    table = read_csv(
        path, required=("patent_abstract", "patent_date", "patent_number", "patent_title"), encoding=encoding
    )
    yield FileOpened(str(path), table.encoding)
    quarantine = Quarantine(source, str(path))
    seen: set[str] = set()
    for rec in table.records:
        values = rec.get(table.header)
        checked = structural_problem(rec, table.header) or check_core(
            values,
            id_col="patent_number",
            title_col="patent_title",
            text_col="patent_abstract",
            date_cols=("patent_date",),
            seen=seen,
            require_abstract=require_abstract,
        )
        if isinstance(checked, Core):
            yield patent_document(checked, source=source, file=str(path), row=rec.line, office="US")
        else:
            yield quarantine(rec.line, checked, rec.raw)


def read_patentsview_csv(path: Path | str, *, source: str, require_abstract: bool = True) -> IngestResult:
    """All of :func:`iter_patentsview_csv` in memory."""
    return IngestResult.collect(iter_patentsview_csv(path, source=source, require_abstract=require_abstract))


def split_assignees(value: str) -> list[str]:
    """Split a Google Patents assignee cell into names.

    The export joins several assignees with ", " but also keeps commas inside names ("Gs Systems,
    Inc."); a piece that is only a legal-form suffix, or that starts with "A "/"An " (a description
    of the previous name), is glued back to the name before it. HTML
    entities in the export ("AT&amp;T Corp.") are decoded. Exact repeats are dropped.
    """
    names: list[str] = []
    for piece in html.unescape(value).split(","):
        piece = norm_space(piece)
        if not piece:
            continue
        if names and (_SUFFIX.fullmatch(piece) or _APPOSITIVE.match(piece)):
            names[-1] = f"{names[-1]}, {piece}"
        else:
            names.append(piece)
    return list(dict.fromkeys(names))


def _read_abstracts(
    path: Path, encoding: str, source: str
) -> tuple[str, int, dict[str, list[str | None]], list[QuarantineRecord]]:
    """Encoding used, line count, abstracts by normalised title, and the malformed lines (quarantined)."""
    by_title: dict[str, list[str | None]] = defaultdict(list)
    bad: list[QuarantineRecord] = []
    number = 0
    with open_text(path, encoding) as (handle, used):
        quarantine = Quarantine(source, str(path))
        # newline="" iteration ends lines only at \r and \n; str.splitlines() would also break at
        # U+2028 and friends, which JSON strings may hold raw.
        try:
            for number, raw_line in enumerate(handle, start=1):
                line = raw_line.rstrip("\r\n")
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    bad.append(quarantine(number, ("*", "bad_json", exc.msg), line))
                    continue
                if not (
                    isinstance(item, list)
                    and len(item) == 2
                    and isinstance(item[1], str)
                    and (item[0] is None or isinstance(item[0], str))
                ):
                    bad.append(quarantine(number, ("*", "bad_record", "expected [abstract_or_null, title]"), line))
                    continue
                by_title[norm_space(item[1])].append(item[0])
        except UnicodeDecodeError as exc:
            raise InputError(f"cannot decode as {used}: {exc.reason}", file=str(path), row=number + 1) from exc
    return used, number, by_title, bad


def iter_google_patents(
    search_csv: Path | str,
    abstracts: Path | str,
    *,
    source: str,
    require_abstract: bool = True,
    encoding: str = "auto",
) -> Iterator[IngestItem]:
    """A Google Patents search export (line 1: search URL, line 2: header) + its abstracts ndjson.

    The date is the priority date, else the filing date, else the publication date; which one was
    used is kept in ``extra["date_field"]``. ``extra["office"]`` is the id prefix (US, CN, ...).
    Raises InputError naming the ndjson when its line count differs from the CSV's record count or
    when most titles cannot be found in it (the files do not belong together). The ndjson is held
    as a dict by title (it is the small file); the CSV is read twice, once to check that the two
    belong together before anything is yielded, once to yield, so it is never held whole.
    """
    search_csv, abstracts = Path(search_csv), Path(abstracts)
    required = ("id", "title", "assignee", *_GOOGLE_DATES)

    def table() -> CsvTable:
        return read_csv(search_csv, required=required, preamble_prefix="search URL", encoding=encoding)

    with closing(table()) as first:  # closed even when the ndjson fails before the records are read
        used_nd, n_lines, by_title, bad_lines = _read_abstracts(abstracts, encoding, source)
        n_records = unmatched = 0
        for rec in first.records:
            n_records += 1
            unmatched += norm_space(rec.get(first.header).get("title", "")) not in by_title
    if n_lines != n_records:
        raise InputError(
            f"misaligned: {n_lines} lines but {search_csv.name} has {n_records} records", file=str(abstracts)
        )
    if n_records and unmatched > n_records / 2:
        raise InputError(
            f"{unmatched} of {n_records} titles of {search_csv.name} are not in this file", file=str(abstracts)
        )
    yield FileOpened(str(search_csv), first.encoding)
    yield FileOpened(str(abstracts), used_nd)
    yield from bad_lines
    second = table()
    quarantine = Quarantine(source, str(search_csv))
    seen: set[str] = set()
    for rec in second.records:
        values = rec.get(second.header)
        problem = structural_problem(rec, second.header)
        candidates = by_title.get(norm_space(values.get("title", "")))
        if problem is None and candidates is None:
            problem = "title", "unmatched_title", f"title not found in {abstracts.name}"
        elif problem is None and candidates is not None and len(set(candidates)) > 1:
            problem = (
                "abstract",
                "ambiguous_abstract",
                f"{len(candidates)} lines of {abstracts.name} share this title, abstracts differ",
            )
        if problem is not None:
            yield quarantine(rec.line, problem, rec.raw)
            continue
        values["abstract"] = (candidates or [None])[0] or ""
        checked = check_core(
            values,
            id_col="id",
            title_col="title",
            text_col="abstract",
            date_cols=_GOOGLE_DATES,
            seen=seen,
            require_abstract=require_abstract,
        )
        if not isinstance(checked, Core):
            yield quarantine(rec.line, checked, rec.raw)
            continue
        extra = {key: values[column].strip() for key, column in _GOOGLE_EXTRAS if values.get(column, "").strip()}
        yield patent_document(
            checked, source=source, file=str(search_csv), row=rec.line, office=checked.native_id.split("-", 1)[0],
            extra=extra, actors=[Actor(name, kind="assignee", role="assignee")
                                 for name in split_assignees(values["assignee"])],
            url=opt(values.get("result link")),
        )


def read_google_patents(
    search_csv: Path | str, abstracts_ndjson: Path | str, *, source: str, require_abstract: bool = True
) -> IngestResult:
    """All of :func:`iter_google_patents` in memory."""
    return IngestResult.collect(
        iter_google_patents(search_csv, abstracts_ndjson, source=source, require_abstract=require_abstract)
    )


def patent_document(
    core: Core, *, source: str, file: str, row: int, office: str, date_field: str | None = None,
    extra: Mapping[str, str] | None = None, actors: Iterable[Actor] = (), classes: Iterable[tuple[str, str]] = (),
    url: str | None = None,
) -> Document:
    """A patent Document; ``extra`` starts with the office and the date field used (default: ``core``'s)."""
    return Document(
        source=source, source_kind="patent", native_id=core.native_id, title=core.title, text=core.text,
        date=core.date, provenance_file=file, provenance_row=row, actors=tuple(actors), classes=tuple(classes),
        url=url, extra={"office": office, "date_field": date_field or core.date_field, **(extra or {})},
    )


# The same code from PatentsView (cpc_group "G06N3/08") and the XML (G 06 N 3 08) so sources agree.
_CPC = re.compile(r"[A-HY]\d{2}[A-Z]\d{1,4}/\d{2,6}")

# Which inventors become actors. "fallback" (the default): only when no assignee has a country, so a
# patent without an assignee location (about one in six US grants: individual inventors, missing
# addresses) still gets a region, while the actors of the others stay organisations. "always" gives
# inventor-based regional counts (the OECD REGPAT convention); "never" keeps assignees only.
InventorPolicy = Literal["never", "fallback", "always"]


def cpc_code(text: str) -> str | None:
    """``G06N3/08`` from ``G06N 3/08`` or ``G06N3/08``; None when it is not a CPC group or subgroup symbol."""
    code = "".join(text.split()).upper()
    return code if _CPC.fullmatch(code) else None


def with_inventors(assignees: list[Actor], inventors: list[Actor], policy: InventorPolicy) -> tuple[Actor, ...]:
    """The actors of a patent under an inventor policy; repeats (same scheme, id, name, role) dropped."""
    use = policy == "always" or (policy == "fallback" and not any(a.country for a in assignees))
    actors = assignees + (inventors if use else [])
    return tuple(dict.fromkeys(actors))
