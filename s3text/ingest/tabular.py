"""One row interface over every table format we read, streamed, with the row number each format uses.

The same table arrives as CSV/TSV (plain, ``.gz``, or in a ``.zip``), one JSON array of objects, JSON
Lines, Parquet or an XLSX workbook, told by the file name (a bare ``x.zip`` by its one member's name).
Readers validate values, not formats, so each :class:`Row` carries its values, a structural problem if
the record could not be split into fields, and the number a person would use to find it: the physical
line where a CSV record starts (header = 1), the 1-based index of a JSON object in its array, the line
of a JSON Lines record, the 1-based Parquet row, or the spreadsheet row of an XLSX sheet (header = 1).
Nothing is loaded whole: CSV goes through the streamed :func:`read_csv`, JSON arrays through ijson,
JSON Lines line by line, Parquet in record batches, XLSX through openpyxl's read-only mode (those
four in :mod:`s3text.ingest.tabular_formats`).
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from s3text.errors import InputError
from s3text.ingest._common import MAX_RAW, Problem, read_csv, structural_problem
from s3text.ingest.textio import open_binary

KINDS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
         ".parquet": "parquet", ".xlsx": "xlsx"}
KEYED = frozenset({"json", "jsonl"})  # kinds whose records carry their own keys
_DELIMITERS = ",;\t|"  # sniffed in this order; the order breaks ties


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    values: Mapping[str, Any]  # text (CSV, XLSX) or the values as parsed (JSON, Parquet)
    source: Any  # the record's text (CSV, JSON Lines) or its parsed value; raw is made from it on demand
    problem: Problem | None = None

    @property
    def raw(self) -> str:
        """The record as the file holds it (CSV, JSON Lines) or as JSON (the others), capped, for quarantine."""
        if isinstance(self.source, str):
            return self.source[:MAX_RAW]
        return json.dumps(self.source, ensure_ascii=False, default=cell_text)[:MAX_RAW]

    def texts(self) -> Mapping[str, str]:
        """Every value as the text a CSV export would hold."""
        return {key: cell_text(value) for key, value in self.values.items()}


@dataclass(frozen=True, slots=True)
class TextRow(Row):
    """A row whose values are text already (CSV, XLSX): :meth:`texts` hands them over without a copy."""

    def texts(self) -> Mapping[str, str]:
        return cast(Mapping[str, str], self.values)


@dataclass(slots=True)
class Table:
    file: str  # as quarantine records and summaries name it: the path, or "archive.zip!member"
    kind: str  # csv, json, jsonl, parquet or xlsx
    encoding: str
    header: list[str]  # for JSON the keys of the first objects, in order of appearance
    where: str  # what the header is, for error messages: "header", "schema", "keys of the first 15 records"
    rows: Generator[Row, None, None]
    release: Callable[[], object]  # closes the file whatever state the rows are in

    def close(self) -> None:
        """Close the file before the rows are exhausted (closing an unstarted generator would not)."""
        self.rows.close()
        self.release()

    @property
    def header_row(self) -> int | None:
        return 1 if self.kind in ("csv", "xlsx") else None


def scalar_text(value: object) -> str | None:
    """A scalar cell as the text a CSV export would hold; None for lists, objects and bytes.

    Empty and NaN cells are "". Integral floats lose the ".0" (ids and postcodes read through pandas or
    a spreadsheet become 12345.0); other numbers keep their shortest repr. Datetimes at midnight become
    plain dates because XLSX has no date-only cell.
    """
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    return None


def cell_text(value: object) -> str:
    """Any cell as text: a scalar as :func:`scalar_text` writes it, a list joined by "; ", the rest as JSON."""
    text = scalar_text(value)
    if text is not None:
        return text
    if isinstance(value, list | tuple):
        return "; ".join(cell_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return [n for n in archive.namelist() if not n.endswith("/")]
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read zip: {exc}", file=str(path)) from exc


def _suffix(path: Path, member: str | None) -> str:
    """The type suffix of the table (of ``member`` when given): ``.gz``/``.zip`` are looked through, and a
    bare ``x.zip`` takes the name of its one member."""
    name = re.sub(r"\.(gz|zip)$", "", (member or path.name).lower())
    if member is None and path.suffix.lower() == ".zip" and Path(name).suffix not in KINDS:
        names = _members(path)
        name = names[0].lower().removesuffix(".gz") if len(names) == 1 else name
    return Path(name).suffix


def table_kind(path: Path, member: str | None = None, suffix: str | None = None) -> str:
    """csv, json, jsonl, parquet or xlsx from the name (or its ``suffix``); raises InputError for any other."""
    suffix = _suffix(path, member) if suffix is None else suffix
    if suffix not in KINDS:
        raise InputError(f"cannot tell the table type from the name; use {', '.join(KINDS)} "
                         "(CSV and JSON may be .gz or in a .zip)", file=str(path))
    return KINDS[suffix]


def zip_member(path: Path, role: str) -> str | None:
    """The member of a multi-file zip whose name (before the first dot) is ``role``, e.g. project.csv.

    A one-file zip needs no choice (None). Official downloads put all tables of a programme in one zip.
    """
    names = _members(path)
    if len(names) == 1:
        return None
    found = [n for n in names if Path(n).name.split(".")[0].casefold() == role.casefold()]
    if len(found) != 1:
        raise InputError(f"zip holds {names}; expected exactly one {role}.csv/.json/.xlsx", file=str(path))
    return found[0]


def open_table(
    path: Path,
    *,
    required: Sequence[str] = (),
    delimiter: str | None = None,
    encoding: str = "auto",
    member: str | None = None,
) -> Table:
    """Open a table and check its columns; rows stream lazily (the file closes when they are exhausted).

    ``delimiter`` applies to ``.csv``/``.txt``; None sniffs it from the header line. ``.tsv`` is always
    tab-separated. ``encoding`` does not apply to Parquet and XLSX. Raises InputError when the file
    cannot be read, is not the format its name says, or lacks a required column, because then no row
    of it can be trusted.
    """
    path = Path(path)
    label = str(path) if member is None else f"{path}!{member}"
    suffix = _suffix(path, member)
    kind = table_kind(path, suffix=suffix)
    if kind in ("parquet", "xlsx") and path.suffix.lower() in (".gz", ".zip"):
        raise InputError(f"{kind} compresses inside the file; unpack the .gz/.zip", file=label)
    if kind == "csv":
        delimiter = "\t" if suffix == ".tsv" else delimiter or _sniff(path, member)
        return _csv_table(path, label, required, delimiter, encoding, member)
    from s3text.ingest import tabular_formats as formats  # they build on Row and Table, defined here

    if kind == "parquet":
        return formats.parquet_table(path, label, required)
    if kind == "xlsx":
        return formats.xlsx_table(path, label, required)
    return formats.keyed_table(path, label, kind, required, encoding, member)


def _sniff(path: Path, member: str | None) -> str:
    """The delimiter that occurs most often in the header line, outside quotes."""
    with open_binary(path, member) as handle:
        head = handle.readline(1 << 16)
    # The candidates are ASCII: dropping NULs (UTF-16/32) and reading as Latin-1 keeps them, whatever the encoding.
    line = re.sub(r'"[^"]*"', "", head.replace(b"\x00", b"").decode("latin-1"))
    counts = [line.count(d) for d in _DELIMITERS]
    return _DELIMITERS[counts.index(max(counts))] if max(counts) else ","


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
            yield TextRow(rec.line, rec.get(table.header), rec.raw, problem)

    return Table(label, "csv", table.encoding, table.header, "header", rows(), table.close)
