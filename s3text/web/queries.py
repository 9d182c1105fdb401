"""Reads for the server: the latest run, candidates with their review state, evidence documents.

Every function takes an open :class:`~s3text.store.Store` (a read-only cursor from the gate) and
returns plain JSON-ready values. Review state comes from :mod:`s3text.review`, never recomputed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from s3text.links import original_url
from s3text.review import audit_log, current_decisions, with_review_state
from s3text.store import Store
from s3text.web.filters import CandidateQuery, group_members

ACTORS_PER_DOCUMENT = 12
MANIFEST_KEYS = ("run_id", "status", "started", "finished", "config_hash", "git_sha", "embedding_model", "seeds",
                 "versions")


def plain(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN to None, timestamps to ISO 8601."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [plain(r) for r in frame.astype(object).where(frame.notna(), None).to_dict("records")]


@dataclass(frozen=True)
class RunState:
    """What a response depends on: the run shown and the decisions made so far."""

    run_id: str | None
    finished: datetime | None
    last_decision_id: int
    last_decision_at: datetime | None

    @property
    def last_modified(self) -> datetime | None:
        times = [t for t in (self.finished, self.last_decision_at) if t is not None]
        return max(times) if times else None


def utc_text(value: str | None) -> str | None:
    """An ISO timestamp the store keeps as naive UTC, marked as UTC."""
    if value is None or "+" in value[10:] or value.endswith("Z"):
        return value
    return value + "+00:00"


def with_review(records: list[dict[str, Any]], decisions: pd.DataFrame) -> list[dict[str, Any]]:
    """:func:`s3text.review.with_review_state`, with the decision time marked as UTC."""
    return [{**r, "decided_at": utc_text(r["decided_at"])} for r in with_review_state(records, decisions)]


def _utc(value: Any) -> datetime | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    stamp = pd.Timestamp(value)
    return (stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)).to_pydatetime()


def run_state(store: Store) -> RunState:
    run_id = store.latest_run()
    finished = None
    if run_id is not None:
        rows = store.con.execute("SELECT finished FROM runs WHERE run_id = ?", [run_id]).fetchall()
        finished = _utc(rows[0][0]) if rows else None
    last_id, last_at = store.con.execute("SELECT coalesce(max(id), 0), max(changed_at) FROM decision_log").fetchall()[0]
    return RunState(run_id, finished, int(last_id), _utc(last_at))


def run_summary(store: Store, run_id: str) -> dict[str, Any]:
    """The run's manifest without paths or config (the public needs counts, not server layout)."""
    rows = store.con.execute("SELECT started, finished, status, config_hash, manifest FROM runs WHERE run_id = ?",
                             [run_id]).fetchall()
    started, finished, status, config_hash, manifest = rows[0]
    full = json.loads(manifest) if manifest else {}
    out = {k: full[k] for k in MANIFEST_KEYS if k in full}
    out.update({"run_id": run_id, "status": status, "config_hash": config_hash,
                "started": plain(_utc(started)), "finished": plain(_utc(finished))})
    out["stages"] = {name: {k: v for k, v in stage.items() if k != "files"}
                     for name, stage in full.get("stages", {}).items() if isinstance(stage, dict)}
    return plain(out)


# -- candidates -------------------------------------------------------------------------------
def run_regions(store: Store, run_id: str) -> list[str]:
    rows = store.con.execute("SELECT DISTINCT region FROM region_topics WHERE run_id = ? ORDER BY region",
                             [run_id]).fetchall()
    return [r[0] for r in rows]


def list_candidates(store: Store, run_id: str, query: CandidateQuery, *, statuses: Sequence[str], limit: int,
                    offset: int, groupings: dict[str, tuple[str, ...]] | None = None
                    ) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page of candidate records with review state). ``statuses`` empty: any."""
    where, params = ["c.run_id = ?"], [run_id]
    if query.region is not None:
        where.append("c.region = ?")
        params.append(query.region)
    if query.group is not None:
        members = group_members(run_regions(store, run_id), query.group, dict(groupings or {}))
        where.append("list_contains(?, c.region)")
        params.append(members)  # type: ignore[arg-type]
    for column, value in (("c.topic_id = ?", query.topic), ("c.kind = ?", query.kind),
                          ("c.score >= ?", query.min_score), ("c.score <= ?", query.max_score)):
        if value is not None:
            where.append(column)
            params.append(value)  # type: ignore[arg-type]
    if statuses:
        where.append("list_contains(?, coalesce(d.status, 'new'))")
        params.append(list(statuses))  # type: ignore[arg-type]
    if query.q is not None:
        where.append("(contains(lower(coalesce(c.record->>'topic_label', '')), ?) OR "
                     "contains(lower(coalesce(c.record->>'region_name', '')), ?) OR contains(lower(c.region), ?))")
        params += [query.q.lower()] * 3
    if query.changed is not None:
        where.append("d.candidate_key IS NOT NULL" if query.changed else "TRUE")
    sql = (f"FROM candidates c LEFT JOIN decisions d USING (candidate_key) WHERE {' AND '.join(where)}")
    if query.changed is None:
        total = int(store.con.execute(f"SELECT count(*) {sql}", params).fetchall()[0][0])
        rows = store.con.execute(f"SELECT c.record {sql} ORDER BY {query.order_by()} LIMIT ? OFFSET ?",
                                 [*params, limit, offset]).fetchall()
        records = [json.loads(r[0]) for r in rows]
        # Only this page's decisions: building the lookup of every decision cost more than the query.
        page = store.query("SELECT * FROM decisions WHERE list_contains(?, candidate_key)",
                           [[r["candidate_key"] for r in records]])
        return total, with_review(records, page)
    decisions = current_decisions(store)
    # "changed since review" compares fingerprints in Python: filter first, then page
    rows = store.con.execute(f"SELECT c.record {sql} ORDER BY {query.order_by()}", params).fetchall()
    matching = [r for r in with_review([json.loads(r[0]) for r in rows], decisions)
                if r["changed_since_review"] == query.changed]
    return len(matching), matching[offset:offset + limit]


def below_minimum(store: Store, run_id: str, topic_id: int) -> list[dict[str, Any]]:
    """The topic's (region, topic) pairs below the evidence minimums, best score first (never reviewed)."""
    rows = store.con.execute("SELECT record FROM candidates_below_minimum WHERE run_id = ? AND topic_id = ? "
                             "ORDER BY score DESC, candidate_key", [run_id, topic_id]).fetchall()
    return [json.loads(r[0]) for r in rows]


def candidate_record(store: Store, run_id: str, key: str) -> dict[str, Any] | None:
    """The stored record as the candidates step wrote it (no review state)."""
    rows = store.con.execute("SELECT record FROM candidates WHERE run_id = ? AND candidate_key = ?",
                             [run_id, key]).fetchall()
    return json.loads(rows[0][0]) if rows else None


def candidate(store: Store, run_id: str, key: str) -> dict[str, Any] | None:
    record = candidate_record(store, run_id, key)
    if record is None:
        return None
    return with_review([record], store.query("SELECT * FROM decisions WHERE candidate_key = ?", [key]))[0]


def decision_history(store: Store, key: str) -> list[dict[str, Any]]:
    return [{**r, "changed_at": utc_text(r["changed_at"])} for r in frame_records(audit_log(store, key))]


def last_log_id(store: Store, key: str) -> int:
    rows = store.con.execute("SELECT coalesce(max(id), 0) FROM decision_log WHERE candidate_key = ?",
                             [key]).fetchall()
    return int(rows[0][0])


def evidence_items(store: Store, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A record's evidence items (relation to the topic) with the documents' current details."""
    docs = {d["doc_id"]: d for d in evidence_documents(store, [e["doc_id"] for e in items])}
    return [{**e, **docs[e["doc_id"]]} for e in items if e["doc_id"] in docs]


def evidence_documents(store: Store, doc_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Title, date, source, actors (with region) and a link to the original, in the given order."""
    if not doc_ids:
        return []
    wanted = list(dict.fromkeys(doc_ids))
    columns = ("doc_id", "source", "source_kind", "native_id", "title", "date", "year", "url")
    rows = store.con.execute(f"SELECT {', '.join(columns)} FROM documents WHERE list_contains(?, doc_id)",
                             [wanted]).fetchall()
    found = {r[0]: dict(zip(columns, r, strict=True)) for r in rows}
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for doc_id, name, country, role, nuts in store.con.execute(
            "SELECT l.doc_id, a.name, a.country, l.role, r.nuts_code FROM document_actors l JOIN actors a USING "
            "(actor_id) LEFT JOIN actor_regions r USING (actor_id) WHERE list_contains(?, l.doc_id) "
            "ORDER BY l.doc_id, l.role, a.name", [wanted]).fetchall():
        by_doc.setdefault(doc_id, []).append({"name": name, "country": country, "role": role, "nuts_code": nuts})
    out = []
    for doc_id in doc_ids:
        if doc_id not in found:
            continue
        doc = dict(found[doc_id])
        people = by_doc.get(doc_id, [])
        doc["date"] = str(doc["date"])[:10] if doc["date"] is not None else None
        doc["link"] = original_url(source=doc["source"], source_kind=doc["source_kind"], native_id=doc["native_id"],
                                   url=doc.pop("url", None))
        doc["actors"] = people[:ACTORS_PER_DOCUMENT]
        doc["actors_total"] = len(people)
        out.append(doc)
    return out


_OPTIONS: dict[tuple[str, str], dict[str, Any]] = {}


def queue_options(store: Store, run_id: str) -> dict[str, Any]:
    """What the queue's filter form offers: the run's candidate regions and topics.

    Cached per (store, run): a completed run's candidates never change, and reading every record's
    region name costs tens of milliseconds at 10,000 candidates."""
    key = (str(store.path), run_id)
    if key not in _OPTIONS:
        if len(_OPTIONS) > 16:
            _OPTIONS.clear()
        _OPTIONS[key] = _queue_options(store, run_id)
    return _OPTIONS[key]


def _queue_options(store: Store, run_id: str) -> dict[str, Any]:
    regions = store.con.execute(
        "SELECT region, any_value(record->>'region_name') FROM candidates WHERE run_id = ? GROUP BY region "
        "ORDER BY region", [run_id]).fetchall()
    topics = store.con.execute(
        "SELECT DISTINCT c.topic_id, t.label FROM candidates c JOIN topics t ON t.run_id = c.run_id AND "
        "t.topic_id = c.topic_id WHERE c.run_id = ? ORDER BY c.topic_id", [run_id]).fetchall()
    return {"regions": [{"code": r, "name": n} for r, n in regions],
            "topics": [{"topic_id": int(t), "label": str(label)} for t, label in topics]}
