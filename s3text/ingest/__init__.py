"""Readers that turn source files into :class:`~s3text.records.Document` records.

Each reader is a pure function of its files and returns an :class:`~s3text.records.IngestResult`:
usable documents plus quarantined records, so that nothing is dropped without a trace. A file that
cannot be read at all raises :class:`~s3text.errors.InputError`.
"""

from __future__ import annotations

from s3text.config import SourceConfig
from s3text.errors import ConfigError
from s3text.ingest.cordis import read_cordis_csv, read_cordis_json, read_cordis_official
from s3text.ingest.patents import read_google_patents, read_patentsview_csv, split_assignees
from s3text.records import IngestResult

__all__ = [
    "read_cordis_csv",
    "read_cordis_json",
    "read_cordis_official",
    "read_google_patents",
    "read_patentsview_csv",
    "read_source",
    "split_assignees",
]


def read_source(cfg: SourceConfig) -> IngestResult:
    """Read one configured source with the reader for ``cfg.format``; documents get ``source=cfg.name``.

    ``cfg.enabled`` is not checked here: deciding which sources run is the caller's job.
    """
    name, path, companion, req = cfg.name, cfg.path, cfg.companion, cfg.require_abstract
    if cfg.format == "cordis_csv":
        return read_cordis_csv(path, companion, source=name, require_abstract=req)
    if cfg.format == "cordis_json":
        return read_cordis_json(path, source=name, require_abstract=req)
    if cfg.format == "patentsview_csv":
        return read_patentsview_csv(path, source=name, require_abstract=req)
    if companion is None:
        raise ConfigError(f"source {name!r}: format {cfg.format!r} needs a companion file")
    if cfg.format == "cordis_official":
        return read_cordis_official(path, companion, source=name, require_abstract=req)
    if cfg.format == "google_patents":
        return read_google_patents(path, companion, source=name, require_abstract=req)
    raise ConfigError(f"source {name!r}: no reader for format {cfg.format!r}")
