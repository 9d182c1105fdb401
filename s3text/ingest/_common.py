"""Shared machinery for the readers: CSV records with physical line numbers, checks, quarantine.

The stdlib ``csv`` module is used instead of pandas because quarantine records must point at the
physical line where a record starts, and pandas loses that as soon as a field holds a newline.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from s3text.errors import InputError
from s3text.records import QuarantineRecord

log = logging.getLogger(__name__)

MAX_RAW = 2000
# Abstracts of several hundred kB exist in the wild; the csv default (128 kB) would turn them into errors.
csv.field_size_limit(64 * 1024 * 1024)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def read_text(path: Path) -> str:
    """The whole file as text; utf-8-sig so that a BOM never ends up in the first column name."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", file=str(path)) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"not UTF-8 (byte {exc.start}: {exc.reason})", file=str(path), row=line) from exc


@dataclass(frozen=True, slots=True)
class CsvRecord:
    """One CSV record and the physical line (1-based, header = line 1) where it starts."""

    line: int
    fields: list[str]
    raw: str
    error: str | None = None  # csv.Error text when the record could not be split into fields

    def get(self, header: Sequence[str]) -> dict[str, str]:
        return dict(zip(header, self.fields, strict=False))


@dataclass(slots=True)
class CsvTable:
    header: list[str]
    records: Iterator[CsvRecord]
    preamble: str | None = None  # a line before the header (Google Patents: the search URL)


def read_csv(
    path: Path, *, required: Sequence[str], delimiter: str = ",", preamble_prefix: str | None = None
) -> CsvTable:
    """Open a CSV and check its header; records are parsed lazily, blank lines are skipped.

    Raises InputError when the file is unreadable or lacks a required column, because then no row
    of it can be trusted.
    """
    buf = io.StringIO(read_text(path), newline="")
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for text_line in buf:
            consumed.append(text_line)
            yield text_line

    line_iter = lines()
    preamble = None
    offset = 0
    if preamble_prefix is not None:
        first = buf.readline()
        if first.startswith(preamble_prefix):
            preamble, offset = first.rstrip("\r\n"), 1
        else:
            buf.seek(0)
    reader = csv.reader(line_iter, delimiter=delimiter, quotechar='"')
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty file, no header", file=str(path), row=offset + 1) from None
    except csv.Error as exc:
        raise InputError(f"unparseable header: {exc}", file=str(path), row=offset + 1) from exc
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            f"missing required column(s) {missing}; header is {header}",
            file=str(path),
            row=offset + 1,
            field=missing[0],
        )
    start_line = offset + len(consumed) + 1
    consumed.clear()

    def records() -> Iterator[CsvRecord]:
        nonlocal start_line
        while True:
            try:
                fields = next(reader)
                error = None
            except StopIteration:
                return
            except csv.Error as exc:
                fields, error = [], str(exc)
            raw = "".join(consumed)
            line, start_line = start_line, start_line + len(consumed)
            consumed.clear()
            if error is not None:
                yield CsvRecord(line, [], raw, error)
            elif fields:  # an empty list is a blank line, not a record
                yield CsvRecord(line, fields, raw)

    return CsvTable(header, records(), preamble)


@dataclass(slots=True)
class Quarantine:
    """Collects quarantine records for one file of one source."""

    source: str
    file: str
    records: list[QuarantineRecord] = field(default_factory=list)

    def add(self, row: int, column: str, code: str, message: str, raw: str) -> None:
        self.records.append(
            QuarantineRecord(self.source, self.file, row, column, f"{code}: {message}", raw[:MAX_RAW])
        )
        log.debug("quarantined %s row %d (%s): %s", self.file, row, code, message)


Problem = tuple[str, str, str]  # (field, reason code, message)


def structural_problem(rec: CsvRecord, header: Sequence[str]) -> Problem | None:
    """Problems that make a record's fields unusable: parse errors, NUL bytes, wrong field count."""
    if rec.error is not None:
        return "*", "csv_error", rec.error
    for name, value in zip(header, rec.fields, strict=False):
        if "\x00" in value:
            return name, "nul_byte", "field holds a NUL byte (binary or truncated data)"
    if len(rec.fields) != len(header):
        return "*", "ragged_row", f"{len(rec.fields)} fields, header has {len(header)}"
    return None


def parse_date(value: str) -> date:
    """ISO ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS``; raises ValueError otherwise."""
    value = value.strip()
    try:
        if _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
        if _ISO_DATETIME.fullmatch(value):
            return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").date()
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid date ({exc})") from exc
    raise ValueError(f"{value!r} is not YYYY-MM-DD")


def norm_space(value: str) -> str:
    return " ".join(value.split())


def opt(value: str | None) -> str | None:
    """Empty cells become None so that '' never masquerades as a country or city."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def extras(values: Mapping[str, str], keys: Sequence[str]) -> dict[str, str]:
    return {k: values[k].strip() for k in keys if values.get(k, "").strip()}


@dataclass(frozen=True, slots=True)
class Core:
    native_id: str
    title: str
    text: str
    date: date
    date_field: str


def check_core(
    values: Mapping[str, str],
    *,
    id_col: str,
    title_col: str,
    text_col: str,
    date_cols: Sequence[str],
    seen: set[str],
    require_abstract: bool,
) -> Core | Problem:
    """Validate the fields every document needs; the first failing check decides the reason.

    ``date_cols`` are tried in order and the first non-empty one is used; a non-empty but invalid
    value is an error rather than a reason to fall back, so a typo never silently moves a record
    to another year. ``seen`` collects accepted ids so that a repeated id is caught.
    """
    native_id = values.get(id_col, "").strip()
    if not native_id:
        return id_col, "missing_id", f"{id_col} is empty"
    if native_id in seen:
        return id_col, "duplicate_id", f"{id_col} {native_id!r} already seen earlier in the file"
    date_field = next((c for c in date_cols if values.get(c, "").strip()), None)
    if date_field is None:
        return date_cols[0], "bad_date", f"no date in {list(date_cols)}"
    try:
        when = parse_date(values[date_field])
    except ValueError as exc:
        return date_field, "bad_date", str(exc)
    title, text = norm_space(values.get(title_col, "")), values.get(text_col, "")
    if not title and not text.strip():
        return text_col, "empty_text", f"{title_col} and {text_col} are both empty"
    if require_abstract and not text.strip():
        return text_col, "missing_abstract", f"{text_col} is empty and an abstract is required"
    seen.add(native_id)
    return Core(native_id, title, text if text.strip() else "", when, date_field)
