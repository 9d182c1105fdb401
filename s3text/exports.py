"""Versioned exports of one run (``s3text export``): candidates with their review state, topics with
yearly counts, region-topic metrics and evidence links, as CSV, JSON, Parquet or XLSX; see docs/EXPORTS.md.
The store is opened read-only. Every file goes to a temporary file beside it, and all are renamed only
once all are complete, so a failed export leaves the previous set whole."""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from s3text.candidate_record import REVIEW_COLUMNS, export_columns, export_row
from s3text.errors import StoreError
from s3text.links import original_link
from s3text.outputs import load_below_minimum, load_candidates, yearly_counts
from s3text.review import STATUSES
from s3text.store import Store
from s3text.writers import neutralise_cell

# Bumped when a column is removed, renamed or retyped or changes meaning; an added column or table
# keeps it (readers select columns by name and ignore others). See docs/EXPORTS.md.
# 2: candidate columns follow the record (s3text/candidate_record.py); specialisation uses the shrunk RCA.
SCHEMA_VERSION = 2
FORMATS = ("csv", "json", "parquet", "xlsx")
LIST_SEP = " | "  # how list cells are joined in CSV and XLSX
XLSX_MAX_ROWS, XLSX_MAX_CELL = 1_048_575, 32_767

# Each table's columns in order, as name:kind; kinds: str, int, float, bool, date (ISO text),
# list_str, list_int, json (an object). docs/EXPORTS.md says what each column means.
# The candidate tables' columns come from the record; the others are spelled here.
_SPEC = {
    "topics": "topic_id:int lineage_id:str label:str top_terms:str size:int coherence:float first_year:int "
              "last_year:int counts_per_year:json emergence_score:float emerging:bool growth:float novelty:float "
              "persistence:float escore:float in_burst_at_end:bool quadrant:str diffusion:float kci:float pci:float",
    "topic_years": "topic_id:int lineage_id:str year:int count:int share:float",
    "region_topics": "region:str topic_id:int lineage_id:str topic_label:str count:int actors:int rca:float "
                     "specialised:bool density:float density_ext:float rca_shrunk:float rca_lower:float",
    "evidence": "candidate_key:str region:str topic_id:int rank:int doc_id:str native_id:str title:str source:str "
                "source_kind:str year:int date:date url:str url_origin:str relation:str related_topic_id:int "
                "related_topic_label:str",
}
_BELOW = {c: k for c, k in export_columns().items() if c not in REVIEW_COLUMNS}
COLUMNS: dict[str, dict[str, str]] = {
    "candidates": export_columns(), "candidates_below_minimum": _BELOW,
    **{t: dict(c.split(":") for c in spec.split()) for t, spec in _SPEC.items()}}
Rows = list[dict[str, Any]]


def resolve_run(store: Store, run_id: str | None) -> str:
    """``run_id`` checked against the store, or the latest completed run."""
    if run_id is None and (run_id := store.latest_run()) is None:
        raise StoreError(f"{store.path}: no completed run")
    if store.query("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).empty:
        raise StoreError(f"{store.path}: no run {run_id!r}")
    return run_id


def run_info(store: Store, run_id: str) -> dict[str, Any]:
    row = store.query("SELECT started, finished, status, config_hash, manifest FROM runs WHERE run_id = ?",
                      [run_id]).iloc[0]
    manifest = json.loads(row["manifest"]) if isinstance(row["manifest"], str) else {}
    return {"run_id": run_id, "status": row["status"], "config_hash": row["config_hash"],
            "started": _plain(row["started"]), "finished": _plain(row["finished"]), "manifest": manifest}


def candidate_rows(store: Store, run_id: str, statuses: Sequence[str] | None = None) -> Rows:
    """The run's candidates with their review state, best score first; only ``statuses`` if given."""
    return [{**export_row(r), "_evidence": r.get("evidence") or []} for r in load_candidates(store, run_id)
            if statuses is None or r["status"] in statuses]


def evidence_rows(store: Store, candidates: Rows) -> Rows:
    """One row per evidence document of each candidate, with the link the web pages show."""
    ids = sorted({e["doc_id"] for c in candidates for e in c["_evidence"]})
    docs = store.query("SELECT doc_id, native_id, title, source, source_kind, year, CAST(date AS VARCHAR) AS date, "
                       "url FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
    by_id = {d["doc_id"]: d for d in docs.astype(object).where(docs.notna(), None).to_dict("records")}
    rows = []
    for c in candidates:
        for rank, e in enumerate(c["_evidence"], start=1):
            d = by_id.get(e["doc_id"], {**e, "native_id": None, "source_kind": None, "date": None, "url": None})
            url, origin = original_link(source=str(d.get("source") or ""), source_kind=d.get("source_kind"),
                                        native_id=d.get("native_id"), url=d.get("url"))
            rows.append({"candidate_key": c["candidate_key"], "region": c["region"], "topic_id": c["topic_id"],
                         "rank": rank, **{k: d.get(k) for k in ("doc_id", "native_id", "title", "source",
                                                                "source_kind", "year", "date")},
                         "url": url, "url_origin": origin,
                         **{k: e.get(k) for k in ("relation", "related_topic_id", "related_topic_label")}})
    return rows


def topic_tables(store: Store, run_id: str) -> tuple[Rows, Rows]:
    """``topics`` (with counts per year and emergence measures) and ``topic_years`` (long form)."""
    topics = store.query("SELECT t.topic_id, t.lineage_id, t.label, t.top_terms, t.size, t.coherence, e.score, "
                         "e.emerging, e.metrics, c.kci, c.pci FROM topics t LEFT JOIN emergence e USING (run_id, "
                         "topic_id) LEFT JOIN topic_complexity c USING (run_id, topic_id) WHERE t.run_id = ? "
                         "ORDER BY t.topic_id", [run_id])
    per_topic = yearly_counts(store, run_id)
    totals = store.query("SELECT d.year, count(*) AS n FROM doc_topics t JOIN documents d USING (doc_id) "
                         "WHERE t.run_id = ? GROUP BY d.year", [run_id])
    total_of = dict(zip(totals["year"].astype(int), totals["n"].astype(int), strict=True))
    lineage = dict(zip(topics["topic_id"].astype(int), topics["lineage_id"], strict=True))
    years: Rows = [{"topic_id": t, "lineage_id": lineage.get(t), "year": y, "count": n,
                    "share": n / total_of[y] if total_of.get(y) else None}
                   for t, counts in sorted(per_topic.items()) for y, n in counts.items()]
    rows: Rows = []
    for t in topics.to_dict("records"):
        per_year = {str(y): n for y, n in per_topic.get(int(t["topic_id"]), {}).items()}
        metrics = json.loads(t["metrics"]) if isinstance(t["metrics"], str) else {}
        rows.append({**{k: t[k] for k in ("topic_id", "lineage_id", "label", "top_terms", "size", "coherence",
                                          "kci", "pci")},
                     "first_year": min(map(int, per_year), default=None),
                     "last_year": max(map(int, per_year), default=None), "counts_per_year": per_year,
                     "emergence_score": t["score"], "emerging": t["emerging"],
                     **{k: metrics.get(k) for k in ("growth", "novelty", "persistence", "escore", "in_burst_at_end",
                                                    "quadrant", "diffusion")}})
    return rows, years


def load_tables(store: Store, run_id: str, statuses: Sequence[str] | None = None) -> dict[str, Rows]:
    """Every export table of a run as rows of plain Python values, columns in documented order."""
    candidates = candidate_rows(store, run_id, statuses)
    # Never reviewed, so a status-filtered export (say, the portal's accepted list) leaves them out.
    below = [export_row(r) for r in load_below_minimum(store, run_id)] if statuses is None else []
    topics, years = topic_tables(store, run_id)
    by_topic = {t["topic_id"]: t for t in topics}
    region_topics = store.query("SELECT * EXCLUDE (run_id) FROM region_topics WHERE run_id = ? "
                                "ORDER BY region, topic_id", [run_id]).to_dict("records")
    for r in region_topics:
        topic = by_topic.get(int(r["topic_id"]), {})
        r.update(lineage_id=topic.get("lineage_id"), topic_label=topic.get("label"))
    raw = {"candidates": candidates, "candidates_below_minimum": below,
           "topics": topics, "topic_years": years, "region_topics": region_topics,
           "evidence": evidence_rows(store, candidates)}
    return {name: [{c: _plain(row.get(c), k) for c, k in COLUMNS[name].items()} for row in rows]
            for name, rows in raw.items()}


def _plain(value: Any, kind: str = "") -> Any:
    """numpy/pandas scalars to Python (a whole float to int in an int column); NaN, NaT and infinities
    to None; dates to ISO text."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, str) or value is None:
        return value
    value = None if pd.isna(value) else value.item() if hasattr(value, "item") else value
    if isinstance(value, datetime | date):  # pandas Timestamp too
        return value.isoformat()
    if isinstance(value, float) and (not math.isfinite(value) or (kind == "int" and value.is_integer())):
        return int(value) if math.isfinite(value) else None
    return value


def _text_cell(value: Any, kind: str) -> Any:
    """A cell for CSV/XLSX: lists joined, objects as JSON text, text neutralised against formulas."""
    if kind.startswith("list_") and value is not None:
        value = LIST_SEP.join(str(v) for v in value)
    elif kind == "json" and value is not None:
        value = json.dumps(value, sort_keys=True)
    return neutralise_cell(value) if isinstance(value, str) else value


def _write_csv(path: Path, table: str, rows: Rows, meta: dict[str, Any]) -> None:
    kinds = COLUMNS[table]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")  # RFC 4180: CRLF, quotes only where needed
        writer.writerow(["schema_version", "run_id", *kinds])
        for row in rows:
            cells = [_text_cell(row[c], k) for c, k in kinds.items()]  # floats: repr, the round-tripping text
            writer.writerow([meta["schema_version"], meta["run_id"],
                             *(str(v).lower() if isinstance(v, bool) else v for v in cells)])


def _write_json(path: Path, table: str, rows: Rows, meta: dict[str, Any]) -> None:
    payload = {"schema_version": meta["schema_version"], "table": table, "run_id": meta["run_id"],
               "generated_at": meta["generated_at"], "rows": rows}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1, ensure_ascii=False, allow_nan=False)


def _write_parquet(path: Path, table: str, rows: Rows, meta: dict[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"str": pa.string(), "date": pa.string(), "json": pa.string(), "int": pa.int64(), "float": pa.float64(),
             "bool": pa.bool_(), "list_str": pa.list_(pa.string()), "list_int": pa.list_(pa.int64())}
    kinds, text_meta = COLUMNS[table], {**{k: str(v) for k, v in meta.items()}, "table": table}
    schema = pa.schema([(c, types[k]) for c, k in kinds.items()], metadata=text_meta)
    data = [{c: json.dumps(r[c], sort_keys=True) if k == "json" and r[c] is not None else r[c]
             for c, k in kinds.items()} for r in rows]
    pq.write_table(pa.Table.from_pylist(data, schema=schema), path)


def _write_xlsx(path: Path, tables: dict[str, Rows], meta: dict[str, Any]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cell(value: Any, kind: str) -> Any:
        value = _text_cell(value, kind)
        return ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_MAX_CELL] if isinstance(value, str) else value

    book = Workbook(write_only=True)
    for name, rows in tables.items():
        if len(rows) > XLSX_MAX_ROWS:
            raise ValueError(f"{name}: {len(rows)} rows do not fit an XLSX sheet; export parquet or csv")
        sheet = book.create_sheet(name)
        sheet.append(list(COLUMNS[name]))
        for row in rows:
            sheet.append([cell(row[c], k) for c, k in COLUMNS[name].items()])
    sheet = book.create_sheet("meta")
    for key, value in [*meta.items(), *((f"rows.{n}", str(len(r))) for n, r in tables.items())]:
        sheet.append([key, cell(value, "int" if isinstance(value, int) else "str")])
    book.save(path)


WRITERS = {"csv": _write_csv, "json": _write_json, "parquet": _write_parquet}


def export_run(store_path: Path | str, out_dir: Path | str, *, formats: Iterable[str], run_id: str | None = None,
               statuses: Sequence[str] | None = None) -> list[Path]:
    """Export a run (the latest completed one by default) in ``formats``; ``statuses`` limits the
    candidates (and their evidence) to those review statuses. Returns the files written."""
    formats = list(dict.fromkeys(formats))
    if not formats or set(formats) - set(FORMATS):
        raise ValueError(f"formats must be among {', '.join(FORMATS)}; got {formats}")
    if set(statuses or ()) - set(STATUSES):
        raise ValueError(f"statuses must be among {', '.join(STATUSES)}; got {statuses}")
    with Store(store_path, read_only=True) as store:
        run_id = resolve_run(store, run_id)
        info = run_info(store, run_id)
        tables = load_tables(store, run_id, statuses)
    meta = {"schema_version": SCHEMA_VERSION, "run_id": run_id,
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "run_started": str(info["started"]),
            "run_finished": str(info["finished"]), "config_hash": str(info["config_hash"])}
    (out := Path(out_dir)).mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[Path, Callable[[Path], object]]] = []
    for fmt in formats:
        if fmt == "xlsx":
            jobs.append((out / "s3text_export.xlsx", partial(_write_xlsx, tables=tables, meta=meta)))
        else:
            jobs.extend((out / f"{name}.{fmt}", partial(WRITERS[fmt], table=name, rows=rows, meta=meta))
                        for name, rows in tables.items())
    manifest = {**meta, "statuses": list(statuses) if statuses is not None else None, "formats": formats,
                "rows": {n: len(r) for n, r in tables.items()}, "files": [p.name for p, _ in jobs]}
    jobs.append((out / "export.json", lambda p: p.write_text(json.dumps(manifest, indent=2), encoding="utf-8")))
    staged: list[tuple[Path, Path]] = []
    try:  # every file complete (and synced) before any is renamed: a failure keeps the previous set whole
        for path, write in jobs:
            fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{path.name}.", suffix=".tmp")
            os.close(fd)
            staged.append((Path(tmp), path))
            write(Path(tmp))
            os.chmod(tmp, 0o644)  # mkstemp makes it private; exports are for others to read
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        for tmp_path, path in staged:
            os.replace(tmp_path, path)
    except BaseException:
        for tmp_path, _ in staged:
            tmp_path.unlink(missing_ok=True)
        raise
    return [path for path, _ in jobs]
