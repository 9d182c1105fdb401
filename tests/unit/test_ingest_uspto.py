"""USPTO grant XML: concatenated documents, safe parsing, extraction, quarantine with the start line.

Fixtures (tests/fixtures/patents/uspto, see its README): no real weekly file is bundled, so the
documents follow the us-patent-grant v4.5 and v4.1 element structure with real numbers, dates,
titles and abstracts (PatentsView API slice in ../shared/data) and illustrative parties and classes.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from s3text.errors import InputError
from s3text.ingest.uspto import iter_uspto_xml
from s3text.records import Document, FileOpened, IngestItem, IngestResult, QuarantineRecord

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "patents"
XML = FIX / "uspto"
REAL = FIX / "patentsview"  # the same real patents' abstracts, as PatentsView TSV


def _items(path: Path, **kwargs: object) -> list[IngestItem]:
    return list(iter_uspto_xml(path, source="uspto", **kwargs))  # type: ignore[arg-type]


def _docs(items: list[IngestItem]) -> dict[str, Document]:
    return {d.native_id: d for d in IngestResult.collect(items).documents}


def _starts(path: Path) -> list[int]:
    lines = path.read_bytes().split(b"\n")
    return [n for n, line in enumerate(lines, start=1) if line.startswith(b"<?xml")]


def test_sample_grants() -> None:
    items = _items(XML / "ipg_sample.xml")
    assert items[0] == FileOpened(str(XML / "ipg_sample.xml"), "utf-8")
    docs = _docs(items)
    assert list(docs) == ["9646230", "9686126", "9460383", "7013245"]  # zero-padding dropped, as PatentsView
    assert [d.provenance_row for d in docs.values()] == _starts(XML / "ipg_sample.xml")
    doc = docs["9686126"]
    assert (doc.title, doc.date.isoformat()) == ("Automotive neural network", "2017-06-20")
    assert doc.text.startswith("Network node modules within a vehicle are arranged to form a reconfigurable")
    assert doc.extra == {"office": "US", "date_field": "publication_date", "doc_number": "09686126", "kind": "B2",
                         "patent_type": "utility", "application_date": "20150312"}
    assert doc.source == "uspto" and doc.source_kind == "patent"
    assert not IngestResult.collect(items).quarantine


def test_abstracts_match_the_real_text() -> None:
    with (REAL / "g_patent_abstract.tsv").open(encoding="utf-8", newline="") as handle:
        real = {r["patent_id"]: " ".join(r["patent_abstract"].split()) for r in csv.DictReader(handle, delimiter="\t")}
    docs = _docs(_items(XML / "ipg_sample.xml"))
    shared = docs.keys() & real.keys()
    assert shared == {"9646230", "9686126", "9460383"}  # 7013245 (v4.1) is not in the PatentsView fixture
    for pid in shared:
        assert docs[pid].text == real[pid]


def test_cpc_and_ipc_classes() -> None:
    docs = _docs(_items(XML / "ipg_sample.xml"))
    assert docs["9646230"].classes == (("cpc", "G06V30/148"), ("cpc", "G06N3/08"), ("ipc", "G06V30/148"))
    assert docs["7013245"].classes == (("ipc", "G01V3/08"),)  # a 2006 grant: IPC only


def test_assignees_and_inventors() -> None:
    docs = _docs(_items(XML / "ipg_sample.xml"))
    assert [(a.name, a.role, a.country, a.city) for a in docs["9460383"].actors] == [
        ("International Business Machines Corporation", "assignee", "US", "Armonk"),
        ("Commissariat à l'énergie atomique et aux énergies alternatives", "assignee", "FR", "Paris"),
    ]
    assert [(a.name, a.role) for a in _docs(_items(XML / "ipg_sample.xml", inventors="always"))["9686126"].actors] == [
        ("Bayerische Motoren Werke Aktiengesellschaft", "assignee"), ("Thomas Huber", "inventor")]
    # v4.1: the inventor is an <applicant app-type="applicant-inventor">
    old = _docs(_items(XML / "ipg_sample.xml", inventors="always"))["7013245"]
    assert ("Ronald Kessler", "inventor", "US", "Annapolis") in [
        (a.name, a.role, a.country, a.city) for a in old.actors]


def test_zip_reads_like_plain() -> None:
    plain, zipped = _items(XML / "ipg_sample.xml"), _items(XML / "ipg_sample.zip")
    def key(items: list[IngestItem]) -> list[tuple[object, ...]]:
        return [(d.native_id, d.text, d.actors, d.classes, d.provenance_row)
                for d in IngestResult.collect(items).documents]

    assert key(plain) == key(zipped)
    assert zipped[0] == FileOpened(str(XML / "ipg_sample.zip"), "utf-8")


def test_malformed_and_malicious_documents() -> None:
    path = XML / "ipg_malformed.xml"
    started = time.perf_counter()
    items = _items(path)
    assert time.perf_counter() - started < 5  # the entity bomb was not expanded
    starts = _starts(path)
    assert len(starts) == 7
    q = [i for i in items if isinstance(i, QuarantineRecord)]
    assert [(r.row, r.field, r.reason.split(":")[0]) for r in q] == [
        (starts[1], "*", "entity_declaration"),  # billion laughs
        (starts[2], "*", "entity_declaration"),  # SYSTEM "file:///etc/passwd"
        (starts[3], "*", "xml_error"),  # truncated before </us-patent-grant>
        (starts[4], "doc-number", "missing_id"),
        (starts[5], "date", "bad_date"),  # 20181332
        (starts[6], "*", "bad_encoding"),  # declared UTF-8, written in Latin-1
    ]
    assert all(r.file == str(path) and r.source == "uspto" and r.raw.startswith("<?xml") for r in q)
    assert "'lol'" in q[0].reason and "'xxe'" in q[1].reason
    bad_line = path.read_bytes().split(b"\n").index(b'<invention-title id="d2e43">R\xe9seau neuronal</invention-title>')
    assert f"at line {bad_line + 1}" in q[5].reason  # the line of the first bad byte, in the message
    # the documents around the bad ones still load; nothing of /etc/passwd got anywhere
    assert list(_docs(items)) == ["9095303"]
    assert not any("root:" in (getattr(i, "text", "") + getattr(i, "raw", "")) for i in items)


def test_inventor_fallback_gives_a_location() -> None:
    doc = _docs(_items(XML / "ipg_malformed.xml"))["9095303"]  # no assignee
    assert [(a.name, a.role, a.country, a.city) for a in doc.actors] == [("Maja Novak", "inventor", "SI", "Ljubljana")]
    assert not _docs(_items(XML / "ipg_malformed.xml", inventors="never"))["9095303"].actors


def test_abstract_requirement(tmp_path: Path) -> None:
    sample = (XML / "ipg_sample.xml").read_text(encoding="utf-8")
    first = sample[: sample.index("<?xml", 10)]
    design = first.replace(first[first.index("<abstract"): first.index("</abstract>") + len("</abstract>")], "")
    path = tmp_path / "design.xml"
    path.write_text(design, encoding="utf-8")
    (record,) = [i for i in _items(path) if isinstance(i, QuarantineRecord)]
    assert (record.row, record.field, record.reason.split(":")[0]) == (1, "abstract", "missing_abstract")
    assert _docs(_items(path, require_abstract=False))["9646230"].text == ""


def test_stray_text_and_empty_file(tmp_path: Path) -> None:
    stray = tmp_path / "stray.xml"
    stray.write_bytes(b"garbage\n" + (XML / "ipg_sample.xml").read_bytes())
    items = _items(stray)
    assert [(q.row, q.reason.split(":")[0]) for q in items if isinstance(q, QuarantineRecord)] == [
        (1, "not_a_document")]
    assert len(_docs(items)) == 4
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    assert _items(empty) == [FileOpened(str(empty), "utf-8")]


@pytest.mark.parametrize("name", ["missing.xml", "missing.zip"])
def test_missing_file_names_it(name: str) -> None:
    with pytest.raises(InputError) as err:
        _items(XML / name)
    assert name in str(err.value)
