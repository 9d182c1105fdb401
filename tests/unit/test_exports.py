"""``s3text export`` on a real run: every format round-trips, carries the schema version, is safe to
open in a spreadsheet, shows the analysts' decisions, and is written all or nothing.

The store is the session's ``small_run_store`` (tests/conftest.py): every stage, real embedding model,
on the small end-to-end corpus (tests/e2e/config_small.yaml: real CORDIS FP7 records plus malformed
rows), built once and shared with the HTML report and web tests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from s3text import exports
from s3text.candidate_record import export_columns
from s3text.errors import StoreError
from s3text.exports import COLUMNS, SCHEMA_VERSION, export_run
from s3text.ingest.patents import iter_patentsview_csv
from s3text.ingest.uspto import iter_uspto_xml
from s3text.records import Document, IngestResult
from s3text.review import decide
from s3text.store import Store
from s3text.web.queries import evidence_documents

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "tests" / "e2e" / "config_small.yaml"
FORMULA_TITLE = '=HYPERLINK("http://x","y")'
FORMULA_NOTE = "@SUM(A1) fits the S3 priority"


def copy_store(factory: pytest.TempPathFactory, built: Path, name: str) -> Path:
    path = factory.mktemp(name) / "s3text.duckdb"
    shutil.copy(built, path)
    return path


def top_candidate(store: Store) -> dict[str, Any]:
    rows = store.query("SELECT record FROM candidates ORDER BY score DESC, candidate_key LIMIT 1")
    return dict(json.loads(rows["record"][0]))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, small_run_store: tuple[Path, str]) -> dict[str, Any]:
    """A reviewed store with hostile text, exported once in every format."""
    path = copy_store(tmp_path_factory, small_run_store[0], "exports")
    with Store(path) as store:
        top = top_candidate(store)
        run_id = store.latest_run()
        decide(store, candidate_key=top["candidate_key"], status="accepted", reviewer="ana", note=FORMULA_NOTE,
               record=top, run_id=run_id)
        first, second = top["evidence"][0]["doc_id"], top["evidence"][1]["doc_id"]
        store.con.execute("UPDATE documents SET title = ? WHERE doc_id = ?", [FORMULA_TITLE, first])
        store.con.execute("UPDATE documents SET url = NULL WHERE doc_id = ?", [second])
        native = store.query("SELECT native_id FROM documents WHERE doc_id = ?", [second])["native_id"][0]
        candidates = store.query("SELECT candidate_key, score FROM candidates WHERE run_id = ?", [run_id])
        region_topics = store.query("SELECT * EXCLUDE (run_id) FROM region_topics WHERE run_id = ?", [run_id])
    out = tmp_path_factory.mktemp("export_out")
    files = export_run(path, out, formats=["csv", "json", "parquet", "xlsx"])
    return {"store": path, "out": out, "files": files, "top": top, "run_id": run_id, "hostile_doc": first,
            "cordis_doc": second, "cordis_native": native, "candidates": candidates, "region_topics": region_topics}


def _csv(world: dict[str, Any], table: str) -> pd.DataFrame:
    return pd.read_csv(world["out"] / f"{table}.csv", keep_default_na=False, na_values=[""],
                       dtype={"schema_version": str, "note": str, "title": str})


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


def test_every_file_carries_the_schema_version(world: dict[str, Any]) -> None:
    out, version = world["out"], SCHEMA_VERSION
    names = sorted(p.name for p in world["files"])
    assert names == sorted([*(f"{t}.{f}" for t in COLUMNS for f in ("csv", "json", "parquet")),
                            "s3text_export.xlsx", "export.json"])
    for table in COLUMNS:
        frame = _csv(world, table)
        assert list(frame.columns) == ["schema_version", "run_id", *COLUMNS[table]]
        assert set(frame["schema_version"]) <= {str(version)} and set(frame["run_id"]) <= {world["run_id"]}
        payload = json.loads((out / f"{table}.json").read_text())
        assert (payload["schema_version"], payload["table"], payload["run_id"]) == (version, table, world["run_id"])
        assert payload["generated_at"]
        meta = pq.read_schema(out / f"{table}.parquet").metadata
        assert meta[b"schema_version"] == str(version).encode() and meta[b"run_id"] == world["run_id"].encode()
    book = load_workbook(out / "s3text_export.xlsx", read_only=True)
    assert book.sheetnames == [*COLUMNS, "meta"]
    meta_rows = dict(book["meta"].iter_rows(values_only=True))
    assert meta_rows["schema_version"] == version and meta_rows["run_id"] == world["run_id"]
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["schema_version"] == version and manifest["rows"]["candidates"] == len(world["candidates"])


def test_csv_round_trips_to_the_store(world: dict[str, Any]) -> None:
    candidates = _csv(world, "candidates")
    assert candidates["score"].tolist() == sorted(world["candidates"]["score"], reverse=True)
    assert dict(zip(candidates["candidate_key"], candidates["score"], strict=True)) == dict(
        zip(world["candidates"]["candidate_key"], world["candidates"]["score"], strict=True))
    stored = _sorted(world["region_topics"], ["region", "topic_id"])
    back = _sorted(_csv(world, "region_topics"), ["region", "topic_id"])
    pd.testing.assert_frame_equal(back[stored.columns], stored, check_dtype=False)
    topics = _csv(world, "topics")
    for row in topics.itertuples():
        assert sum(json.loads(row.counts_per_year).values()) == row.size
    assert (world["out"] / "candidates.csv").read_bytes().count(b"\r\n") >= len(candidates) + 1  # RFC 4180


def test_json_round_trips_to_the_store(world: dict[str, Any]) -> None:
    rows = json.loads((world["out"] / "candidates.json").read_text())["rows"]
    with Store(world["store"], read_only=True) as store:
        records = {json.loads(r)["candidate_key"]: json.loads(r) for r in store.query(
            "SELECT record FROM candidates")["record"]}
    assert len(rows) == len(records)
    for row in rows:
        record = records[row["candidate_key"]]
        assert list(row) == list(COLUMNS["candidates"])
        assert (row["score"], row["kind"], row["region"], row["explanation"]) == (
            record["score"], record["kind"], record["region"], record["explanation"])
        assert row["evidence_ids"] == [e["doc_id"] for e in record["evidence"]]
        assert row["related_topics"] == record["related_topics"]
        assert (row["support_documents"], row["support_organisations"]) == (
            record["support_documents"], record["support_organisations"])
    evidence = json.loads((world["out"] / "evidence.json").read_text())["rows"]
    assert len(evidence) == sum(len(r["evidence"]) for r in records.values())


def test_parquet_round_trips_with_types(world: dict[str, Any]) -> None:
    region_topics = pq.read_table(world["out"] / "region_topics.parquet").to_pandas()
    stored = _sorted(world["region_topics"], ["region", "topic_id"])
    pd.testing.assert_frame_equal(_sorted(region_topics, ["region", "topic_id"])[stored.columns], stored,
                                  check_dtype=False)
    candidates = pq.read_table(world["out"] / "candidates.parquet")
    assert str(candidates.schema.field("evidence_ids").type) == "list<element: string>"
    assert str(candidates.schema.field("changed_since_review").type) == "bool"
    frame = candidates.to_pandas()
    assert dict(zip(frame["candidate_key"], frame["score"], strict=True)) == dict(
        zip(world["candidates"]["candidate_key"], world["candidates"]["score"], strict=True))


def test_xlsx_round_trips_and_holds_no_formula(world: dict[str, Any]) -> None:
    book = load_workbook(world["out"] / "s3text_export.xlsx")
    for table, columns in COLUMNS.items():
        rows = list(book[table].iter_rows(values_only=True))
        assert list(rows[0]) == list(columns)
        assert not [c.coordinate for row in book[table].iter_rows() for c in row if c.data_type == "f"]
    sheet = list(book["candidates"].iter_rows(values_only=True))
    header = sheet[0]
    got = {r[header.index("candidate_key")]: r[header.index("score")] for r in sheet[1:]}
    # XLSX keeps 16 significant digits (what Excel can show); the other formats are exact.
    assert got == pytest.approx(dict(zip(world["candidates"]["candidate_key"], world["candidates"]["score"],
                                         strict=True)), rel=1e-15)
    column = list(COLUMNS["evidence"]).index("title")
    titles = [r[column] for r in book["evidence"].iter_rows(min_row=2, values_only=True)]
    assert "'" + FORMULA_TITLE in titles and FORMULA_TITLE not in titles


def test_formulas_are_neutralised_in_csv_but_kept_verbatim_in_json(world: dict[str, Any]) -> None:
    evidence = _csv(world, "evidence")
    titles = evidence.loc[evidence["doc_id"] == world["hostile_doc"], "title"]
    assert set(titles) == {"'" + FORMULA_TITLE}
    raw = (world["out"] / "evidence.csv").read_text(encoding="utf-8")
    assert ',"=HYPERLINK' not in raw and ",=HYPERLINK" not in raw
    candidates = _csv(world, "candidates").set_index("candidate_key")
    assert candidates.at[world["top"]["candidate_key"], "note"] == "'" + FORMULA_NOTE
    rows = json.loads((world["out"] / "evidence.json").read_text())["rows"]
    assert {r["title"] for r in rows if r["doc_id"] == world["hostile_doc"]} == {FORMULA_TITLE}


def test_review_status_is_exported_after_a_decision(world: dict[str, Any], tmp_path: Path) -> None:
    rows = {r["candidate_key"]: r for r in json.loads((world["out"] / "candidates.json").read_text())["rows"]}
    top = rows[world["top"]["candidate_key"]]
    assert (top["status"], top["reviewer"], top["note"], top["changed_since_review"]) == (
        "accepted", "ana", FORMULA_NOTE, False)
    assert top["decided_at"]
    assert {r["status"] for k, r in rows.items() if k != world["top"]["candidate_key"]} == {"new"}
    only = export_run(world["store"], tmp_path, formats=["json"], statuses=["accepted"])
    accepted = json.loads((tmp_path / "candidates.json").read_text())["rows"]
    assert [r["candidate_key"] for r in accepted] == [world["top"]["candidate_key"]]
    evidence = json.loads((tmp_path / "evidence.json").read_text())["rows"]
    assert {r["candidate_key"] for r in evidence} == {world["top"]["candidate_key"]}
    assert json.loads((tmp_path / "candidates_below_minimum.json").read_text())["rows"] == [], "never reviewed"
    assert json.loads((tmp_path / "export.json").read_text())["statuses"] == ["accepted"]
    assert len(only) == len(COLUMNS) + 1, "one file per table and the export's own export.json"


def test_evidence_links_to_the_original(world: dict[str, Any]) -> None:
    rows = json.loads((world["out"] / "evidence.json").read_text())["rows"]
    derived = [r for r in rows if r["doc_id"] == world["cordis_doc"]]
    assert {(r["url"], r["url_origin"]) for r in derived} == {
        (f"https://cordis.europa.eu/project/id/{world['cordis_native']}", "cordis")}
    assert all(r["date"][:4] == str(r["year"]) for r in rows)
    assert {r["relation"] for r in rows} <= {"topic", "related"}
    assert all((r["related_topic_id"] is None) == (r["relation"] == "topic") for r in rows)


def _real_documents() -> list[Document]:
    """One real document each of PatentsView, USPTO grant XML and a crawled web page."""
    patentsview = IngestResult.collect(iter_patentsview_csv(ROOT / "data/patents/patentsview_nn.csv",
                                                            source="patentsview_nn")).documents[0]
    uspto = IngestResult.collect(iter_uspto_xml(ROOT / "tests/fixtures/patents/uspto/ipg_sample.xml",
                                                source="uspto")).documents[0]
    web = Document(source="web", source_kind="website", native_id="https://www.propellets.at/energie",
                   title="Energie aus Pellets", text="Pellets heizen.", date=patentsview.date,
                   provenance_file="tests/fixtures/web/propellets.at.energie.html", provenance_row=1,
                   url="https://www.propellets.at/energie")
    return [patentsview, uspto, web]


def test_export_and_web_link_evidence_alike(world: dict[str, Any], tmp_path: Path) -> None:
    """CORDIS, PatentsView, USPTO and web documents as one candidate's evidence: the export's
    ``url`` is the web page's ``link`` (one function, s3text.links.original_link)."""
    store_path = tmp_path / "s3text.duckdb"
    shutil.copy(world["store"], store_path)
    extra = _real_documents()
    with Store(store_path) as store:
        store.add_documents(extra, world["run_id"])
        record = top_candidate(store)
        record["evidence"] += [{"doc_id": d.doc_id, "title": d.title, "source": d.source, "year": d.date.year,
                                "relation": "topic"} for d in extra]
        store.con.execute("UPDATE candidates SET record = ? WHERE candidate_key = ?",
                          [json.dumps(record), record["candidate_key"]])
        web = {d["doc_id"]: d["link"] for d in evidence_documents(store, [e["doc_id"] for e in record["evidence"]])}
    export_run(store_path, tmp_path / "out", formats=["json"])
    rows = [r for r in json.loads((tmp_path / "out" / "evidence.json").read_text())["rows"]
            if r["candidate_key"] == record["candidate_key"]]
    exported = {r["doc_id"]: r["url"] for r in rows}
    assert exported == web and len(exported) == len(record["evidence"])
    origins = {r["source"]: r["url_origin"] for r in rows}
    assert origins["patentsview_nn"] == origins["uspto"] == "google_patents" and origins["web"] == "stored"
    assert {origins[s] for s in origins if s.startswith("cordis")} == {"cordis"}
    assert exported[extra[1].doc_id] == f"https://patents.google.com/patent/US{extra[1].native_id}"


def test_candidate_columns_follow_the_record() -> None:
    assert COLUMNS["candidates"] == export_columns()
    assert {"support_documents": "int", "support_organisations": "int", "rca_shrunk": "float",
            "related_topics": "list_int", "below_minimum": "list_str"}.items() <= COLUMNS["candidates"].items()
    assert "status" not in COLUMNS["candidates_below_minimum"]


def test_an_interrupted_export_leaves_the_previous_one_intact(world: dict[str, Any], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "s3text.duckdb"
    shutil.copy(world["store"], store)
    out = tmp_path / "out"
    export_run(store, out, formats=["csv", "parquet"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with Store(store) as s:  # the next export would differ: one more decision
        record = dict(json.loads(s.query("SELECT record FROM candidates ORDER BY score LIMIT 1")["record"][0]))
        decide(s, candidate_key=record["candidate_key"], status="rejected", reviewer="ben", record=record)

    def dies_mid_write(path: Path, table: str, rows: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        path.write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setitem(exports.WRITERS, "parquet", dies_mid_write)
    with pytest.raises(OSError, match="disk full"):
        export_run(store, out, formats=["csv", "parquet"])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before, "old files intact, no temporary left"
    monkeypatch.undo()
    export_run(store, out, formats=["csv", "parquet"])
    assert "rejected" in _csv({"out": out}, "candidates")["status"].tolist()


def test_bad_arguments_are_refused(world: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="formats"):
        export_run(world["store"], tmp_path, formats=["pdf"])
    with pytest.raises(ValueError, match="statuses"):
        export_run(world["store"], tmp_path, formats=["csv"], statuses=["maybe"])
    with pytest.raises(StoreError, match="no run"):
        export_run(world["store"], tmp_path, formats=["csv"], run_id="nope")
    assert not list(tmp_path.iterdir())


def test_cli_export(world: dict[str, Any], tmp_path: Path) -> None:
    from pipeline.cli import app

    args = ["export", "--out", str(tmp_path), "--format", "csv", "--format", "xlsx", "--config", str(CONFIG),
            "--set", f"store={world['store']}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "candidates.csv").exists() and (tmp_path / "s3text_export.xlsx").exists()
    assert CliRunner().invoke(app, [*args[:3], "--format", "pdf"]).exit_code == 2


def test_every_column_is_documented() -> None:
    """docs/EXPORTS.md has a row for each column of each table, under the table's heading."""
    text = (ROOT / "docs" / "EXPORTS.md").read_text(encoding="utf-8")
    for table, columns in COLUMNS.items():
        section = text.split(f"### {table}\n", 1)[1].split("\n### ", 1)[0]
        if table == "candidates_below_minimum":
            continue  # documented as the candidates' columns less the review state
        named = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
        missing = [c for c in columns if not any(f"`{c}`" in cell for cell in named)]
        assert not missing, (table, missing)
