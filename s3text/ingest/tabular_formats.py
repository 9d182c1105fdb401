"""The readers of :func:`s3text.ingest.tabular.open_table` for JSON (arrays and lines), Parquet and XLSX.

JSON records name their own keys and exporters drop null ones, so the header of a JSON table is the
keys of its first :data:`KEY_WINDOW` objects, read ahead; an error after the first object (a truncated
file) is raised only when the rows reach it, so what came before still streams. Heavy parsers (ijson,
pyarrow, openpyxl) are imported by the function that needs them.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Generator, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from s3text.errors import InputError
from s3text.ingest._common import require_columns
from s3text.ingest.tabular import Row, Table, TextRow, cell_text
from s3text.ingest.textio import Utf8Bytes, open_text

XLSX_ENCODING = "xlsx"  # what FileOpened reports for a workbook: its XML parts carry their own encoding
KEY_WINDOW = 100
_BATCH = 4096  # Parquet rows per batch


def keyed_table(path: Path, label: str, kind: str, required: Sequence[str], encoding: str,
                 member: str | None) -> Table:
    """A JSON array (``kind`` json) or JSON Lines table; the header is read ahead, see the module doc."""
    stack = ExitStack()
    try:
        handle, used = stack.enter_context(open_text(path, encoding, member))
        rows = _array_rows(handle, label, used) if kind == "json" else _line_rows(handle, label, used)
        head: list[Row] = []
        pending: InputError | None = None
        try:
            for row in rows:
                head.append(row)
                if len(head) == KEY_WINDOW:
                    break
        except InputError as exc:
            if not head:  # nothing readable at all: the file fails as a whole
                raise
            pending = exc
        objects = [row for row in head if row.problem is None]
        header = list(dict.fromkeys(key for row in objects for key in row.values))
        where = f"keys of the first {len(head)} records"
        if objects:
            require_columns(label, header, required, row=None, where=where)
    except BaseException:
        stack.close()
        raise

    def all_rows() -> Generator[Row, None, None]:
        with stack:
            yield from head
            if pending is not None:
                raise pending
            yield from rows

    return Table(label, kind, used, header, where, all_rows(), stack.close)


def _array_rows(handle: TextIO, label: str, used: str) -> Iterator[Row]:
    import ijson

    try:
        while (first := handle.read(1)) and first.isspace():
            pass
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot decode as {used}: {exc.reason}", file=label) from exc
    if first != "[":
        what = "an empty file" if not first else f"{first!r}"
        raise InputError(f"expected a JSON array of objects, the file starts with {what}", file=label, row=1)
    items = ijson.items(Utf8Bytes(handle, first), "item")
    number = 1
    while True:
        try:
            item = next(items)
        except StopIteration:
            return
        except ijson.JSONError as exc:
            raise InputError(f"invalid or truncated JSON in object {number}: {exc}", file=label, row=number) from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"cannot decode object {number}: {exc.reason}", file=label, row=number) from exc
        if isinstance(item, dict):
            yield Row(number, item, item)
        else:
            kind = type(item).__name__ if item is not None else "null"
            raw = json.dumps(item, ensure_ascii=False, default=cell_text)
            yield Row(number, {}, raw, ("*", "bad_record", f"array element is a JSON {kind}, not an object"))
        number += 1


def _line_rows(handle: TextIO, label: str, used: str) -> Iterator[Row]:
    """One row per non-blank line; blank lines are skipped but counted."""
    number = 0
    try:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield _line_row(number, line)
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot decode as {used}: {exc.reason}", file=label, row=number + 1) from exc


def _line_row(number: int, line: str) -> Row:
    try:
        item = json.loads(line.rstrip("\r\n"))  # else a cut line reports the newline, not the cut
    except (ValueError, RecursionError) as exc:
        return Row(number, {}, line, ("*", "bad_json", str(exc)))
    if not isinstance(item, dict):
        return Row(number, {}, line, ("*", "not_object", f"a JSON {type(item).__name__}, not an object"))
    return Row(number, item, line)


def parquet_table(path: Path, label: str, required: Sequence[str]) -> Table:
    import pyarrow.parquet as pq  # only Parquet tables pay for importing pyarrow

    try:
        parquet = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:  # ArrowInvalid is a ValueError, ArrowIOError an OSError
        raise InputError(f"cannot read as Parquet: {exc}", file=label) from exc
    header = list(parquet.schema_arrow.names)
    try:
        require_columns(label, header, required, row=None, where="schema")
    except InputError:
        parquet.close()
        raise

    def rows() -> Generator[Row, None, None]:
        with parquet:
            number, batches = 0, parquet.iter_batches(batch_size=_BATCH)
            while True:
                try:
                    batch = next(batches, None)
                except (OSError, ValueError) as exc:
                    raise InputError(f"cannot read Parquet data: {exc}", file=label, row=number + 1) from exc
                if batch is None:
                    return
                for values in batch.to_pylist():
                    number += 1
                    yield Row(number, values, values)

    return Table(label, "parquet", "utf-8", header, "schema", rows(), parquet.close)


def xlsx_table(path: Path, label: str, required: Sequence[str]) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"cannot read XLSX workbook: {exc}", file=label) from exc
    cells = book.worksheets[0].iter_rows(values_only=True)

    def close() -> None:  # the sheet's generator holds a zip member open, which keeps the file open
        cells.close()
        book.close()

    try:
        first = next(cells, None)
        if first is None:
            raise InputError("empty sheet, no header", file=label, row=1)
        header = [cell_text(v).strip() for v in first]
        while header and not header[-1]:
            header.pop()
        require_columns(label, header, required, row=1)
    except BaseException:
        close()
        raise

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
                yield TextRow(number, values, values, problem)
        finally:
            close()

    return Table(label, "xlsx", XLSX_ENCODING, header, "header", rows(), close)
