"""Patent readers: PatentsView CSV and Google Patents search exports with their abstracts ndjson.

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
from pathlib import Path

from s3text.errors import InputError
from s3text.ingest._common import (
    Core,
    Quarantine,
    check_core,
    norm_space,
    opt,
    read_csv,
    read_text,
    structural_problem,
)
from s3text.records import Actor, Document, IngestResult

log = logging.getLogger(__name__)

_GOOGLE_DATES = ("priority date", "filing/creation date", "publication date")
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


def read_patentsview_csv(path: Path | str, *, source: str, require_abstract: bool = True) -> IngestResult:
    """PatentsView CSV (patent_abstract, patent_date, patent_number, patent_title): US grants, no actors."""
    path = Path(path)
    table = read_csv(path, required=("patent_abstract", "patent_date", "patent_number", "patent_title"))
    result, q = IngestResult(), Quarantine(source, str(path))
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
        if not isinstance(checked, Core):
            q.add(rec.line, *checked, rec.raw)
            continue
        result.documents.append(
            Document(
                source=source,
                source_kind="patent",
                native_id=checked.native_id,
                title=checked.title,
                text=checked.text,
                date=checked.date,
                provenance_file=str(path),
                provenance_row=rec.line,
                extra={"office": "US", "date_field": "patent_date"},
            )
        )
    result.quarantine.extend(q.records)
    log.info("%s: %d documents, %d quarantined", path, len(result.documents), len(result.quarantine))
    return result


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


def _read_abstracts(path: Path, q: Quarantine) -> tuple[int, dict[str, list[str | None]]]:
    """Line count and abstracts by normalised title; malformed lines are quarantined."""
    by_title: dict[str, list[str | None]] = defaultdict(list)
    # Not str.splitlines(): it also breaks at U+2028 and friends, which JSON strings may hold raw.
    lines = [line.rstrip("\r") for line in read_text(path).split("\n")]
    if lines and not lines[-1]:
        lines.pop()
    for number, line in enumerate(lines, start=1):
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            q.add(number, "*", "bad_json", exc.msg, line)
            continue
        if not (
            isinstance(item, list)
            and len(item) == 2
            and isinstance(item[1], str)
            and (item[0] is None or isinstance(item[0], str))
        ):
            q.add(number, "*", "bad_record", "expected [abstract_or_null, title]", line)
            continue
        by_title[norm_space(item[1])].append(item[0])
    return len(lines), by_title


def read_google_patents(
    search_csv: Path | str, abstracts_ndjson: Path | str, *, source: str, require_abstract: bool = True
) -> IngestResult:
    """A Google Patents search export (line 1: search URL, line 2: header) + its abstracts ndjson.

    The date is the priority date, else the filing date, else the publication date; which one was
    used is kept in ``extra["date_field"]``. ``extra["office"]`` is the id prefix (US, CN, ...).
    Raises InputError naming the ndjson when its line count differs from the CSV's record count or
    when most titles cannot be found in it (the files do not belong together).
    """
    search_csv, abstracts_ndjson = Path(search_csv), Path(abstracts_ndjson)
    table = read_csv(
        search_csv, required=("id", "title", "assignee", *_GOOGLE_DATES), preamble_prefix="search URL"
    )
    records = list(table.records)
    result = IngestResult()
    q_csv, q_nd = Quarantine(source, str(search_csv)), Quarantine(source, str(abstracts_ndjson))
    n_lines, by_title = _read_abstracts(abstracts_ndjson, q_nd)
    if n_lines != len(records):
        raise InputError(
            f"misaligned: {n_lines} lines but {search_csv.name} has {len(records)} records",
            file=str(abstracts_ndjson),
        )
    unmatched = sum(1 for r in records if norm_space(r.get(table.header).get("title", "")) not in by_title)
    if records and unmatched > len(records) / 2:
        raise InputError(
            f"{unmatched} of {len(records)} titles of {search_csv.name} are not in this file",
            file=str(abstracts_ndjson),
        )
    seen: set[str] = set()
    for rec in records:
        values = rec.get(table.header)
        problem = structural_problem(rec, table.header)
        candidates = by_title.get(norm_space(values.get("title", "")))
        if problem is None and candidates is None:
            problem = "title", "unmatched_title", f"title not found in {abstracts_ndjson.name}"
        elif problem is None and candidates is not None and len(set(candidates)) > 1:
            problem = (
                "abstract",
                "ambiguous_abstract",
                f"{len(candidates)} lines of {abstracts_ndjson.name} share this title, abstracts differ",
            )
        if problem is not None:
            q_csv.add(rec.line, *problem, rec.raw)
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
            q_csv.add(rec.line, *checked, rec.raw)
            continue
        actors = tuple(
            Actor(name, kind="assignee", role="assignee") for name in split_assignees(values["assignee"])
        )
        extra = {"office": checked.native_id.split("-", 1)[0], "date_field": checked.date_field}
        for key, column in (
            ("inventors", "inventor/author"),
            ("grant_date", "grant date"),
            ("publication_date", "publication date"),
        ):
            if values.get(column, "").strip():
                extra[key] = values[column].strip()
        result.documents.append(
            Document(
                source=source,
                source_kind="patent",
                native_id=checked.native_id,
                title=checked.title,
                text=checked.text,
                date=checked.date,
                provenance_file=str(search_csv),
                provenance_row=rec.line,
                actors=actors,
                url=opt(values.get("result link")),
                extra=extra,
            )
        )
    result.quarantine.extend(q_csv.records + q_nd.records)
    log.info("%s: %d documents, %d quarantined", search_csv, len(result.documents), len(result.quarantine))
    return result
