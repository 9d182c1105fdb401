"""Shared machinery for the readers: streamed CSV records with physical line numbers, checks, quarantine.

The stdlib ``csv`` module is used instead of pandas because quarantine records must point at the
physical line where a record starts, and pandas loses that as soon as a field holds a newline.
"""

from __future__ import annotations

import csv
import itertools
import logging
import re
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TextIO, TypeVar

from s3text.errors import InputError
from s3text.ingest.textio import open_text
from s3text.records import QuarantineRecord

_T = TypeVar("_T")

log = logging.getLogger(__name__)

MAX_RAW = 2000
# Abstracts of several hundred kB exist in the wild; the csv default (128 kB) would turn them into errors.
csv.field_size_limit(64 * 1024 * 1024)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


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
    records: Generator[CsvRecord, None, None]
    preamble: str | None = None  # a line before the header (Google Patents: the search URL)
    encoding: str = "utf-8"
    stack: ExitStack = field(default_factory=ExitStack)  # holds the open file

    def close(self) -> None:
        """Close the file before the records are exhausted (closing an unstarted generator would not)."""
        self.records.close()
        self.stack.close()


def read_csv(
    path: Path,
    *,
    required: Sequence[str],
    delimiter: str = ",",
    preamble_prefix: str | None = None,
    encoding: str = "auto",
    member: str | None = None,
) -> CsvTable:
    """Open a CSV (plain, .gz or .zip) and check its header; records stream lazily, blank lines skipped.

    The file stays open until ``records`` is exhausted or the table closed. Raises InputError when the file is
    unreadable, not decodable, or lacks a required column, because then no row of it can be trusted.
    """
    stack = ExitStack()
    handle, used = stack.enter_context(open_text(path, encoding, member))
    try:
        return _parse(path, handle, used, stack, required, delimiter, preamble_prefix)
    except BaseException:
        stack.close()
        raise


def _parse(
    path: Path,
    handle: TextIO,
    used: str,
    stack: ExitStack,
    required: Sequence[str],
    delimiter: str,
    preamble_prefix: str | None,
) -> CsvTable:
    consumed: list[str] = []
    state = {"lines": 0}  # physical lines handed to the csv module so far

    def lines() -> Iterator[str]:
        for text_line in handle:
            consumed.append(text_line)
            yield text_line

    preamble = None
    offset = 0
    if preamble_prefix is not None:
        first = _decode(path, handle.readline, 1)
        if first.startswith(preamble_prefix):
            preamble, offset = first.rstrip("\r\n"), 1
        else:
            consumed.append(first)  # not a preamble: replayed to the reader, counted as a line
    reader = csv.reader(itertools.chain(consumed[:], lines()) if consumed else lines(),
                        delimiter=delimiter, quotechar='"')
    try:
        header = _decode(path, lambda: next(reader), offset + 1)
    except StopIteration:
        raise InputError("empty file, no header", file=str(path), row=offset + 1) from None
    except csv.Error as exc:
        raise InputError(f"unparseable header: {exc}", file=str(path), row=offset + 1) from exc
    header = [h.strip() for h in header]
    require_columns(str(path), header, required, row=offset + 1)
    state["lines"] = offset + len(consumed)
    consumed.clear()

    def records() -> Generator[CsvRecord, None, None]:
        with stack:
            while True:
                start = state["lines"] + 1
                try:
                    fields = next(reader)
                    error = None
                except StopIteration:
                    return
                except csv.Error as exc:
                    fields, error = [], str(exc)
                except UnicodeDecodeError as exc:
                    raise InputError(f"cannot decode as {used}: {exc.reason}", file=str(path), row=start) from exc
                raw = "".join(consumed)
                state["lines"] += len(consumed)
                consumed.clear()
                if error is not None:
                    yield CsvRecord(start, [], raw, error)
                elif fields:  # an empty list is a blank line, not a record
                    yield CsvRecord(start, fields, raw)

    return CsvTable(header, records(), preamble, used, stack)


def _decode(path: Path, read: Callable[[], _T], line: int) -> _T:
    try:
        return read()
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot decode: {exc.reason}", file=str(path), row=line) from exc


Problem = tuple[str, str, str]  # (field, reason code, message)


def require_columns(file: str, header: Sequence[str], required: Sequence[str], *, row: int | None,
                    where: str = "header") -> None:
    """Raise InputError naming the first required column that ``header`` lacks."""
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(f"missing required column(s) {missing} in the {where} {list(header)}", file=file, row=row,
                         field=missing[0])


@dataclass(frozen=True, slots=True)
class Quarantine:
    """Makes the quarantine records of one file of one source, one per call, for a stream to hand on."""

    source: str
    file: str

    def __call__(self, row: int, problem: Problem, raw: str) -> QuarantineRecord:
        column, code, message = problem
        log.debug("quarantined %s row %d (%s): %s", self.file, row, code, message)
        return QuarantineRecord(self.source, self.file, row, column, f"{code}: {message}", raw[:MAX_RAW])


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
