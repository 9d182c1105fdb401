"""Held-out copies of a config's data: whole CSV records dropped deterministically, every other line
copied byte for byte, data/ never touched. Used by bench/bench_stability.py and the refresh tests."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Collection
from pathlib import Path

from s3text.config import PipelineConfig
from s3text.ingest import stream_source
from s3text.records import Document

# Formats whose main file can lose whole records: the readers join companions by id, so a dropped
# project leaves only unmatched participants. (A Google Patents search CSV must keep every record:
# its abstracts file is checked against the CSV's record count.)
FILTERABLE = frozenset({"cordis_csv", "patentsview_csv"})


def held_out(cfg: PipelineConfig, *, share: float | None = None, count: int | None = None,
             eligible: Collection[str] | None = None) -> tuple[list[Document], int]:
    """Documents of the config's sources in :data:`FILTERABLE` formats (limited to doc ids in
    ``eligible`` when given), first by sha256 of the doc id: ``count`` of them, or enough for
    ``share`` of all documents read; and how many documents were read."""
    docs = [(source.format, item) for source in cfg.sources if source.enabled for item in stream_source(source)
            if isinstance(item, Document)]
    allowed = set(eligible) if eligible is not None else None
    pool = sorted((d for fmt, d in docs if fmt in FILTERABLE and (allowed is None or d.doc_id in allowed)),
                  key=lambda d: hashlib.sha256(d.doc_id.encode()).hexdigest())
    n = count if count is not None else max(1, round((share or 0.0) * len(docs)))
    return pool[:n], len(docs)


def filtered_copy(src: Path, dst: Path, drop_lines: set[int]) -> int:
    """Copy ``src`` without the CSV records starting on ``drop_lines`` (1-based physical lines, as
    ``Document.provenance_row`` counts them); every other line is copied as it is. Returns records dropped."""
    raw = src.read_bytes().decode("utf-8")
    lines = raw.splitlines(keepends=True) if "\r" in raw else [s + "\n" for s in raw.split("\n")]
    if not raw.endswith(("\n", "\r")):
        lines[-1] = lines[-1].rstrip("\n")
    reader = csv.reader(iter(lines))
    keep, dropped, start = [], 0, 1
    for _ in reader:
        end = reader.line_num
        if start in drop_lines:
            dropped += 1
        else:
            keep.extend(lines[start - 1: end])
        start = end + 1
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes("".join(keep).encode("utf-8"))
    return dropped


def without(cfg: PipelineConfig, docs: list[Document], folder: Path) -> PipelineConfig:
    """``cfg`` with its source files replaced by copies that lack ``docs``."""
    by_file: dict[str, set[int]] = {}
    for d in docs:
        by_file.setdefault(d.provenance_file, set()).add(d.provenance_row)
    sources = []
    for k, source in enumerate(cfg.sources):
        if str(source.path) in by_file:
            copy = folder / f"{k}-{source.name}" / Path(source.path).name
            dropped = filtered_copy(Path(source.path), copy, by_file[str(source.path)])
            if dropped != len(by_file[str(source.path)]):
                raise RuntimeError(f"{source.path}: dropped {dropped} records, wanted {len(by_file[str(source.path)])}")
            source = source.model_copy(update={"path": copy})
        sources.append(source)
    return cfg.model_copy(update={"sources": tuple(sources)})
