"""Preparation steps: read from the store, call the pure stage code, write back. I/O lives here only.

Each step takes the validated config and the run id, opens the store itself (so a task runner
can run a step in another process) and returns a small dict of counts for the run summary.
Prefect tasks in ``pipeline/`` wrap these one to one; the library never imports Prefect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from s3text.config import PipelineConfig, SourceConfig
from s3text.embed import Embedder, embedding_text
from s3text.ingest import stream_source
from s3text.neardup import NearDuplicate, NearDuplicateIndex
from s3text.normalise import STATUS_DUPLICATE, STATUS_OK, Normaliser, mark_duplicates
from s3text.records import Document, FileOpened, FileSummary, QuarantineRecord
from s3text.store import Store

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


INGEST_BATCH = 2000  # documents per store transaction: a killed ingest keeps what it committed


def ingest(cfg: PipelineConfig, run_id: str) -> dict[str, Any]:
    """Stream every enabled source into the store in batches; stored documents are never rewritten,
    bad rows are quarantined, and each file gets a summary (read, stored, duplicates, quarantined)."""
    summary: dict[str, Any] = {"documents_new": 0, "quarantined_new": 0, "sources": {}, "files": []}
    with Store(cfg.store) as store:
        for source in (s for s in cfg.sources if s.enabled):
            files = _ingest_source(store, source, run_id)
            store.put_frame("ingest_files", pd.DataFrame([
                {"run_id": run_id, **asdict(f), "finished": datetime.now(UTC).replace(tzinfo=None)} for f in files
            ]), update_on=("run_id", "source", "file"))
            summary["sources"][source.name] = {
                "read": sum(f.read for f in files), "new": sum(f.stored for f in files),
                "duplicates": sum(f.duplicates for f in files), "quarantined": sum(f.quarantined for f in files),
            }
            summary["files"].extend(asdict(f) for f in files)
            summary["documents_new"] += summary["sources"][source.name]["new"]
        summary["quarantined_new"] = int(store.query(
            "SELECT count(*) AS n FROM quarantine WHERE first_run = ?", [run_id])["n"].iloc[0])
        summary["documents_total"] = store.count("documents")
        summary["quarantined_total"] = store.count("quarantine")
    return summary


def _ingest_source(store: Store, source: SourceConfig, run_id: str) -> list[FileSummary]:
    files: dict[str, FileSummary] = {}

    def file(name: str) -> FileSummary:
        return files.setdefault(name, FileSummary(source.name, name))

    docs: list[Document] = []
    held: list[QuarantineRecord] = []

    def flush() -> None:
        by_file: dict[str, list[Document]] = {}
        for d in docs:
            by_file.setdefault(d.provenance_file, []).append(d)
        for name, part in by_file.items():
            new = store.add_documents(part, run_id)
            file(name).stored += new
            file(name).duplicates += len(part) - new
        store.add_quarantine(held, run_id)
        docs.clear()
        held.clear()

    for item in stream_source(source):
        if isinstance(item, FileOpened):
            file(item.file).encoding = item.encoding
            continue
        if isinstance(item, Document):
            docs.append(item)
            file(item.provenance_file).read += 1
        else:
            held.append(item)
            summary = file(item.file)
            summary.quarantined += 1
            summary.read += 1
        if len(docs) >= INGEST_BATCH or len(held) >= INGEST_BATCH:
            flush()
    flush()
    return list(files.values())


def normalise(cfg: PipelineConfig, run_id: str) -> dict[str, Any]:
    """Detect language and lemmatise new documents; mark exact duplicates across all documents."""
    n = cfg.normalise
    with Store(cfg.store) as store:
        todo = store.query(
            "SELECT d.doc_id, d.content_hash, d.title, d.text, d.source, d.provenance_file, d.provenance_row "
            "FROM documents d LEFT JOIN normalised n USING (doc_id) WHERE n.doc_id IS NULL ORDER BY d.doc_id"
        )
        if not todo.empty:
            normaliser = Normaliser(supported_languages=n.supported_languages, detect_languages=n.detect_languages,
                                    min_tokens=n.min_tokens, max_chars=n.max_chars)
            results = normaliser.transform([f"{t}\n{x}" for t, x in zip(todo["title"], todo["text"], strict=True)])
            frame = pd.DataFrame({
                "doc_id": todo["doc_id"], "content_hash": todo["content_hash"],
                "language": [r.language for r in results], "lemmas": [r.lemmas for r in results],
                "n_tokens": [r.n_tokens for r in results], "truncated": [r.truncated for r in results],
                "status": [r.status for r in results], "duplicate_of": None,
            })
            store.put_frame("normalised", frame)
            rejected = [
                QuarantineRecord(row.source, row.provenance_file, int(row.provenance_row), "text", res.status,
                                 f"doc_id={row.doc_id} language={res.language} tokens={res.n_tokens}")
                for row, res in zip(todo.itertuples(index=False), results, strict=True)
                if res.status != STATUS_OK
            ]
            store.add_quarantine(rejected, run_id)
        _mark_duplicates(store)
        near = _link_near_duplicates(store, cfg)
        stats = store.query("SELECT status, count(*) AS n FROM normalised GROUP BY status")
        languages = store.query("SELECT language, count(*) AS n FROM normalised GROUP BY language ORDER BY n DESC")
    return {"normalised_new": len(todo), "near_duplicate_pairs": near,
            "by_status": dict(zip(stats["status"], stats["n"].astype(int), strict=True)),
            "languages": dict(zip(languages["language"].fillna("unknown"), languages["n"].astype(int), strict=True))}


def _mark_duplicates(store: Store) -> None:
    docs = store.query(
        "SELECT d.doc_id, d.content_hash, d.date FROM documents d JOIN normalised n USING (doc_id) "
        f"WHERE n.status IN ('{STATUS_OK}', '{STATUS_DUPLICATE}')"
    )
    if docs.empty:
        return
    frame = pd.DataFrame({"doc_id": docs["doc_id"], "duplicate_of": mark_duplicates(docs)})
    frame["status"] = np.where(frame["duplicate_of"].notna(), STATUS_DUPLICATE, STATUS_OK)
    store.put_frame("normalised", frame, update_on=("doc_id",))


def _link_near_duplicates(store: Store, cfg: PipelineConfig) -> int | None:
    """Link near duplicates among usable documents (rebuilt each run: ~0.5 ms a document, and a
    changed text or a new exact duplicate can never leave a stale pair behind)."""
    index = NearDuplicateIndex.from_config(cfg.normalise, seed=cfg.topics.seed)
    if index is None:
        return None
    docs = store.query(
        "SELECT d.doc_id, d.title, d.text FROM documents d JOIN normalised n USING (doc_id) "
        f"WHERE n.status = '{STATUS_OK}' ORDER BY d.doc_id")
    pairs = index.add(docs["doc_id"].tolist(), [f"{t}\n{x}" for t, x in zip(docs["title"], docs["text"], strict=True)])
    store.replace_tables({"near_duplicates": pd.DataFrame(pairs, columns=list(NearDuplicate._fields))})
    return len(pairs)


def usable_documents(store: Store) -> pd.DataFrame:
    """The documents every model stage works on (status ok), in doc id order."""
    return store.query(
        "SELECT d.doc_id, d.title, d.text, d.content_hash, d.year, d.date, d.source, d.source_kind, n.lemmas "
        f"FROM documents d JOIN normalised n USING (doc_id) WHERE n.status = '{STATUS_OK}' ORDER BY d.doc_id"
    )


def embed(cfg: PipelineConfig, run_id: str, progress: Progress | None = None) -> dict[str, Any]:
    """Embed usable documents whose (model, content hash) is not cached yet."""
    embedder = Embedder.from_config(cfg.embed)
    with Store(cfg.store) as store:
        docs = usable_documents(store).drop_duplicates("content_hash")
        missing = set(store.missing_embeddings(embedder.model_id, docs["content_hash"].tolist()))
        todo = docs[docs["content_hash"].isin(missing)]
        # Commit batch by batch: a killed run keeps what it finished and resumes from there.
        chunk = cfg.embed.batch_size * 8
        for start in range(0, len(todo), chunk):
            part = todo.iloc[start : start + chunk]
            texts = [embedding_text(t, x) for t, x in zip(part["title"], part["text"], strict=True)]

            def report(done: int, _total: int, offset: int = start) -> None:
                if progress is not None:
                    progress(offset + done, len(todo))

            store.put_embeddings(embedder.model_id, part["content_hash"].tolist(), embedder.encode(texts, report))
        total = store.count("embeddings")
    return {"model": embedder.model_id, "embeddings_new": len(todo), "embeddings_total": total}
