"""The ingest step over configured production formats: batches into a real DuckDB file, per-file
summaries, classes and document regions stored, and a second ingest adding nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from s3text import steps
from s3text.config import PipelineConfig, SourceConfig, TableMapping
from s3text.errors import ConfigError
from s3text.ingest import read_source
from s3text.store import Store

FIX = Path(__file__).resolve().parent.parent / "fixtures"
PV = FIX / "patents" / "patentsview"
CORDIS = FIX / "cordis" / "csv"


def _sources() -> tuple[SourceConfig, ...]:
    return (
        SourceConfig(
            name="pv_bulk", format="patentsview_bulk", path=PV / "g_patent.tsv",
            tables={"abstract": PV / "g_patent_abstract.tsv", "cpc": PV / "g_cpc_current.tsv",
                    "assignee": PV / "g_assignee_disambiguated.tsv",
                    "location": PV / "g_location_disambiguated.tsv",
                    "inventor": PV / "g_inventor_disambiguated.tsv"},
        ),
        SourceConfig(name="uspto", format="uspto_xml", path=FIX / "patents" / "uspto" / "ipg_sample.xml"),
        SourceConfig(name="cordis", format="cordis_official", path=CORDIS / "project.csv",
                     companion=CORDIS / "organization.csv", tables={"euroscivoc": CORDIS / "euroSciVoc.csv"}),
        SourceConfig(
            name="interreg", format="table", path=FIX / "table" / "interreg_like.csv",
            mapping=TableMapping(id="Project code", title="Name", text="Summary", date="Start",
                                 actors="Partners", country="Country", city="City", region="NUTS",
                                 url="Link", source_kind="project"),
            nuts_version="2021",
        ),
    )


def _config(tmp_path: Path) -> PipelineConfig:
    return PipelineConfig(store=tmp_path / "s.duckdb", out_dir=tmp_path / "out", sources=_sources())


def test_ingest_streams_every_format_and_summarises_each_file(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    expected = {s.name: read_source(s) for s in cfg.sources}
    summary = steps.ingest(cfg, "run-1")
    for name, result in expected.items():
        got = summary["sources"][name]
        assert got["new"] == len(result.documents) > 0
        assert got["quarantined"] == len(result.quarantine)
    with Store(cfg.store) as store:
        files = store.query("SELECT * FROM ingest_files WHERE run_id = 'run-1'")
        cpc = store.query("SELECT count(*) AS n FROM document_classes WHERE scheme = 'cpc'")["n"].iloc[0]
        fields = store.query("SELECT count(*) AS n FROM document_classes WHERE scheme = 'euroscivoc'")["n"].iloc[0]
        funded = store.query("SELECT count(*) AS n FROM document_actors WHERE ec_contribution > 0")["n"].iloc[0]
        assignees = store.query("SELECT count(*) AS n FROM actors WHERE id_scheme = 'patentsview_assignee'")
        stored = store.count("documents")
    assert stored == sum(len(r.documents) for r in expected.values())
    assert cpc > 0 and fields > 0 and funded > 0 and assignees["n"].iloc[0] > 0
    main = files.set_index("file").loc[str(PV / "g_patent.tsv")]
    assert main["encoding"] == "utf-8" and main["stored"] == len(expected["pv_bulk"].documents)
    assert (files["read"] == files["stored"] + files["duplicates"] + files["quarantined"]).all()
    assert int(files["duplicates"].sum()) == 0


def test_a_second_ingest_stores_nothing_and_counts_duplicates(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    first = steps.ingest(cfg, "run-1")
    second = steps.ingest(cfg, "run-2")
    assert second["documents_new"] == 0 and second["quarantined_new"] == 0
    for name, got in second["sources"].items():
        assert got["duplicates"] == first["sources"][name]["new"] and got["read"] == first["sources"][name]["read"]
    with Store(cfg.store) as store:
        files = store.query("SELECT * FROM ingest_files WHERE run_id = 'run-2'")
    assert (files["read"] == files["stored"] + files["duplicates"] + files["quarantined"]).all()
    with Store(cfg.store) as store:
        assert store.count("documents") == first["documents_total"]


def test_unknown_table_roles_are_a_config_error(tmp_path: Path) -> None:
    bad = SourceConfig(name="pv", format="patentsview_bulk", path=PV / "g_patent.tsv", tables={"claims": PV / "x"})
    with pytest.raises(ConfigError, match="claims"):
        read_source(bad)


def test_normalise_links_a_near_copy_and_keeps_both(tmp_path: Path) -> None:
    import csv

    with (Path(__file__).resolve().parents[2] / "data" / "cordis_fp7" / "projects.csv").open(encoding="utf-8") as f:
        rows = [r for _, r in zip(range(4), csv.DictReader(f), strict=False)]
    copy = dict(rows[0], id="copy-1", objective=rows[0]["objective"].replace(" the ", " this ", 2))
    table = tmp_path / "projects.csv"
    with table.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "title", "objective", "startDate"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows([*rows, copy])
    cfg = PipelineConfig(store=tmp_path / "s.duckdb", out_dir=tmp_path / "out", sources=(SourceConfig(
        name="t", format="table", path=table,
        mapping=TableMapping(id="id", title="title", text="objective", date="startDate")),))
    steps.ingest(cfg, "r")
    summary = steps.normalise(cfg, "r")
    with Store(cfg.store) as store:
        pairs = store.query("SELECT n.*, a.native_id AS a, b.native_id AS b FROM near_duplicates n "
                            "JOIN documents a ON a.doc_id = n.doc_id JOIN documents b ON b.doc_id = n.other_id")
        kept = store.query("SELECT count(*) AS n FROM normalised WHERE status = 'ok'")["n"].iloc[0]
    assert summary["near_duplicate_pairs"] == 1 and kept == 5
    assert {pairs["a"].iloc[0], pairs["b"].iloc[0]} == {rows[0]["id"], "copy-1"}
    assert 0.8 <= pairs["similarity"].iloc[0] < 1.0
