"""Reads for topic and region views: topics with yearly counts and series, region-topic metrics."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from s3text.diagnosis import recorded_reasons
from s3text.exports import run_info
from s3text.outputs import topics_frame
from s3text.store import Store
from s3text.web.queries import frame_records, plain

LINEAGE_ID = re.compile(r"^[0-9a-f]{16}$")
RELATED_SHOWN = 10


def resolve_topic(store: Store, run_id: str, ref: str) -> int | None:
    """A topic of the run from its id (``7``) or its lineage id (16 hex digits, stable across refits)."""
    if ref.isdigit() and len(ref) < 10:
        found = store.con.execute("SELECT topic_id FROM topics WHERE run_id = ? AND topic_id = ?",
                                  [run_id, int(ref)]).fetchall()
    elif LINEAGE_ID.match(ref):
        found = store.con.execute("SELECT topic_id FROM topics WHERE run_id = ? AND lineage_id = ?",
                                  [run_id, ref]).fetchall()
    else:
        return None
    return int(found[0][0]) if found else None


def topic_list(store: Store, run_id: str) -> list[dict[str, Any]]:
    """Every topic of the run: label, terms, size, years, yearly counts and emergence parts."""
    out = []
    for row in frame_records(topics_frame(store, run_id)):
        counts = json.loads(row.pop("counts_per_year") or "{}")
        row["yearly"] = [{"year": int(y), "count": int(n)} for y, n in sorted(counts.items(), key=lambda i: int(i[0]))]
        row["top_terms"] = [t.strip() for t in str(row["top_terms"]).split(",") if t.strip()]
        out.append(row)
    return out


def topic_labels(store: Store, run_id: str) -> dict[int, str]:
    rows = store.con.execute("SELECT topic_id, label FROM topics WHERE run_id = ?", [run_id]).fetchall()
    return {int(t): str(label) for t, label in rows}


def topic_series(store: Store, run_id: str, topic_id: int, region: str | None = None) -> dict[str, Any]:
    """Documents per year: in total, per source kind, and (when given) in one region."""
    totals = store.con.execute("SELECT period, count FROM topic_periods WHERE run_id = ? AND topic_id = ? "
                               "ORDER BY period", [run_id, topic_id]).fetchall()
    series = store.con.execute(
        "SELECT dimension, value, period, count FROM topic_series WHERE run_id = ? AND topic_id = ? AND "
        "(dimension = 'source' OR (dimension = 'region' AND value = ?)) ORDER BY dimension, value, period",
        [run_id, topic_id, region]).fetchall()
    by_source: dict[str, list[dict[str, int]]] = {}
    in_region: list[dict[str, int]] = []
    for dimension, value, period, count in series:
        point = {"year": int(period), "count": int(count)}
        if dimension == "source":
            by_source.setdefault(str(value), []).append(point)
        else:
            in_region.append(point)
    out: dict[str, Any] = {"total": [{"year": int(p), "count": int(n)} for p, n in totals], "by_source": by_source}
    if region is not None:
        out["region"] = {"code": region, "points": in_region}
    return out


def topic_regions(store: Store, run_id: str, topic_id: int) -> list[dict[str, Any]]:
    """Region-topic metrics of every region present in the topic or related to it, densest first."""
    frame = store.query(
        "SELECT region, count, actors, rca, specialised, density, density_ext FROM region_topics "
        "WHERE run_id = ? AND topic_id = ? AND (count > 0 OR density > 0) ORDER BY density DESC, rca DESC, region",
        [run_id, topic_id])
    return frame_records(frame)


def topic_detail(store: Store, run_id: str, topic_id: int) -> dict[str, Any] | None:
    found = [t for t in topic_list(store, run_id) if int(t["topic_id"]) == topic_id]
    if not found:
        return None
    topic = found[0]
    labels = topic_labels(store, run_id)
    related = store.con.execute(
        "SELECT topic_b, value FROM topic_relatedness WHERE run_id = ? AND topic_a = ? AND topic_b != topic_a "
        "ORDER BY value DESC, topic_b LIMIT ?", [run_id, topic_id, RELATED_SHOWN]).fetchall()
    topic["related"] = [{"topic_id": int(t), "label": labels.get(int(t), ""), "relatedness": float(v)}
                        for t, v in related]
    lineage = store.con.execute("SELECT event, parents FROM topic_lineage WHERE run_id = ? AND topic_id = ?",
                                [run_id, topic_id]).fetchall()
    topic["lineage"] = ({"event": lineage[0][0], "parents": json.loads(lineage[0][1] or "[]")} if lineage else None)
    complexity = store.con.execute("SELECT kci, pci FROM topic_complexity WHERE run_id = ? AND topic_id = ?",
                                   [run_id, topic_id]).fetchall()
    topic["complexity"] = {"kci": plain(complexity[0][0]), "pci": plain(complexity[0][1])} if complexity else None
    topic["series"] = topic_series(store, run_id, topic_id)
    topic["regions"] = topic_regions(store, run_id, topic_id)
    topic["no_candidate"] = recorded_reasons(run_info(store, run_id)["manifest"]).get(topic_id)
    return topic


def region_list(store: Store, run_id: str, statuses: Sequence[str]) -> list[dict[str, Any]]:
    """Each region of the run: topics present, specialisations, documents, and candidates shown."""
    frame = store.query(
        "WITH shown AS (SELECT c.region, count(*) AS candidates FROM candidates c LEFT JOIN decisions d "
        "USING (candidate_key) WHERE c.run_id = ? AND (len(?) = 0 OR list_contains(?, coalesce(d.status, 'new'))) "
        "GROUP BY c.region) "
        "SELECT r.region, count(*) FILTER (WHERE r.count > 0) AS topics, "
        "count(*) FILTER (WHERE r.specialised) AS specialisations, CAST(sum(r.count) AS BIGINT) AS documents, "
        "coalesce(any_value(s.candidates), 0) AS candidates FROM region_topics r LEFT JOIN shown s USING (region) "
        "WHERE r.run_id = ? GROUP BY r.region ORDER BY r.region",
        [run_id, list(statuses), list(statuses), run_id])
    return frame_records(frame)


def region_topics(store: Store, run_id: str, region: str) -> list[dict[str, Any]]:
    """The region's metrics in every topic it is present in or related to, specialisations first."""
    frame = store.query(
        "SELECT r.topic_id, t.label, t.lineage_id, r.count, r.actors, r.rca, r.specialised, r.density, "
        "r.density_ext, e.score AS emergence_score, e.emerging FROM region_topics r "
        "JOIN topics t ON t.run_id = r.run_id AND t.topic_id = r.topic_id "
        "LEFT JOIN emergence e ON e.run_id = r.run_id AND e.topic_id = r.topic_id "
        "WHERE r.run_id = ? AND r.region = ? AND (r.count > 0 OR r.density > 0) "
        "ORDER BY r.specialised DESC, r.rca DESC, r.density DESC, r.topic_id", [run_id, region])
    return frame_records(frame)


def region_exists(store: Store, run_id: str, region: str) -> bool:
    rows = store.con.execute("SELECT count(*) FROM region_topics WHERE run_id = ? AND region = ?",
                             [run_id, region]).fetchall()
    return bool(rows[0][0])


def end_year(store: Store, run_id: str, topic_id: int) -> int | None:
    """The last year of the emergence window (the trend chart marks it)."""
    rows = store.con.execute("SELECT TRY_CAST(metrics->>'end_year' AS INTEGER) FROM emergence WHERE run_id = ? "
                             "AND topic_id = ?", [run_id, topic_id]).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else None
