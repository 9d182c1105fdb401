"""Analysts' decisions on candidates: accept, reject or watch, with a note, kept across refreshes.

Decisions hang on the candidate key (region + topic lineage), not on a run's topic number, so a
refit that keeps a topic's lineage keeps its decision. Each decision stores a fingerprint of what
the analyst saw (kind, score to two decimals, evidence); when the current candidate's fingerprint
differs, it is "changed since review". Every change is appended to ``decision_log``; a refresh
never writes to either table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from s3text.errors import ReviewError
from s3text.store import Store

STATUSES = ("new", "accepted", "rejected", "watch")
DECIDABLE = ("accepted", "rejected", "watch")
MAX_NOTE = 5000


def fingerprint(record: dict[str, Any]) -> str:
    """What an analyst judged: kind, score (2 decimals) and evidence ids. Small score jitter between
    refits does not count as a change; a new kind or new evidence does."""
    payload = {"kind": record.get("kind"), "score": round(float(record.get("score", 0.0)), 2),
               "evidence": sorted(e["doc_id"] for e in record.get("evidence", []))}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def decide(store: Store, *, candidate_key: str, status: str, reviewer: str, note: str = "",
           record: dict[str, Any] | None = None, run_id: str | None = None) -> None:
    """Record a decision and its audit row in one transaction."""
    if status not in DECIDABLE:
        raise ReviewError(f"status must be one of {', '.join(DECIDABLE)}; got {status!r}")
    reviewer = reviewer.strip()
    if not reviewer:
        raise ReviewError("a decision needs the reviewer's name")
    if len(note) > MAX_NOTE:
        raise ReviewError(f"note is {len(note)} characters; at most {MAX_NOTE}")
    if not candidate_key.strip():
        raise ReviewError("a decision needs a candidate key")
    now = datetime.now(UTC).replace(tzinfo=None)
    print_ = fingerprint(record) if record is not None else None
    with store.transaction():
        rows = store.con.execute("SELECT status FROM decisions WHERE candidate_key = ?", [candidate_key]).fetchall()
        before = rows[0][0] if rows else "new"
        store.con.execute(
            "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (candidate_key) DO UPDATE SET "
            "status = excluded.status, note = excluded.note, reviewer = excluded.reviewer, "
            "decided_at = excluded.decided_at, run_id = excluded.run_id, fingerprint = excluded.fingerprint",
            [candidate_key, status, note, reviewer, now, run_id, print_])
        store.con.execute(
            "INSERT INTO decision_log (candidate_key, from_status, to_status, note, reviewer, changed_at, run_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", [candidate_key, before, status, note, reviewer, now, run_id])


def current_decisions(store: Store) -> pd.DataFrame:
    return store.query("SELECT * FROM decisions ORDER BY candidate_key")


def audit_log(store: Store, candidate_key: str | None = None) -> pd.DataFrame:
    if candidate_key is None:
        return store.query("SELECT * FROM decision_log ORDER BY id")
    return store.query("SELECT * FROM decision_log WHERE candidate_key = ? ORDER BY id", [candidate_key])


def with_review_state(records: Iterable[dict[str, Any]], decisions: pd.DataFrame) -> list[dict[str, Any]]:
    """Candidate records with ``status`` (``new`` when undecided), reviewer, note, decision time and
    ``changed_since_review``."""
    by_key = {r.candidate_key: r for r in decisions.itertuples(index=False)}
    out = []
    for record in records:
        d = by_key.get(record["candidate_key"])
        review = {"status": "new", "reviewer": None, "note": None, "decided_at": None,
                  "changed_since_review": False}
        if d is not None:
            review = {"status": d.status, "reviewer": d.reviewer, "note": d.note,
                      "decided_at": pd.Timestamp(d.decided_at).isoformat(),
                      "changed_since_review": d.fingerprint is not None and d.fingerprint != fingerprint(record)}
        out.append({**record, **review})
    return out
