"""Readers that turn source files into :class:`~s3text.records.Document` records.

Every reader streams: it yields documents, quarantined records and :class:`FileOpened` notes as
it reads, so a large export never sits in memory whole, and the ingest step writes in batches.
``read_source`` collects a stream for callers that want everything at once (tests, small files).
A file that cannot be read at all raises :class:`~s3text.errors.InputError`.
"""

from __future__ import annotations

from collections.abc import Iterator

from s3text.config import SourceConfig
from s3text.errors import ConfigError
from s3text.ingest.cordis import (
    iter_cordis_csv,
    iter_cordis_json,
    iter_cordis_official,
    read_cordis_csv,
    read_cordis_json,
    read_cordis_official,
)
from s3text.ingest.patents import (
    iter_google_patents,
    iter_patentsview_csv,
    read_google_patents,
    read_patentsview_csv,
    split_assignees,
)
from s3text.ingest.patentsview import iter_patentsview_bulk
from s3text.ingest.table import iter_table
from s3text.ingest.uspto import iter_uspto_xml
from s3text.records import IngestItem, IngestResult

__all__ = [
    "iter_cordis_csv",
    "iter_cordis_json",
    "iter_cordis_official",
    "iter_google_patents",
    "iter_patentsview_bulk",
    "iter_patentsview_csv",
    "iter_table",
    "iter_uspto_xml",
    "read_cordis_csv",
    "read_cordis_json",
    "read_cordis_official",
    "read_google_patents",
    "read_patentsview_csv",
    "read_source",
    "split_assignees",
    "stream_source",
]


def stream_source(cfg: SourceConfig) -> Iterator[IngestItem]:
    """Stream one configured source with the reader for ``cfg.format``; documents get ``source=cfg.name``.

    ``cfg.enabled`` is not checked here: deciding which sources run is the caller's job.
    """
    name, path, companion, req = cfg.name, cfg.path, cfg.companion, cfg.require_abstract
    if cfg.format == "cordis_csv":
        yield from iter_cordis_csv(path, companion, source=name, require_abstract=req, encoding=cfg.encoding)
    elif cfg.format == "cordis_json":
        yield from iter_cordis_json(path, source=name, require_abstract=req, encoding=cfg.encoding)
    elif cfg.format == "cordis_official":
        unknown = set(cfg.tables) - {"euroscivoc"}
        if unknown:
            raise ConfigError(f"source {name!r}: cordis_official has no table role(s) {sorted(unknown)}")
        yield from iter_cordis_official(path, companion, euroscivoc=cfg.tables.get("euroscivoc"), source=name,
                                        require_abstract=req, encoding=cfg.encoding, nuts_version=cfg.nuts_version)
    elif cfg.format == "patentsview_csv":
        yield from iter_patentsview_csv(path, source=name, require_abstract=req, encoding=cfg.encoding)
    elif cfg.format == "patentsview_bulk":
        unknown = set(cfg.tables) - {"abstract", "cpc", "assignee", "location", "inventor"}
        if unknown:
            raise ConfigError(f"source {name!r}: patentsview_bulk has no table role(s) {sorted(unknown)}")
        t = cfg.tables
        yield from iter_patentsview_bulk(
            path, abstract=t.get("abstract"), cpc=t.get("cpc"), assignee=t.get("assignee"),
            location=t.get("location"), inventor=t.get("inventor"), source=name, require_abstract=req,
            encoding=cfg.encoding, inventors=cfg.inventors)
    elif cfg.format == "uspto_xml":
        yield from iter_uspto_xml(path, source=name, require_abstract=req, inventors=cfg.inventors)
    elif cfg.format == "table" and cfg.mapping is not None:
        yield from iter_table(path, cfg.mapping, source=name, require_abstract=req, encoding=cfg.encoding,
                              nuts_version=cfg.nuts_version)
    elif cfg.format == "google_patents" and companion is None:
        raise ConfigError(f"source {name!r}: format google_patents needs the abstracts file as companion")
    elif cfg.format == "google_patents" and companion is not None:
        yield from iter_google_patents(path, companion, source=name, require_abstract=req, encoding=cfg.encoding)
    else:
        raise ConfigError(f"source {name!r}: no reader for format {cfg.format!r}")


def read_source(cfg: SourceConfig) -> IngestResult:
    """Everything one configured source holds, in memory."""
    return IngestResult.collect(stream_source(cfg))
