"""Exceptions raised by s3text.

Hierarchy::

    S3TextError
    ├── ConfigError      [S3E001] invalid or unknown configuration
    ├── InputError       [S3E010] unreadable input; names file, row and field
    ├── StoreError       [S3E020] store missing, locked or at an unknown schema version
    ├── ModelError       [S3E030] a model cannot be fitted on the data given
    └── ReviewError      [S3E040] an analyst's decision is invalid (status, reviewer, candidate)

Messages start with a stable code so tests and runbooks can match on it, not on the prose.
"""

from __future__ import annotations


class S3TextError(Exception):
    code = "S3E000"

    def __init__(self, message: str) -> None:
        super().__init__(f"[{self.code}] {message}")


class ConfigError(S3TextError):
    code = "S3E001"


class InputError(S3TextError):
    code = "S3E010"

    def __init__(self, message: str, *, file: str, row: int | None = None, field: str | None = None):
        self.file, self.row, self.field = file, row, field
        where = file + (f", row {row}" if row is not None else "") + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")


class StoreError(S3TextError):
    code = "S3E020"


class ModelError(S3TextError):
    code = "S3E030"


class ReviewError(S3TextError):
    code = "S3E040"
