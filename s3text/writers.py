"""Writers for the files the portal and analysts read: atomic, and safe to open in a spreadsheet."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pandas as pd

# A cell starting with one of these is a formula to Excel/LibreOffice (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with a quote; numbers pass unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def atomic_write(path: Path, write: Callable[[IO[str]], None]) -> None:
    """Write through a temporary file in the same folder, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise_cell)
    # RFC 4180 line ends: with "\r\n" as terminator the writer quotes a lone "\r" inside a cell.
    atomic_write(path, lambda handle: safe.to_csv(handle, index=False, lineterminator="\r\n"))


def write_json(payload: Any, path: Path) -> None:
    atomic_write(path, lambda handle: json.dump(payload, handle, indent=2, ensure_ascii=False, default=str))


def list_cell(values: list[Any], sep: str = "; ") -> str:
    return sep.join(str(v) for v in values)
