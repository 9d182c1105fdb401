"""One row interface over CSV, JSON arrays and XLSX sheets, streamed, with the row number each format uses.

Official exports (CORDIS and others) ship the same table as ``;``-CSV, as one JSON array of objects, or as
an XLSX workbook. Readers validate values, not formats, so each :class:`Row` carries text values, a
structural problem if the record could not be split into fields, and the number a person would use to
find it: the physical line where a CSV record starts (header = 1), the 1-based index of a JSON object in
its array, or the spreadsheet row of an XLSX sheet (header = 1). Nothing is loaded whole: CSV goes
through the streamed :func:`read_csv`, JSON through ijson, XLSX through openpyxl's read-only mode.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from s3text.errors import InputError
from s3text.ingest._common import MAX_RAW, Problem, read_csv, structural_problem
from s3text.ingest.textio import open_text

XLSX_ENCODING = "xlsx"  # what FileOpened reports for a workbook: its XML parts carry their own encoding


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    values: dict[str, str]
    source: Any  # the CSV text, the parsed JSON value or the XLSX cells; raw is made from it on demand
    problem: Problem | None = None

    @property
    def raw(self) -> str:
        """The record as the file holds it (CSV) or as JSON (JSON, XLSX), capped, for quarantine."""
        if isinstance(self.source, str):
            return self.source[:MAX_RAW]
        return json.dumps(self.source, ensure_ascii=False, default=cell_text)[:MAX_RAW]


@dataclass(slots=True)
class Table:
    file: str  # as quarantine records and summaries name it: the path, or "archive.zip!member"
    encoding: str
    header: list[str]
    rows: Generator[Row, None, None]


def cell_text(value: object) -> str:
    """A JSON or XLSX value as the text a CSV export would hold.

    Floats keep Python's shortest repr ("194046.6", "100.0"); integral floats in id columns are the
    caller's business. Datetimes at midnight become plain dates because XLSX has no date-only cell.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int | float | Decimal | str):
        return str(value)
    if isinstance(value, list):
        return "; ".join(cell_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False, default=cell_text)


def table_kind(name: str) -> str:
    """csv, json or xlsx from a file name; ``.gz`` is looked through."""
    lower = name.lower().removesuffix(".gz")
    for suffix, kind in ((".json", "json"), (".xlsx", "xlsx"), (".csv", "csv"), (".tsv", "csv"), (".txt", "csv")):
        if lower.endswith(suffix):
            return kind
    raise InputError("cannot tell the format from the name (expected .csv, .json or .xlsx)", file=name)


def zip_member(path: Path, role: str) -> str | None:
    """The member of a multi-file zip whose name (before the first dot) is ``role``, e.g. project.csv.

    A one-file zip needs no choice (None). Official downloads put all tables of a programme in one zip.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read zip: {exc}", file=str(path)) from exc
    if len(names) == 1:
        return None
    found = [n for n in names if Path(n).name.split(".")[0].casefold() == role.casefold()]
    if len(found) != 1:
        raise InputError(f"zip holds {names}; expected exactly one {role}.csv/.json/.xlsx", file=str(path))
    return found[0]


def open_table(
    path: Path,
    *,
    required: Sequence[str],
    delimiter: str = ";",
    encoding: str = "auto",
    member: str | None = None,
) -> Table:
    """Open a table and check its columns; rows stream lazily (the file closes when they are exhausted).

    Raises InputError when the file cannot be read, is not the format its name says, or lacks a
    required column, because then no row of it can be trusted.
    """
    label = str(path) if member is None else f"{path}!{member}"
    kind = table_kind(member if member is not None else path.name)
    if kind == "csv":
        return _csv_table(path, label, required, delimiter, encoding, member)
    if kind == "json":
        return _json_table(path, label, required, encoding, member)
    if member is not None or path.suffix.lower() != ".xlsx":
        raise InputError("an XLSX workbook must be a plain .xlsx file, not compressed", file=label)
    return _xlsx_table(path, label, required)


def _csv_table(
    path: Path, label: str, required: Sequence[str], delimiter: str, encoding: str, member: str | None
) -> Table:
    table = read_csv(path, required=required, delimiter=delimiter, encoding=encoding, member=member)

    def rows() -> Generator[Row, None, None]:
        for rec in table.records:
            problem = structural_problem(rec, table.header)
            if problem is not None and problem[1] == "ragged_row" and rec.raw.count("\n") > 2:
                # One record over many lines with too few fields is what an unclosed quote looks like.
                problem = (*problem[:2], f"{problem[2]}; the record spans {rec.raw.count(chr(10))} lines "
                           "(an unclosed quote?)")
            yield Row(rec.line, rec.get(table.header), rec.raw, problem)

    return Table(label, table.encoding, table.header, rows())


class Utf8Bytes:
    """A binary view of a text stream for ijson, so JSON gets the same encoding rules as CSV."""

    def __init__(self, text: TextIO, prefix: str = "") -> None:
        self._text, self._prefix = text, prefix

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes with read(0) to tell bytes from text; the prefix must survive it
            return b""
        chunk, self._prefix = self._prefix + self._text.read(size), ""
        return chunk.encode("utf-8")


def _json_table(path: Path, label: str, required: Sequence[str], encoding: str, member: str | None) -> Table:
    import ijson

    context = open_text(path, encoding, member)
    handle, used = context.__enter__()
    try:
        first = ""
        while (char := handle.read(1)) and char.isspace():
            pass
        first = char
        if first != "[":
            what = "an empty file" if not first else f"{first!r}"
            raise InputError(f"expected a JSON array of objects, the file starts with {what}", file=label, row=1)
        items = ijson.items(Utf8Bytes(handle, first), "item")
        head = _next_item(items, label, 1)
    except UnicodeDecodeError as exc:
        context.__exit__(None, None, None)
        raise InputError(f"cannot decode as {used}: {exc.reason}", file=label) from exc
    except BaseException:
        context.__exit__(None, None, None)
        raise
    header = list(head[1]) if head is not None and isinstance(head[1], dict) else list(required)
    missing = [c for c in required if c not in header]
    if missing:
        context.__exit__(None, None, None)
        raise InputError(f"first object lacks required key(s) {missing}; it has {header}", file=label, row=1,
                         field=missing[0])

    def rows() -> Generator[Row, None, None]:
        try:
            item, number = head, 1
            while item is not None:
                yield _json_row(number, item[1])
                number += 1
                item = _next_item(items, label, number)
        finally:
            context.__exit__(None, None, None)

    return Table(label, used, header, rows())


def _next_item(items: Iterator[Any], label: str, number: int) -> tuple[int, Any] | None:
    import ijson

    try:
        return number, next(items)
    except StopIteration:
        return None
    except ijson.JSONError as exc:
        raise InputError(f"invalid or truncated JSON in object {number}: {exc}", file=label, row=number) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot decode object {number}: {exc.reason}", file=label, row=number) from exc


def _json_row(number: int, item: Any) -> Row:
    if not isinstance(item, dict):
        kind = type(item).__name__ if item is not None else "null"
        raw = json.dumps(item, ensure_ascii=False, default=cell_text)
        return Row(number, {}, raw, ("*", "bad_record", f"array element is a JSON {kind}, not an object"))
    return Row(number, {str(k): cell_text(v) for k, v in item.items()}, item)


def _xlsx_table(path: Path, label: str, required: Sequence[str]) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"cannot read XLSX workbook: {exc}", file=label) from exc
    try:
        cells = book.worksheets[0].iter_rows(values_only=True)
        first = next(cells, None)
    except BaseException:
        book.close()
        raise
    header = [cell_text(v).strip() for v in first or ()]
    while header and not header[-1]:
        header.pop()
    if first is None:
        book.close()
        raise InputError("empty sheet, no header", file=label, row=1)
    missing = [c for c in required if c not in header]
    if missing:
        book.close()
        raise InputError(f"missing required column(s) {missing}; header is {header}", file=label, row=1,
                         field=missing[0])

    def rows() -> Generator[Row, None, None]:
        try:
            for number, row in enumerate(cells, start=2):
                if all(v is None or v == "" for v in row):
                    continue  # a blank sheet row is not a record, as a blank CSV line is not
                values = {name: cell_text(v) for name, v in zip(header, row, strict=False)}
                extra = [v for v in row[len(header):] if v is not None and v != ""]
                problem = None
                if extra:
                    problem = ("*", "ragged_row", f"{len(extra)} value(s) right of the last named column")
                yield Row(number, values, values, problem)
        finally:
            book.close()

    return Table(label, XLSX_ENCODING, header, rows())
