from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from s3text.errors import StoreError
from s3text.records import Actor, Document, QuarantineRecord
from s3text.store import SCHEMA_VERSION, Store


def _doc(native_id: str, text: str = "Solar cooperatives in Alpine valleys",
         actors: tuple[Actor, ...] = ()) -> Document:
    return Document(source="test", source_kind="project", native_id=native_id, title=f"T {native_id}", text=text,
                    date=date(2019, 5, 1), provenance_file="f.csv", provenance_row=int(native_id) + 1, actors=actors)


def test_documents_upsert_is_idempotent_and_keeps_history(tmp_path: Path) -> None:
    actor = Actor(name="Eurac Research", country="IT", city="Bolzano", native_id="999")
    with Store(tmp_path / "s.duckdb") as store:
        assert store.add_documents([_doc("1", actors=(actor,)), _doc("2")], "run1") == 2
        assert store.add_documents([_doc("1", actors=(actor,)), _doc("2")], "run2") == 0
        # Same key, changed text: the stored row is kept, never silently overwritten.
        assert store.add_documents([_doc("1", text="changed")], "run3") == 0
        stored = store.query("SELECT text, first_run FROM documents WHERE native_id = '1'")
        assert stored.iloc[0].tolist() == ["Solar cooperatives in Alpine valleys", "run1"]
        assert store.count("actors") == 1 and store.count("document_actors") == 1


def test_store_survives_reopen_and_records_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.add_documents([_doc("1")], "r")
    with Store(path, read_only=True) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.count("documents") == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version VALUES (?)", [SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_quarantine_dedupes_on_location_and_reason(tmp_path: Path) -> None:
    q = QuarantineRecord("cordis", "p.csv", 7, "startDate", "bad_date: 2021-13-45", "raw")
    with Store(tmp_path / "s.duckdb") as store:
        assert store.add_quarantine([q, q], "r1") == 1
        assert store.add_quarantine([q], "r2") == 0
        row = store.query("SELECT file, row, field, reason FROM quarantine").iloc[0].tolist()
    assert row == ["p.csv", 7, "startDate", "bad_date: 2021-13-45"]


def test_embedding_cache_round_trip_in_request_order(tmp_path: Path) -> None:
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4)
    with Store(tmp_path / "s.duckdb") as store:
        store.put_embeddings("m@1", ["a", "b", "c"], vectors)
        assert store.missing_embeddings("m@1", ["c", "d", "a", "d"]) == ["d"]
        assert store.missing_embeddings("m@2", ["a"]) == ["a"], "another model must not hit this cache"
        np.testing.assert_array_equal(store.get_embeddings("m@1", ["c", "a"]), vectors[[2, 0]])
        with pytest.raises(StoreError, match="missing"):
            store.get_embeddings("m@1", ["a", "zzz"])


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        bad = pd.DataFrame({"run_id": ["r"], "topic_id": ["not an int"], "label": ["x"], "top_terms": ["x"],
                            "size": [1]})
        with pytest.raises(duckdb.Error):
            store.replace_run_table("topics", "r", bad.drop(columns="run_id"))
        assert store.count("topics") == 0


def test_replace_run_table_rewrites_only_that_run(tmp_path: Path) -> None:
    frame = pd.DataFrame({"topic_id": [0, 1], "label": ["a", "b"], "top_terms": ["a", "b"], "size": [3, 4]})
    with Store(tmp_path / "s.duckdb") as store:
        store.replace_run_table("topics", "r1", frame)
        store.replace_run_table("topics", "r2", frame)
        store.replace_run_table("topics", "r1", frame.head(1))
        counts = store.query("SELECT run_id, count(*) n FROM topics GROUP BY run_id ORDER BY run_id")
        assert counts["n"].tolist() == [1, 2]
        with pytest.raises(StoreError):
            store.replace_run_table("documents", "r1", frame)


def test_a_version_1_store_is_migrated_without_losing_rows(tmp_path: Path) -> None:
    from s3text.store import MIGRATIONS

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    con.execute(MIGRATIONS[1])
    con.execute("INSERT INTO schema_version VALUES (1)")
    con.execute("INSERT INTO region_topics VALUES ('r1', 'ITC4', 3, 5, 2, 1.5, true, 0.4)")
    con.execute("INSERT INTO topics VALUES ('r1', 3, 'solar, roof', 'solar, roof', 5)")
    con.close()
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        row = store.query("SELECT region, rca, density, density_ext FROM region_topics").iloc[0].tolist()
        assert row[:3] == ["ITC4", 1.5, 0.4] and pd.isna(row[3])
        assert store.query("SELECT label, lineage_id FROM topics").iloc[0].tolist() == ["solar, roof", None]
        assert store.count("topic_lineage") == 0
        # Version 6: the shrunk RCA (null for cells computed before it) and the below-minimum table.
        shrunk = store.query("SELECT rca_shrunk, rca_lower FROM region_topics").iloc[0].tolist()
        assert all(pd.isna(v) for v in shrunk) and store.count("candidates_below_minimum") == 0


def test_a_version_5_store_gains_the_topic_reference_and_stability_tables(tmp_path: Path) -> None:
    from s3text.store import MIGRATIONS

    path = tmp_path / "v5.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version in range(1, 6):
        con.execute(MIGRATIONS[version])
        con.execute("INSERT INTO schema_version VALUES (?)", [version])
    con.execute("INSERT INTO doc_topics VALUES ('r1', 'd1', 3, 0.7)")
    con.close()
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        row = store.query("SELECT doc_id, topic_id, probability, content_hash, assigned_by FROM doc_topics")
        assert row.iloc[0].tolist()[:3] == ["d1", 3, 0.7] and row[["content_hash", "assigned_by"]].isna().all(axis=None)
        for table in ("topic_reference", "topic_runs", "run_stability"):
            assert store.count(table) == 0
        store.replace_run_table("run_stability", "r2", pd.DataFrame([{
            "previous_run": "r1", "earlier_documents": 1, "kept_documents": 1, "missing_documents": 0,
            "kept_share": 1.0, "candidates": 0, "previous_candidates": 0, "shared_candidates": 0,
            "candidate_jaccard": None}]))
        store.replace_run_table("topic_runs", "r2", pd.DataFrame([{
            "fit_run_id": "r1", "fingerprint": "fp", "mode": "assign", "reasons": "[]", "drift": None}]))
        assert store.query("SELECT kept_share FROM run_stability WHERE run_id = 'r2'")["kept_share"].tolist() == [1.0]


def test_embeddings_import_from_another_store(tmp_path: Path) -> None:
    vectors = np.eye(2, 3, dtype=np.float32)
    with Store(tmp_path / "a.duckdb") as a:
        a.put_embeddings("m", ["h1", "h2"], vectors)
    with Store(tmp_path / "b.duckdb") as b:
        b.put_embeddings("m", ["h2"], vectors[1:])
        assert b.import_embeddings(tmp_path / "a.duckdb") == 1
        np.testing.assert_array_equal(b.get_embeddings("m", ["h1", "h2"]), vectors)
