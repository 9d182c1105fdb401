"""The DuckDB store: the one module that knows SQL.

Every stage reads and writes through :class:`Store`. Writes of one batch happen in one
transaction, and upserts are keyed so that loading the same input twice changes nothing.
The schema carries a version; :data:`MIGRATIONS` brings an older file forward.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from s3text.errors import StoreError
from s3text.records import Document, QuarantineRecord

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 6

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, source_kind VARCHAR NOT NULL,
    native_id VARCHAR NOT NULL, title VARCHAR NOT NULL, text VARCHAR NOT NULL, date DATE NOT NULL,
    year INTEGER NOT NULL, content_hash VARCHAR NOT NULL, url VARCHAR, extra JSON,
    provenance_file VARCHAR NOT NULL, provenance_row INTEGER NOT NULL, first_run VARCHAR,
    UNIQUE (source, native_id));
CREATE TABLE IF NOT EXISTS actors (
    actor_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, country VARCHAR, city VARCHAR,
    postcode VARCHAR, source_nuts VARCHAR, kind VARCHAR);
CREATE TABLE IF NOT EXISTS document_actors (
    doc_id VARCHAR NOT NULL, actor_id VARCHAR NOT NULL, role VARCHAR NOT NULL,
    PRIMARY KEY (doc_id, actor_id, role));
CREATE TABLE IF NOT EXISTS actor_regions (
    actor_id VARCHAR PRIMARY KEY, nuts_code VARCHAR, nuts_version VARCHAR, level INTEGER,
    method VARCHAR NOT NULL, label VARCHAR);
CREATE VIEW IF NOT EXISTS document_regions AS
    SELECT DISTINCT l.doc_id, r.nuts_code, r.nuts_version, r.level, r.method
    FROM document_actors l JOIN actor_regions r USING (actor_id) WHERE r.nuts_code IS NOT NULL;
CREATE TABLE IF NOT EXISTS normalised (
    doc_id VARCHAR PRIMARY KEY, content_hash VARCHAR NOT NULL, language VARCHAR,
    lemmas VARCHAR NOT NULL, n_tokens INTEGER NOT NULL, truncated BOOLEAN NOT NULL,
    status VARCHAR NOT NULL, duplicate_of VARCHAR);
CREATE TABLE IF NOT EXISTS embeddings (
    model VARCHAR NOT NULL, content_hash VARCHAR NOT NULL, vector FLOAT[] NOT NULL,
    PRIMARY KEY (model, content_hash));
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, started TIMESTAMP NOT NULL, finished TIMESTAMP,
    status VARCHAR NOT NULL, config_hash VARCHAR NOT NULL, manifest JSON);
CREATE TABLE IF NOT EXISTS quarantine (
    source VARCHAR NOT NULL, file VARCHAR NOT NULL, row INTEGER NOT NULL, field VARCHAR NOT NULL,
    reason VARCHAR NOT NULL, raw VARCHAR, first_run VARCHAR,
    PRIMARY KEY (source, file, row, field, reason));
CREATE TABLE IF NOT EXISTS topics (
    run_id VARCHAR NOT NULL, topic_id INTEGER NOT NULL, label VARCHAR NOT NULL,
    top_terms VARCHAR NOT NULL, size INTEGER NOT NULL, PRIMARY KEY (run_id, topic_id));
CREATE TABLE IF NOT EXISTS doc_topics (
    run_id VARCHAR NOT NULL, doc_id VARCHAR NOT NULL, topic_id INTEGER NOT NULL,
    probability DOUBLE, PRIMARY KEY (run_id, doc_id));
CREATE TABLE IF NOT EXISTS topic_periods (
    run_id VARCHAR NOT NULL, topic_id INTEGER NOT NULL, period INTEGER NOT NULL,
    count INTEGER NOT NULL, PRIMARY KEY (run_id, topic_id, period));
CREATE TABLE IF NOT EXISTS emergence (
    run_id VARCHAR NOT NULL, topic_id INTEGER NOT NULL, metrics JSON NOT NULL,
    score DOUBLE NOT NULL, emerging BOOLEAN NOT NULL, PRIMARY KEY (run_id, topic_id));
CREATE TABLE IF NOT EXISTS region_topics (
    run_id VARCHAR NOT NULL, region VARCHAR NOT NULL, topic_id INTEGER NOT NULL,
    count INTEGER NOT NULL, actors INTEGER NOT NULL, rca DOUBLE NOT NULL,
    specialised BOOLEAN NOT NULL, density DOUBLE NOT NULL, PRIMARY KEY (run_id, region, topic_id));
CREATE TABLE IF NOT EXISTS topic_relatedness (
    run_id VARCHAR NOT NULL, topic_a INTEGER NOT NULL, topic_b INTEGER NOT NULL, value DOUBLE NOT NULL,
    PRIMARY KEY (run_id, topic_a, topic_b));
CREATE TABLE IF NOT EXISTS candidates (
    run_id VARCHAR NOT NULL, candidate_key VARCHAR NOT NULL, region VARCHAR NOT NULL,
    topic_id INTEGER NOT NULL, kind VARCHAR NOT NULL, score DOUBLE NOT NULL, record JSON NOT NULL,
    PRIMARY KEY (run_id, candidate_key));
"""

_V2 = """
ALTER TABLE region_topics ADD COLUMN density_ext DOUBLE;
ALTER TABLE topics ADD COLUMN lineage_id VARCHAR;
ALTER TABLE topics ADD COLUMN coherence DOUBLE;
CREATE TABLE topic_series (
    run_id VARCHAR NOT NULL, topic_id INTEGER NOT NULL, period INTEGER NOT NULL, dimension VARCHAR NOT NULL,
    value VARCHAR NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (run_id, topic_id, period, dimension, value));
CREATE TABLE topic_lineage (
    run_id VARCHAR NOT NULL, lineage_id VARCHAR NOT NULL, topic_id INTEGER, event VARCHAR NOT NULL,
    parents JSON NOT NULL, similarity DOUBLE, jaccard DOUBLE, PRIMARY KEY (run_id, lineage_id));
CREATE TABLE topic_centroids (
    run_id VARCHAR NOT NULL, topic_id INTEGER NOT NULL, lineage_id VARCHAR NOT NULL, vector FLOAT[] NOT NULL,
    PRIMARY KEY (run_id, topic_id));
CREATE TABLE topic_complexity (
    run_id VARCHAR NOT NULL, topic_id INTEGER NOT NULL, kci DOUBLE, pci DOUBLE, PRIMARY KEY (run_id, topic_id));
"""

_V3 = """
CREATE TABLE decisions (
    candidate_key VARCHAR PRIMARY KEY, status VARCHAR NOT NULL, note VARCHAR, reviewer VARCHAR NOT NULL,
    decided_at TIMESTAMP NOT NULL, run_id VARCHAR, fingerprint VARCHAR);
CREATE SEQUENCE decision_log_seq;
CREATE TABLE decision_log (
    id BIGINT PRIMARY KEY DEFAULT nextval('decision_log_seq'), candidate_key VARCHAR NOT NULL,
    from_status VARCHAR NOT NULL, to_status VARCHAR NOT NULL, note VARCHAR, reviewer VARCHAR NOT NULL,
    changed_at TIMESTAMP NOT NULL, run_id VARCHAR);
"""

_V4 = """
ALTER TABLE actors ADD COLUMN id_scheme VARCHAR;
ALTER TABLE actors ADD COLUMN native_id VARCHAR;
ALTER TABLE actors ADD COLUMN vat VARCHAR;
ALTER TABLE actors ADD COLUMN source_nuts_version VARCHAR;
ALTER TABLE actors ADD COLUMN geolocation VARCHAR;
ALTER TABLE document_actors ADD COLUMN ec_contribution DOUBLE;
ALTER TABLE actor_regions ADD COLUMN source_code VARCHAR;
ALTER TABLE actor_regions ADD COLUMN source_version VARCHAR;
CREATE TABLE document_classes (
    doc_id VARCHAR NOT NULL, scheme VARCHAR NOT NULL, code VARCHAR NOT NULL, PRIMARY KEY (doc_id, scheme, code));
CREATE TABLE document_nuts (
    doc_id VARCHAR NOT NULL, nuts_code VARCHAR NOT NULL, nuts_version VARCHAR, PRIMARY KEY (doc_id, nuts_code));
CREATE TABLE ingest_files (
    run_id VARCHAR NOT NULL, source VARCHAR NOT NULL, file VARCHAR NOT NULL, encoding VARCHAR,
    read INTEGER NOT NULL, stored INTEGER NOT NULL, duplicates INTEGER NOT NULL, quarantined INTEGER NOT NULL,
    finished TIMESTAMP NOT NULL, PRIMARY KEY (run_id, source, file));
CREATE TABLE organisations (
    org_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, country VARCHAR, actors INTEGER NOT NULL, aliases JSON NOT NULL);
CREATE TABLE actor_orgs (
    actor_id VARCHAR PRIMARY KEY, org_id VARCHAR NOT NULL, rule VARCHAR NOT NULL, evidence VARCHAR);
CREATE VIEW document_orgs AS
    SELECT l.doc_id, l.actor_id, coalesce(o.org_id, l.actor_id) AS org_id, l.role
    FROM document_actors l LEFT JOIN actor_orgs o USING (actor_id);
CREATE TABLE near_duplicates (
    doc_id VARCHAR NOT NULL, other_id VARCHAR NOT NULL, similarity DOUBLE NOT NULL, method VARCHAR NOT NULL,
    PRIMARY KEY (doc_id, other_id));
"""

_V5 = """
CREATE TABLE crawls (
    crawl_id VARCHAR PRIMARY KEY, started TIMESTAMP NOT NULL, finished TIMESTAMP, status VARCHAR NOT NULL,
    seeds_file VARCHAR, config_hash VARCHAR NOT NULL, config JSON, report JSON);
CREATE TABLE crawl_sites (
    crawl_id VARCHAR NOT NULL, site_id VARCHAR NOT NULL, name VARCHAR NOT NULL, seed_url VARCHAR NOT NULL,
    seed_file VARCHAR NOT NULL, seed_row INTEGER NOT NULL, seed JSON NOT NULL, hosts JSON NOT NULL,
    ignored JSON NOT NULL, status VARCHAR NOT NULL, PRIMARY KEY (crawl_id, site_id));
CREATE TABLE crawl_frontier (
    crawl_id VARCHAR NOT NULL, url_key VARCHAR NOT NULL, url VARCHAR NOT NULL, site_id VARCHAR NOT NULL,
    host VARCHAR NOT NULL, depth INTEGER NOT NULL, priority INTEGER NOT NULL, seq BIGINT NOT NULL,
    status VARCHAR NOT NULL, reason VARCHAR, detail VARCHAR, http_status INTEGER, attempts INTEGER,
    content_hash VARCHAR, final_url VARCHAR, updated TIMESTAMP, PRIMARY KEY (crawl_id, url_key));
CREATE TABLE web_page_versions (
    url_key VARCHAR NOT NULL, version INTEGER NOT NULL, url VARCHAR NOT NULL, site_id VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL, doc_id VARCHAR NOT NULL, fetched_at TIMESTAMP NOT NULL, crawl_id VARCHAR NOT NULL,
    http_status INTEGER NOT NULL, PRIMARY KEY (url_key, version));
CREATE VIEW web_pages AS
    WITH latest AS (
        SELECT url_key, max(version) AS version, arg_max(url, version) AS url, arg_max(site_id, version) AS site_id,
               arg_max(content_hash, version) AS content_hash, arg_max(doc_id, version) AS doc_id,
               arg_max(fetched_at, version) AS changed, arg_max(crawl_id, version) AS changed_in
        FROM web_page_versions GROUP BY url_key),
    fetched AS (
        SELECT url_key, max(updated) AS last_fetched, arg_max(crawl_id, updated) AS last_crawl
        FROM crawl_frontier WHERE status IN ('stored', 'unchanged') GROUP BY url_key)
    SELECT l.url_key, l.url, l.site_id, l.content_hash, l.doc_id, l.version, l.changed,
           greatest(l.changed, f.last_fetched) AS last_fetched, coalesce(f.last_crawl, l.changed_in) AS last_crawl
    FROM latest l LEFT JOIN fetched f USING (url_key);
CREATE TABLE crawl_pending_documents (
    crawl_id VARCHAR NOT NULL, doc_id VARCHAR NOT NULL, document JSON NOT NULL, PRIMARY KEY (crawl_id, doc_id));
CREATE TABLE robots_cache (
    origin VARCHAR PRIMARY KEY, fetched_at TIMESTAMP NOT NULL, outcome VARCHAR NOT NULL, status INTEGER,
    body VARCHAR);
"""

_V6 = """
ALTER TABLE actor_regions ADD COLUMN note VARCHAR;
ALTER TABLE actor_regions ADD COLUMN reason VARCHAR;
ALTER TABLE region_topics ADD COLUMN rca_shrunk DOUBLE;
ALTER TABLE region_topics ADD COLUMN rca_lower DOUBLE;
CREATE TABLE candidates_below_minimum (
    run_id VARCHAR NOT NULL, candidate_key VARCHAR NOT NULL, region VARCHAR NOT NULL,
    topic_id INTEGER NOT NULL, kind VARCHAR NOT NULL, score DOUBLE NOT NULL, record JSON NOT NULL,
    PRIMARY KEY (run_id, candidate_key));
ALTER TABLE doc_topics ADD COLUMN content_hash VARCHAR;
ALTER TABLE doc_topics ADD COLUMN assigned_by VARCHAR;
CREATE TABLE topic_reference (
    run_id VARCHAR NOT NULL, topic_id INTEGER NOT NULL, lineage_id VARCHAR NOT NULL, label VARCHAR NOT NULL,
    top_terms VARCHAR NOT NULL, vector FLOAT[] NOT NULL, PRIMARY KEY (run_id, topic_id));
CREATE TABLE topic_runs (
    run_id VARCHAR PRIMARY KEY, fit_run_id VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL, mode VARCHAR NOT NULL,
    reasons JSON NOT NULL, drift JSON);
CREATE TABLE run_stability (
    run_id VARCHAR PRIMARY KEY, previous_run VARCHAR, earlier_documents INTEGER NOT NULL,
    kept_documents INTEGER NOT NULL, missing_documents INTEGER NOT NULL, kept_share DOUBLE,
    candidates INTEGER NOT NULL, previous_candidates INTEGER NOT NULL, shared_candidates INTEGER NOT NULL,
    candidate_jaccard DOUBLE);
"""

# version -> SQL that upgrades a store from version-1 to version. Version 1 is the base schema;
# version 2 adds topic lineage, series per source and region, complexity and density_ext;
# version 3 the analysts' decisions and their audit log (never written by a refresh); version 4
# organisation identifiers, classes (CPC, EuroSciVoc), per-file ingest summaries, organisations
# and near duplicates.
# Version 5: the website crawler's frontier, page history (one version per changed text; `web_pages`,
# the latest version and last fetch of each page, is a view over it and the frontier), pending
# documents (written before `documents`, so a killed crawl loses nothing), robots.txt cache.
# Version 6: each placement's evidence or why-not in words (`actor_regions.note`: the organisation
# register entry used, a source code not used) and, for an actor not placed below country level,
# the reason key (`actor_regions.reason`, s3text.regions.REASONS); the shrunk RCA of each
# region-topic cell (posterior mean and 5 % bound); the candidates below the evidence minimums, kept
# apart so the review queue and decisions never see them; stable topics across refreshes: the
# reference fit (`topic_reference`, rows of the run that fitted), how each run got its topics
# (`topic_runs`: refit or assign, why, drift figures), the content hash and origin (fit, kept,
# assigned) of each document's topic, and each run's stability against the previous completed run
# (`run_stability`).
MIGRATIONS: dict[int, str] = {1: _SCHEMA_V1, 2: _V2, 3: _V3, 4: _V4, 5: _V5, 6: _V6}

# Tables whose rows belong to one run; `replace_run_table` rewrites them wholesale.
RUN_TABLES = (
    "topics", "doc_topics", "topic_periods", "emergence", "region_topics", "topic_relatedness", "candidates",
    "candidates_below_minimum", "topic_series", "topic_lineage", "topic_centroids", "topic_complexity",
    "topic_reference", "topic_runs", "run_stability",
)


# Tables recomputed from the documents on every run, never edited by hand: `replace_tables` rewrites them.
DERIVED_TABLES = ("organisations", "actor_orgs", "near_duplicates")


class Store:
    """A DuckDB file holding documents, caches and run results.

    Use as a context manager; ``read_only=True`` lets a reader (an export, the review page) open a
    file another process is not writing.
    """

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: cannot open store: {exc}") from exc
        if not read_only:
            self._migrate()
        elif self.schema_version() != SCHEMA_VERSION:
            raise StoreError(f"{self.path}: schema version {self.schema_version()}, expected {SCHEMA_VERSION}")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType] | None) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    # -- schema -----------------------------------------------------------------------------
    def schema_version(self) -> int:
        exists = self._scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'")
        if not exists:
            return 0
        version = self._scalar("SELECT max(version) FROM schema_version")
        return int(version) if version is not None else 0

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {current} is newer than this s3text ({SCHEMA_VERSION})"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                self.con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                self.con.execute(MIGRATIONS[version])
                self.con.execute("INSERT INTO schema_version VALUES (?)", [version])
            logger.info("store %s migrated to schema %d", self.path, version)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- generic reads ----------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def count(self, table: str) -> int:
        return int(self._scalar(f"SELECT count(*) FROM {table}") or 0)

    def _scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        # fetchall, not fetchone: DuckDB refuses new work while a result is only partly fetched.
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    # -- documents ----------------------------------------------------------------------------
    def add_documents(self, docs: Iterable[Document], run_id: str) -> int:
        """Insert documents not yet stored; returns how many were new.

        A document whose (source, native_id) is stored keeps its row: re-ingesting never rewrites
        history. Changed text under the same id is reported by the caller through content hashes.
        """
        docs = list(docs)
        if not docs:
            return 0
        frame = pd.DataFrame(
            {
                "doc_id": [d.doc_id for d in docs],
                "source": [d.source for d in docs],
                "source_kind": [d.source_kind for d in docs],
                "native_id": [d.native_id for d in docs],
                "title": [d.title for d in docs],
                "text": [d.text for d in docs],
                "date": [d.date for d in docs],
                "year": [d.date.year for d in docs],
                "content_hash": [d.content_hash for d in docs],
                "url": [d.url for d in docs],
                "extra": [json.dumps(d.extra, sort_keys=True) for d in docs],
                "provenance_file": [d.provenance_file for d in docs],
                "provenance_row": [d.provenance_row for d in docs],
                "first_run": run_id,
            }
        )
        actors = {a.actor_id: a for d in docs for a in d.actors}
        actor_frame = pd.DataFrame(
            [(k, a.name, a.country, a.city, a.postcode, a.nuts_code, a.kind,
              a.id_scheme if a.native_id else None, a.native_id, a.vat, a.nuts_version, a.geolocation)
             for k, a in actors.items()],
            columns=["actor_id", "name", "country", "city", "postcode", "source_nuts", "kind",
                     "id_scheme", "native_id", "vat", "source_nuts_version", "geolocation"],
        )
        participation = {(d.doc_id, a.actor_id, a.role): a.ec_contribution for d in docs for a in d.actors}
        links = pd.DataFrame(
            [(*key, value) for key, value in sorted(participation.items(), key=lambda kv: kv[0])],
            columns=["doc_id", "actor_id", "role", "ec_contribution"],
        )
        classes = pd.DataFrame(
            sorted({(d.doc_id, scheme, code) for d in docs for scheme, code in d.classes}),
            columns=["doc_id", "scheme", "code"],
        )
        nuts = pd.DataFrame(
            sorted({(d.doc_id, code, d.extra.get("nuts_version")) for d in docs for code in d.nuts_codes},
                   key=lambda r: (r[0], r[1])),
            columns=["doc_id", "nuts_code", "nuts_version"],
        )
        with self.transaction():
            before = self.count("documents")
            for table, part in (("documents", frame), ("actors", actor_frame), ("document_actors", links),
                                ("document_classes", classes), ("document_nuts", nuts)):
                self._insert(table, part, on_conflict="DO NOTHING")
            return self.count("documents") - before

    def add_quarantine(self, records: Iterable[QuarantineRecord], run_id: str) -> int:
        frame = pd.DataFrame(
            [(q.source, q.file, q.row, q.field, q.reason, q.raw, run_id) for q in records],
            columns=["source", "file", "row", "field", "reason", "raw", "first_run"],
        )
        if frame.empty:
            return 0
        frame = frame.drop_duplicates(subset=["source", "file", "row", "field", "reason"])
        with self.transaction():
            before = self.count("quarantine")
            self._insert("quarantine", frame, on_conflict="DO NOTHING")
            return self.count("quarantine") - before

    def put_frame(self, table: str, frame: pd.DataFrame, *, update_on: Sequence[str] = ()) -> None:
        """Insert a frame whose columns match ``table``. Rows whose key is stored are left alone, or,
        with ``update_on`` naming the key columns, have their other columns replaced."""
        action = "DO NOTHING" if not update_on else "DO UPDATE SET " + ", ".join(
            f"{c} = excluded.{c}" for c in frame.columns if c not in update_on
        )
        with self.transaction():
            self._insert(table, frame, on_conflict=action)

    def _insert(self, table: str, frame: pd.DataFrame, *, on_conflict: str = "") -> None:
        """INSERT a frame by column name; the caller holds the transaction."""
        if frame.empty:
            return
        cols = ", ".join(frame.columns)
        conflict = f" ON CONFLICT {on_conflict}" if on_conflict else ""
        self.con.register("incoming", frame)
        try:
            self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM incoming{conflict}")
        finally:
            self.con.unregister("incoming")

    # -- embeddings ---------------------------------------------------------------------------
    def missing_embeddings(self, model: str, hashes: Sequence[str]) -> list[str]:
        wanted = pd.DataFrame({"content_hash": list(dict.fromkeys(hashes))})
        self.con.register("wanted", wanted)
        try:
            rows = self.con.execute(
                "SELECT w.content_hash FROM wanted w LEFT JOIN embeddings e "
                "ON e.model = ? AND e.content_hash = w.content_hash WHERE e.content_hash IS NULL",
                [model],
            ).fetchall()
        finally:
            self.con.unregister("wanted")
        return [r[0] for r in rows]

    def put_embeddings(self, model: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        frame = pd.DataFrame({"model": model, "content_hash": list(hashes), "vector": list(vectors.astype("float32"))})
        self.put_frame("embeddings", frame)

    def get_embeddings(self, model: str, hashes: Sequence[str]) -> np.ndarray:
        """Vectors in the order of ``hashes``; every hash must be cached."""
        wanted = pd.DataFrame({"content_hash": list(hashes), "pos": range(len(hashes))})
        self.con.register("wanted", wanted)
        try:
            got = self.con.execute(
                "SELECT w.pos, e.vector FROM wanted w JOIN embeddings e "
                "ON e.model = ? AND e.content_hash = w.content_hash ORDER BY w.pos",
                [model],
            ).fetchall()
        finally:
            self.con.unregister("wanted")
        if len(got) != len(hashes):
            raise StoreError(f"{len(hashes) - len(got)} embeddings missing for model {model}")
        return np.asarray([v for _, v in got], dtype=np.float32)

    def import_embeddings(self, other: Path | str) -> int:
        """Copy the cached embeddings of the store at ``other`` that this one lacks (same key: model
        and content hash, so the vectors are those this store would compute); returns how many."""
        before = self.count("embeddings")
        self.con.execute("ATTACH ? AS other_store (READ_ONLY)", [str(other)])
        try:
            with self.transaction():
                self.con.execute("INSERT INTO embeddings SELECT model, content_hash, vector "
                                 "FROM other_store.embeddings ON CONFLICT DO NOTHING")
        finally:
            self.con.execute("DETACH other_store")
        return self.count("embeddings") - before

    def replace_tables(self, frames: dict[str, pd.DataFrame]) -> None:
        """Rewrite derived tables wholesale, together in one transaction (organisations and their
        actors must never disagree)."""
        unknown = set(frames) - set(DERIVED_TABLES)
        if unknown:
            raise StoreError(f"{sorted(unknown)} are not derived tables")
        with self.transaction():
            for table, frame in frames.items():
                self.con.execute(f"DELETE FROM {table}")
                self._insert(table, frame)

    # -- runs ---------------------------------------------------------------------------------
    def replace_run_table(self, table: str, run_id: str, frame: pd.DataFrame) -> None:
        """Rewrite one run's rows of a result table in one transaction (a retried stage stays clean)."""
        if table not in RUN_TABLES:
            raise StoreError(f"{table} is not a per-run table")
        with self.transaction():
            self.con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
            self._insert(table, frame.assign(run_id=run_id))

    def start_run(self, run_id: str, config_hash: str, started: Any) -> None:
        with self.transaction():
            self.con.execute(
                "INSERT INTO runs VALUES (?, ?, NULL, 'running', ?, NULL)", [run_id, started, config_hash]
            )

    def finish_run(self, run_id: str, status: str, finished: Any, manifest: dict[str, Any]) -> None:
        with self.transaction():
            self.con.execute(
                "UPDATE runs SET status = ?, finished = ?, manifest = ? WHERE run_id = ?",
                [status, finished, json.dumps(manifest, default=str), run_id],
            )

    def latest_run(self, status: str = "completed") -> str | None:
        run_id = self._scalar("SELECT run_id FROM runs WHERE status = ? ORDER BY started DESC LIMIT 1", [status])
        return str(run_id) if run_id is not None else None
