"""The crawler's state in the store: crawls, sites, the frontier, page history, pending documents.

The crawl's tables are its own (schema v5), so their SQL lives here next to the crawl, going
through :class:`Store` for connections, transactions, frames and documents.

Every page outcome is written in one transaction: its frontier row, the links it adds, its new
version (when the text changed) and the document itself as a *pending* row. The latest version of
a page is not stored twice: ``web_pages`` is a view over ``web_page_versions`` and the frontier. Pending documents go
to ``documents`` in batches through :meth:`Store.add_documents` (idempotent), then leave the pending
table. A crawl killed at any point therefore resumes with every fetched page accounted for: a page
is either still queued (its transaction never committed: fetched again) or done (never fetched
again), and its document is either in ``documents`` or still pending (written on resume).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from s3text.crawl.seeds import Seed
from s3text.crawl.urls import authority, page_key
from s3text.errors import StoreError
from s3text.records import Actor, Document
from s3text.store import Store

QUEUED = "queued"


def now() -> datetime:
    """Naive UTC, as the store's TIMESTAMP columns hold it."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(slots=True)
class FrontierRow:
    url_key: str
    url: str
    host: str
    depth: int
    priority: int
    seq: int
    status: str = QUEUED
    reason: str | None = None


@dataclass(slots=True)
class Outcome:
    """What became of one frontier row (and, after a redirect, of the page it landed on)."""

    row: FrontierRow
    status: str
    reason: str | None = None
    detail: str | None = None
    http_status: int | None = None
    attempts: int = 0
    content_hash: str | None = None
    final: FrontierRow | None = None  # the page a redirect led to, when its key differs
    document: Document | None = None  # a new version
    version: int | None = None
    links: list[FrontierRow] = field(default_factory=list)
    requested: bool = False  # a page request was made (counts against max_pages)


@dataclass(slots=True)
class SiteState:
    site_id: str
    seed: Seed
    hosts: set[str]
    status: str
    ignored: dict[str, int]
    rows: list[FrontierRow]  # queued rows
    seen: set[str]  # url keys of this site in this crawl
    requested: int  # page requests already made in this crawl
    next_seq: int
    hashes: dict[str, str]  # content hash -> url key, pages of this crawl
    latest: dict[str, tuple[str, int]]  # url key -> (content hash, version), from earlier crawls too
    query_variants: dict[str, int]

    def take_seq(self) -> int:
        """The next frontier sequence number of this site (ties of priority and depth: first found first)."""
        self.next_seq += 1
        return self.next_seq - 1

    def ignore(self, reason: str) -> None:
        """Count a link that never became a frontier row (offsite, excluded, ...)."""
        self.ignored[reason] = self.ignored.get(reason, 0) + 1


def _seed_json(seed: Seed) -> str:
    return json.dumps({"name": seed.name, "url": seed.url, "country": seed.country, "row": seed.row,
                       "file": seed.file, "nuts_code": seed.nuts_code, "city": seed.city, "sector": seed.sector})


def _seed_from_json(text: str) -> Seed:
    return Seed(**json.loads(text))


# -- crawls ---------------------------------------------------------------------------------------------
def create_crawl(store: Store, crawl_id: str, seeds_file: str, config_hash: str, config: dict[str, Any],
                 seeds: list[Seed]) -> None:
    """A new crawl: earlier unfinished crawls are superseded, each seed becomes a queued page."""
    stamp = now()
    with store.transaction():
        store.con.execute("UPDATE crawls SET status = 'superseded' WHERE status = 'running'")
        store.con.execute("INSERT INTO crawls VALUES (?, ?, NULL, 'running', ?, ?, ?, NULL)",
                          [crawl_id, stamp, seeds_file, config_hash, json.dumps(config, default=str)])
        if not seeds:
            return
        store.con.executemany(
            "INSERT INTO crawl_sites VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', 'new') ON CONFLICT DO NOTHING",
            [[crawl_id, seed.site_id, seed.name, seed.url, seed.file, seed.row, _seed_json(seed),
              json.dumps([authority(seed.url)])] for seed in seeds])
        store.con.executemany(
            "INSERT INTO crawl_frontier VALUES (?, ?, ?, ?, ?, 0, 0, ?, 'queued', NULL, NULL, NULL, 0, NULL, "
            "NULL, ?) ON CONFLICT DO NOTHING",
            [[crawl_id, page_key(seed.url), seed.url, seed.site_id, authority(seed.url), seq, stamp]
             for seq, seed in enumerate(seeds)])


def resumable_crawl(store: Store) -> str | None:
    rows = store.con.execute(
        "SELECT crawl_id FROM crawls WHERE status = 'running' ORDER BY started DESC LIMIT 1").fetchall()
    return str(rows[0][0]) if rows else None


def crawl_info(store: Store, crawl_id: str) -> dict[str, Any]:
    frame = store.query("SELECT * FROM crawls WHERE crawl_id = ?", [crawl_id])
    return {} if frame.empty else frame.iloc[0].to_dict()


def finish_crawl(store: Store, crawl_id: str, status: str, report: dict[str, Any]) -> None:
    with store.transaction():
        store.con.execute("UPDATE crawls SET status = ?, finished = ?, report = ? WHERE crawl_id = ?",
                          [status, now(), json.dumps(report, default=str), crawl_id])


# -- sites ----------------------------------------------------------------------------------------------
def site_ids(store: Store, crawl_id: str) -> list[tuple[str, str]]:
    rows = store.con.execute("SELECT site_id, status FROM crawl_sites WHERE crawl_id = ? ORDER BY seed_row",
                             [crawl_id]).fetchall()
    return [(str(a), str(b)) for a, b in rows]


def load_site(store: Store, crawl_id: str, site_id: str) -> SiteState:
    con = store.con
    seed_json, hosts, ignored, status = con.execute(
        "SELECT seed, hosts, ignored, status FROM crawl_sites WHERE crawl_id = ? AND site_id = ?",
        [crawl_id, site_id]).fetchall()[0]
    frontier = con.execute(
        "SELECT url_key, url, host, depth, priority, seq, status, content_hash, attempts FROM crawl_frontier "
        "WHERE crawl_id = ? AND site_id = ?", [crawl_id, site_id]).fetchall()
    rows: list[FrontierRow] = []
    seen: set[str] = set()
    hashes: dict[str, str] = {}
    variants: dict[str, int] = {}
    requested = 0
    for key, url, host, depth, priority, seq, st, chash, attempts in frontier:
        seen.add(key)
        if "?" in key:
            path = key.split("?", 1)[0]
            variants[path] = variants.get(path, 0) + 1
        if st == QUEUED:
            rows.append(FrontierRow(key, url, host, depth, priority, seq))
        elif attempts:
            requested += 1
        if chash and st in ("stored", "unchanged"):
            hashes[chash] = key
    latest = {str(k): (str(h), int(v)) for k, h, v in con.execute(
        "SELECT url_key, arg_max(content_hash, version), max(version) FROM web_page_versions WHERE site_id = ? "
        "GROUP BY url_key", [site_id]).fetchall()}
    next_seq = 1 + max((int(r[5]) for r in frontier), default=0)
    return SiteState(site_id, _seed_from_json(seed_json), set(json.loads(hosts)), str(status), json.loads(ignored),
                     rows, seen, requested, next_seq, hashes, latest, variants)


def update_site(store: Store, crawl_id: str, site: SiteState, status: str, *, close_reason: str | None = None) -> None:
    """Save a site's hosts, ignored-link counts and status; when it ends, its queued rows are skipped."""
    with store.transaction():
        store.con.execute(
            "UPDATE crawl_sites SET status = ?, hosts = ?, ignored = ? WHERE crawl_id = ? AND site_id = ?",
            [status, json.dumps(sorted(site.hosts)), json.dumps(site.ignored), crawl_id, site.site_id])
        if close_reason is not None:
            store.con.execute(
                "UPDATE crawl_frontier SET status = 'skipped', reason = ?, updated = ? "
                "WHERE crawl_id = ? AND site_id = ? AND status = 'queued'",
                [close_reason, now(), crawl_id, site.site_id])


# -- pages ----------------------------------------------------------------------------------------------
_FRONTIER_COLS = ["crawl_id", "url_key", "url", "site_id", "host", "depth", "priority", "seq", "status", "reason",
                  "detail", "http_status", "attempts", "content_hash", "final_url", "updated"]


def _frontier_frame(crawl_id: str, site_id: str, rows: Iterable[FrontierRow], stamp: datetime) -> pd.DataFrame:
    return pd.DataFrame(
        [(crawl_id, r.url_key, r.url, site_id, r.host, r.depth, r.priority, r.seq, r.status, r.reason, None, None, 0,
          None, None, stamp) for r in rows], columns=_FRONTIER_COLS)


def add_rows(store: Store, crawl_id: str, site_id: str, rows: list[FrontierRow]) -> None:
    """New frontier rows (sitemap entries); keys already present are left alone."""
    if rows:
        store.put_frame("crawl_frontier", _frontier_frame(crawl_id, site_id, rows, now()))


def record(store: Store, crawl_id: str, site_id: str, outcome: Outcome) -> None:
    """One page's outcome, its links, its new version and pending document, in one transaction.

    The version history decides the version number, not the caller's per-site memory: a page that
    another site reached first (through a redirect) continues its own history, and a text that site
    already stored is "unchanged" here too. ``outcome`` is updated to what was recorded.
    """
    stamp, con = now(), store.con
    target = outcome.final or outcome.row
    final_url = outcome.final.url if outcome.final is not None else None
    links = _frontier_frame(crawl_id, site_id, outcome.links, stamp)
    upsert = ("INSERT INTO crawl_frontier VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT (crawl_id, url_key) DO UPDATE SET status = excluded.status, reason = excluded.reason, "
              "detail = excluded.detail, http_status = excluded.http_status, attempts = excluded.attempts, "
              "content_hash = excluded.content_hash, final_url = excluded.final_url, updated = excluded.updated")
    with store.transaction():
        if outcome.document is not None:
            _settle_version(store, target.url_key, outcome)
        if outcome.final is not None:
            con.execute(upsert, [crawl_id, outcome.row.url_key, outcome.row.url, site_id, outcome.row.host,
                                 outcome.row.depth, outcome.row.priority, outcome.row.seq, "redirected", None,
                                 None, None, outcome.attempts, None, final_url, stamp])
        con.execute(upsert, [crawl_id, target.url_key, target.url, site_id, target.host, target.depth,
                             target.priority, target.seq, outcome.status, outcome.reason,
                             (outcome.detail or "")[:1000] or None, outcome.http_status,
                             outcome.attempts if outcome.final is None else 0, outcome.content_hash, final_url, stamp])
        if len(links):
            con.register("incoming_links", links)
            con.execute(f"INSERT INTO crawl_frontier ({', '.join(_FRONTIER_COLS)}) SELECT * FROM incoming_links "
                        "ON CONFLICT DO NOTHING")
            con.unregister("incoming_links")
        doc = outcome.document
        if doc is not None and outcome.version is not None:
            fetched = datetime.fromisoformat(doc.extra["fetched_at"]).replace(tzinfo=None)
            con.execute("INSERT INTO web_page_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        [target.url_key, outcome.version, doc.url, site_id, outcome.content_hash, doc.doc_id, fetched,
                         crawl_id, outcome.http_status])
            con.execute("INSERT INTO crawl_pending_documents VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                        [crawl_id, doc.doc_id, document_to_json(doc)])


def _settle_version(store: Store, url_key: str, outcome: Outcome) -> None:
    last_hash, last_version = store.con.execute(
        "SELECT arg_max(content_hash, version), max(version) FROM web_page_versions WHERE url_key = ?",
        [url_key]).fetchall()[0]
    if last_hash is not None and last_hash == outcome.content_hash:
        outcome.status, outcome.reason, outcome.document, outcome.version = "unchanged", None, None, None
        return
    version = int(last_version or 0) + 1
    if version != outcome.version and outcome.document is not None:
        doc = outcome.document
        outcome.document = dataclasses.replace(doc, extra={**doc.extra, "version": str(version)})
    outcome.version = version


def flush_pending(store: Store, crawl_id: str) -> int:
    """Pending documents into ``documents`` (idempotent), then out of the pending table; returns how many were new."""
    rows = store.con.execute("SELECT doc_id, document FROM crawl_pending_documents WHERE crawl_id = ?",
                             [crawl_id]).fetchall()
    if not rows:
        return 0
    added = store.add_documents([document_from_json(text) for _, text in rows], run_id=crawl_id)
    with store.transaction():
        store.con.executemany("DELETE FROM crawl_pending_documents WHERE crawl_id = ? AND doc_id = ?",
                              [[crawl_id, doc_id] for doc_id, _ in rows])
    return added


# -- robots cache ---------------------------------------------------------------------------------------
def cached_robots(store: Store, origin: str, max_age_hours: float) -> tuple[str, int | None, str | None] | None:
    rows = store.con.execute("SELECT outcome, status, body, fetched_at FROM robots_cache WHERE origin = ?",
                             [origin]).fetchall()
    if not rows or rows[0][3] < now() - timedelta(hours=max_age_hours):
        return None
    outcome, status, body, _ = rows[0]
    return str(outcome), (int(status) if status is not None else None), body


def cache_robots(store: Store, origin: str, outcome: str, status: int | None, body: str) -> None:
    with store.transaction():
        store.con.execute("INSERT INTO robots_cache VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
                          "fetched_at = excluded.fetched_at, outcome = excluded.outcome, status = excluded.status, "
                          "body = excluded.body", [origin, now(), outcome, status, body])


# -- report ---------------------------------------------------------------------------------------------
def outcome_counts(store: Store, crawl_id: str) -> pd.DataFrame:
    return store.query(
        "SELECT host, status, coalesce(reason, '') AS reason, count(*) AS n FROM crawl_frontier "
        "WHERE crawl_id = ? GROUP BY ALL ORDER BY host, status, reason", [crawl_id])


def site_meta(store: Store, crawl_id: str) -> list[dict[str, Any]]:
    rows = store.con.execute(
        "SELECT site_id, name, status, hosts, ignored FROM crawl_sites WHERE crawl_id = ? ORDER BY seed_row",
        [crawl_id]).fetchall()
    return [{"site_id": site_id, "name": name, "status": status, "hosts": json.loads(hosts),
             "ignored": json.loads(ignored)} for site_id, name, status, hosts, ignored in rows]


def new_documents(store: Store, crawl_id: str) -> int:
    """Documents this crawl added to ``documents`` (a resumed crawl counts its earlier part too)."""
    rows = store.con.execute("SELECT count(*) FROM documents WHERE first_run = ?", [crawl_id]).fetchall()
    return int(rows[0][0])


# -- documents as JSON (the pending table) -------------------------------------------------------------
def document_to_json(doc: Document) -> str:
    return json.dumps({
        "source": doc.source, "source_kind": doc.source_kind, "native_id": doc.native_id, "title": doc.title,
        "text": doc.text, "date": doc.date.isoformat(), "provenance_file": doc.provenance_file,
        "provenance_row": doc.provenance_row, "language": doc.language, "url": doc.url, "extra": doc.extra,
        "classes": [list(c) for c in doc.classes], "nuts_codes": list(doc.nuts_codes),
        "actors": [{f.name: getattr(a, f.name) for f in dataclasses.fields(a) if getattr(a, f.name) is not None}
                   for a in doc.actors],
    }, ensure_ascii=False)


def document_from_json(text: str) -> Document:
    data = json.loads(text)
    return Document(
        source=data["source"], source_kind=data["source_kind"], native_id=data["native_id"], title=data["title"],
        text=data["text"], date=date.fromisoformat(data["date"]), provenance_file=data["provenance_file"],
        provenance_row=data["provenance_row"], language=data["language"], url=data["url"], extra=data["extra"],
        classes=tuple((a, b) for a, b in data["classes"]), nuts_codes=tuple(data["nuts_codes"]),
        actors=tuple(Actor(**a) for a in data["actors"]))


# -- sharing the store ----------------------------------------------------------------------------------
class StoreLease:
    """The crawl's store connection, held under ``<store>.lock`` in leases of ``lease_seconds``.

    DuckDB allows one writing process, and the review server and the refresh flow take the same
    lock file before they open the store. A crawl runs for hours, so it does not keep the store:
    after each lease it closes the connection, releases the lock and pauses, so a reader or a
    refresh waiting for the lock gets it in between; the crawl then waits for the lock again.
    Only the first acquisition gives up (after ``first_wait`` seconds: another run is writing).
    """

    def __init__(self, path: Path | str, *, first_wait: float, lease_seconds: float = 1.0, pause: float = 0.25) -> None:
        self.path = Path(path)
        self.first_wait, self.lease_seconds, self.pause = first_wait, lease_seconds, pause
        self._lock = FileLock(str(self.path) + ".lock", thread_local=False)
        self._store: Store | None = None
        self._since = 0.0
        self._first = True

    def _open(self) -> Store:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=self.first_wait if self._first else -1)
        except Timeout as exc:
            raise StoreError(f"{self.path} is locked by another run; retry later") from exc
        self._first = False
        try:
            self._store = Store(self.path)
        except BaseException:
            self._lock.release()
            raise
        self._since = time.monotonic()
        return self._store

    def get(self) -> Store:
        """The open store, reopened after a pause when the current lease has run out."""
        if self._store is not None and time.monotonic() - self._since > self.lease_seconds:
            self.close()
            time.sleep(self.pause)
        return self._store if self._store is not None else self._open()

    def close(self) -> None:
        if self._store is not None:
            try:
                self._store.close()
            finally:
                self._store = None
                self._lock.release()
