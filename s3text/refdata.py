"""Strict reading of the bundled reference tables (``data/nuts/``): UTF-8 CSV, gzip'd when the
name ends in ``.gz``. Unlike the ingest readers, nothing is quarantined: a bad row in a table
the pipeline ships is an :class:`~s3text.errors.InputError` naming the file, row and field."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator, Sequence
from pathlib import Path

from s3text.errors import InputError


def read_columns(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number, values of ``columns`` in that order) per row; the header is line 1."""
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rt", encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            if missing := [c for c in columns if c not in header]:
                raise InputError(f"missing columns {missing}", file=str(path), row=1)
            where = [header.index(c) for c in columns]
            for i, row in enumerate(reader, start=2):
                if len(row) != len(header):
                    raise InputError(f"{len(row)} fields, expected {len(header)}", file=str(path), row=i)
                yield i, [row[j] for j in where]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from exc


def int_field(value: str, path: Path, row: int, field: str) -> int:
    """An integer cell; empty counts as 0."""
    try:
        return int(value or 0)
    except ValueError:
        raise InputError(f"not an integer: {value!r}", file=str(path), row=row, field=field) from None
