"""Patent readers on the bundled real data and on the malformed fixtures in tests/fixtures/bad."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
import pytest

from s3text.config import SourceConfig
from s3text.errors import ConfigError, InputError
from s3text.ingest import read_google_patents, read_patentsview_csv, read_source, split_assignees
from s3text.ingest.patents import iter_google_patents, iter_patentsview_csv
from s3text.records import Document, FileOpened, IngestResult, QuarantineRecord

ROOT = Path(__file__).resolve().parents[2]
PATENTS = ROOT / "data" / "patents"
PATENTSVIEW = PATENTS / "patentsview_nn.csv"
GOOGLE = PATENTS / "google"
TOPICS = ("deep-learning", "autonomous-systems")
BAD = ROOT / "tests" / "fixtures" / "bad"


def _lines(path: Path) -> list[str]:
    return [line.rstrip("\r") for line in path.read_text(encoding="utf-8").split("\n")]


def _by_id(result: IngestResult) -> dict[str, Document]:
    return {d.native_id: d for d in result.documents}


def _google(topic: str) -> IngestResult:
    return read_google_patents(
        GOOGLE / f"gp-search-{topic}.csv", GOOGLE / f"{topic}_abstracts.ndjson", source="google_patents"
    )


def _norm(text: str) -> str:
    return " ".join(text.split())


# --- PatentsView -----------------------------------------------------------------------------------


def test_patentsview_bundled_slice() -> None:
    result = read_patentsview_csv(PATENTSVIEW, source="patentsview")
    frame = pd.read_csv(PATENTSVIEW, dtype=str)
    assert len(result.documents) == len(frame) and not result.quarantine
    docs = _by_id(result)
    assert set(docs) == set(frame["patent_number"])
    years = Counter(d.date.year for d in result.documents)
    assert years[2017] > 2 * years[2012]  # the post-2012 growth of the full file survives the sampling
    row = frame.iloc[0]
    doc = docs[row["patent_number"]]
    assert (doc.date.isoformat(), doc.title, doc.text) == (
        row["patent_date"],
        _norm(row["patent_title"]),
        row["patent_abstract"],
    )
    assert doc.source_kind == "patent" and not doc.actors and doc.extra["office"] == "US"


def test_patentsview_rows_point_at_their_lines() -> None:
    result = read_patentsview_csv(PATENTSVIEW, source="patentsview")
    lines = _lines(PATENTSVIEW)
    starts = [d.provenance_row for d in result.documents] + [len(lines)]
    for doc, end in zip(result.documents, starts[1:], strict=False):
        record = "\n".join(lines[doc.provenance_row - 1 : end - 1])
        assert f",{doc.native_id}," in record


def test_patentsview_ids_stable() -> None:
    first = read_patentsview_csv(PATENTSVIEW, source="patentsview")
    second = read_patentsview_csv(str(PATENTSVIEW), source="patentsview")
    assert [(d.doc_id, d.content_hash) for d in first.documents] == [
        (d.doc_id, d.content_hash) for d in second.documents
    ]


def test_patentsview_bad_rows() -> None:
    path = BAD / "patentsview_bad.csv"
    result = read_patentsview_csv(path, source="b")
    assert {q.row: (q.field, q.reason.split(":")[0]) for q in result.quarantine} == {
        4: ("patent_date", "bad_date"),
        5: ("patent_abstract", "missing_abstract"),
    }
    assert [d.provenance_row for d in result.documents] == [2, 3, 6]
    assert all(q.file == str(path) for q in result.quarantine)


def test_patentsview_streams_with_file_opened_first() -> None:
    stream = iter_patentsview_csv(PATENTSVIEW, source="patentsview")
    assert next(stream) == FileOpened(str(PATENTSVIEW), "utf-8")
    first = next(stream)
    assert isinstance(first, Document) and first.provenance_row == 2
    stream.close()
    items = list(iter_patentsview_csv(BAD / "patentsview_bad.csv", source="b"))
    assert [type(i).__name__ for i in items] == ["FileOpened", "Document", "Document", "QuarantineRecord",
                                                 "QuarantineRecord", "Document"]  # in file order


def test_patentsview_encoding_is_checked(tmp_path: Path) -> None:
    latin = tmp_path / "pv_latin1.csv"
    latin.write_bytes("patent_abstract,patent_date,patent_number,patent_title\n"
                      "Ein Verfahren für Zürich,2017-01-03,9999999,Überwachung\n".encode("cp1252"))
    with pytest.raises(InputError) as err:
        list(iter_patentsview_csv(latin, source="b", encoding="utf-8"))
    assert (err.value.file, err.value.row) == (str(latin), 2)
    (opened, doc) = list(iter_patentsview_csv(latin, source="b", encoding="cp1252"))
    assert opened == FileOpened(str(latin), "cp1252")
    assert isinstance(doc, Document) and (doc.title, doc.text) == ("Überwachung", "Ein Verfahren für Zürich")


# --- Google Patents --------------------------------------------------------------------------------


@pytest.mark.parametrize("topic", TOPICS)
def test_google_bundled_topic(topic: str) -> None:
    search = GOOGLE / f"gp-search-{topic}.csv"
    result = _google(topic)
    frame = pd.read_csv(search, skiprows=1, dtype=str, keep_default_na=False)
    abstracts: dict[str, set[str | None]] = defaultdict(set)
    with (GOOGLE / f"{topic}_abstracts.ndjson").open(encoding="utf-8") as fh:
        for line in fh:
            abstract, title = json.loads(line)
            abstracts[_norm(title)].add(abstract)
    # Independent expectation: a row loads when its title has exactly one distinct, non-null abstract.
    usable = [t for t in frame["title"] if len(abstracts[_norm(t)]) == 1 and None not in abstracts[_norm(t)]]
    assert len(result.documents) == len(usable)
    assert len(result.documents) + len(result.quarantine) == len(frame)
    reasons = Counter(q.reason.split(":")[0] for q in result.quarantine)
    assert set(reasons) <= {"missing_abstract", "ambiguous_abstract"}
    lines = _lines(search)
    for doc in result.documents:
        assert lines[doc.provenance_row - 1].startswith(doc.native_id + ",")
        assert abstracts[_norm(doc.title)] == {doc.text}
        assert doc.extra["office"] == doc.native_id.split("-")[0]
        assert doc.extra["date_field"] == "priority date"
    again = _google(topic)
    assert [d.doc_id for d in again.documents] == [d.doc_id for d in result.documents]


def test_google_actors_and_dates() -> None:
    docs = _by_id(_google("deep-learning"))
    doc = docs["US-2015112182-A1"]
    assert doc.date.isoformat() == "2013-10-17"
    assert [(a.name, a.kind, a.role) for a in doc.actors] == [
        ("Siemens Aktiengesellschaft", "assignee", "assignee")
    ]
    assert doc.url == "https://patents.google.com/patent/US20150112182A1/en"
    assert "Puneet Sharma" in doc.extra["inventors"]


def test_google_fixture_rows() -> None:
    search = BAD / "gp-search-small.csv"
    result = read_google_patents(search, BAD / "small_abstracts.ndjson", source="b")
    assert {q.row: (q.field, q.reason.split(":")[0]) for q in result.quarantine} == {
        7: ("abstract", "ambiguous_abstract"),
        8: ("abstract", "ambiguous_abstract"),
        9: ("abstract", "missing_abstract"),
    }
    docs = _by_id(result)
    assert [d.provenance_row for d in result.documents] == [3, 4, 5, 6]
    fallback = docs["US-10089576-B2"]
    assert (fallback.date.isoformat(), fallback.extra["date_field"]) == ("2015-07-28", "filing/creation date")
    assert [a.name for a in fallback.actors] == ["Microsoft Technology Licensing, Llc"]
    # The ndjson is in reverse order: the abstract must follow the title, not the line number.
    assert docs["US-8527276-B1"].text.startswith("A method and system for is disclosed for speech synthesis")


def test_google_streams_both_files_opened_first() -> None:
    search, ndjson = BAD / "gp-search-small.csv", BAD / "small_abstracts.ndjson"
    items = list(iter_google_patents(search, ndjson, source="b"))
    assert items[:2] == [FileOpened(str(search), "utf-8"), FileOpened(str(ndjson), "utf-8")]
    assert not any(isinstance(i, FileOpened) for i in items[2:])
    collected = IngestResult.collect(items)
    assert (len(collected.documents), len(collected.quarantine)) == (4, 3)
    assert all(isinstance(i, Document | QuarantineRecord) for i in items[2:])


def test_google_misaligned_ndjson_names_the_file() -> None:
    ndjson = BAD / "small_misaligned_abstracts.ndjson"
    with pytest.raises(InputError) as err:
        read_google_patents(BAD / "gp-search-small.csv", ndjson, source="b")
    assert err.value.file == str(ndjson) and "small_misaligned_abstracts.ndjson" in str(err.value)


def test_google_ndjson_of_another_search_is_rejected(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.ndjson"
    other = (GOOGLE / "autonomous-systems_abstracts.ndjson").read_text(encoding="utf-8").split("\n")
    foreign.write_text("\n".join(other[:7]) + "\n", encoding="utf-8")  # right line count, wrong titles
    with pytest.raises(InputError) as err:
        read_google_patents(BAD / "gp-search-small.csv", foreign, source="b")
    assert err.value.file == str(foreign)


def test_google_bad_ndjson_line_is_quarantined(tmp_path: Path) -> None:
    lines = (BAD / "small_abstracts.ndjson").read_text(encoding="utf-8").split("\n")
    broken = tmp_path / "broken.ndjson"
    broken.write_text("\n".join(["[not json", *lines[1:]]), encoding="utf-8")
    result = read_google_patents(BAD / "gp-search-small.csv", broken, source="b")
    by_file = {(Path(q.file).name, q.row): q.reason.split(":")[0] for q in result.quarantine}
    assert by_file[("broken.ndjson", 1)] == "bad_json"
    # line 1 held CN-103778414-A's title, so that CSV row (line 9) no longer finds its abstract
    assert by_file[("gp-search-small.csv", 9)] == "unmatched_title"


def test_missing_google_file() -> None:
    with pytest.raises(InputError) as err:
        read_google_patents(BAD / "gp-search-none.csv", BAD / "small_abstracts.ndjson", source="b")
    assert "gp-search-none.csv" in str(err.value)


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        ("Siemens Aktiengesellschaft", ["Siemens Aktiengesellschaft"]),
        ("Gs Systems, Inc.", ["Gs Systems, Inc."]),
        ("Aison Co., Ltd.", ["Aison Co., Ltd."]),
        (
            "Iowa State University Research Foundation, Inc., Deere & Company",
            ["Iowa State University Research Foundation, Inc.", "Deere & Company"],
        ),
        ("Robert D. Pedersen, Jerome H. Lemelson", ["Robert D. Pedersen", "Jerome H. Lemelson"]),
        ("Bullock; Darcy M., Garrett, Jr.; James H.", ["Bullock; Darcy M.", "Garrett, Jr.; James H."]),
        (
            "Searete Llc, A Limited Liability Corporation Of The State Of Delaware",
            ["Searete Llc, A Limited Liability Corporation Of The State Of Delaware"],
        ),
        ("AT&amp;T Corp.", ["AT&T Corp."]),
        ("", []),
    ],
)
def test_split_assignees(cell: str, names: list[str]) -> None:
    assert split_assignees(cell) == names


def test_read_source_patents() -> None:
    pv = read_source(SourceConfig(name="patentsview", format="patentsview_csv", path=PATENTSVIEW))
    assert pv.documents and {d.source for d in pv.documents} == {"patentsview"}
    cfg = SourceConfig(
        name="gp_dl",
        format="google_patents",
        path=GOOGLE / "gp-search-deep-learning.csv",
        companion=GOOGLE / "deep-learning_abstracts.ndjson",
        require_abstract=False,
    )
    google = read_source(cfg)
    assert {d.source for d in google.documents} == {"gp_dl"}
    assert any(d.text == "" for d in google.documents)  # null abstracts load when not required
    with pytest.raises(ConfigError):
        read_source(
            SourceConfig(name="gp", format="google_patents", path=GOOGLE / "gp-search-deep-learning.csv")
        )
