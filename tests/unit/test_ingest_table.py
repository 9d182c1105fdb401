"""Generic table reader (format "table") on re-shaped real CORDIS rows (tests/fixtures/table/README.md)."""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import tracemalloc
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from s3text.config import TableMapping
from s3text.errors import ConfigError, InputError
from s3text.ingest.table import is_nuts_code, iter_table, parse_table_date
from s3text.records import Document, FileOpened, IngestItem, IngestResult, QuarantineRecord

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "tests" / "fixtures" / "table"
CSV_FILE, JSONL_FILE = TABLE / "interreg_like.csv", TABLE / "interreg_like.jsonl"
FP7 = ROOT / "data" / "cordis_fp7"
MAPPING = TableMapping(
    id="Project code", title="Name", text="Summary", date="Start", actors="Partners", actors_separator="|",
    country="Country", city="City", region="NUTS", url="Link", source_kind="project",
)  # fmt: skip


def _read(path: Path, mapping: TableMapping = MAPPING, **kw: object) -> IngestResult:
    return IngestResult.collect(iter_table(path, mapping, source="interreg", **kw))  # type: ignore[arg-type]


def _content(doc: Document) -> tuple[object, ...]:
    return (doc.native_id, doc.title, doc.text, doc.date, doc.actors, doc.url, doc.extra, doc.nuts_codes)


def _fixture_rows() -> tuple[list[str], list[list[str]]]:
    with CSV_FILE.open(encoding="utf-8", newline="") as handle:
        header, *rows = csv.reader(handle, delimiter=";")
    return header, rows


def _write_csv(path: Path, header: list[str], rows: Iterable[list[str]], delimiter: str = ";",
               encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _edited(tmp_path: Path, edits: dict[int, dict[str, str]], name: str = "edited.csv") -> Path:
    """The fixture CSV with cells replaced: {0-based row: {column: value}}."""
    header, rows = _fixture_rows()
    for index, cells in edits.items():
        for column, value in cells.items():
            rows[index][header.index(column)] = value
    return _write_csv(tmp_path / name, header, rows)


def _reasons(result: IngestResult) -> dict[int, tuple[str, str]]:
    return {q.row: (q.field, q.reason.split(":")[0]) for q in result.quarantine}


@pytest.fixture(scope="module")
def from_csv() -> IngestResult:
    return _read(CSV_FILE, nuts_version="2021")


@pytest.fixture(scope="module")
def parquet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = [json.loads(line) for line in JSONL_FILE.read_text(encoding="utf-8").splitlines()]
    for record in records:
        record["Start"] = date.fromisoformat(record["Start"])
    path = tmp_path_factory.mktemp("parquet") / "interreg_like.parquet"
    table = pa.Table.from_pylist(records)
    assert table.schema.field("Project code").type == pa.int64() and table.schema.field("Start").type == pa.date32()
    pq.write_table(table, path, row_group_size=4)  # several row groups, so batches cross them
    return path


# --- the three formats --------------------------------------------------------------------------


def test_csv_loads_every_row_as_in_cordis(from_csv: IngestResult) -> None:
    """The documents carry the CORDIS values the fixture was made from, actors in participant order."""
    assert len(from_csv.documents) == 15 and not from_csv.quarantine
    with (FP7 / "projects.csv").open(encoding="utf-8", newline="") as handle:
        projects = {p["id"]: p for p in csv.DictReader(handle)}
    with (FP7 / "participants.csv").open(encoding="utf-8", newline="") as handle:
        participants = list(csv.DictReader(handle))
    fp7 = [d for d in from_csv.documents if d.native_id in projects]
    assert len(fp7) == 10
    for doc in fp7:
        project = projects[doc.native_id]
        assert (doc.title, doc.text) == (project["title"], project["objective"])
        assert doc.date.isoformat() == project["startDate"]
        assert doc.url == project["cordisUrl"] and doc.source_kind == "project" and doc.nuts_codes == ()
        assert doc.extra == {"col:Acronym": project["acronym"]}
        parts = [(p["name"], p["country"], p["city"]) for p in participants if p["projectID"] == doc.native_id]
        assert [(a.name, a.country, a.city) for a in doc.actors] == parts
        assert all(a.role == "participant" for a in doc.actors)
        for actor in doc.actors:
            paris = actor.country == "FR" and actor.city == "Paris"
            assert (actor.nuts_code, actor.nuts_version) == (("FR101", "2021") if paris else (None, None))
    h2020 = [d for d in from_csv.documents if d.native_id not in projects]
    assert len(h2020) == 5 and all(d.actors == () and d.nuts_codes == () for d in h2020)


def test_csv_rows_are_physical_lines(from_csv: IngestResult) -> None:
    lines = CSV_FILE.read_text(encoding="utf-8").split("\n")  # CRLF ends records, objectives hold bare LFs
    for doc in from_csv.documents:
        assert lines[doc.provenance_row - 1].startswith(f"{doc.native_id};")


def test_jsonl_parquet_and_compressed_give_the_same_documents(
    from_csv: IngestResult, parquet_file: Path, tmp_path: Path
) -> None:
    gz = tmp_path / "list.csv.gz"
    gz.write_bytes(gzip.compress(CSV_FILE.read_bytes()))
    packed = tmp_path / "export.zip"  # the type comes from the member's name
    with zipfile.ZipFile(packed, "w") as archive:
        archive.write(JSONL_FILE, "records.jsonl")
    expected = [_content(d) for d in from_csv.documents]
    for path in (JSONL_FILE, parquet_file, gz, packed):
        result = _read(path, nuts_version="2021")
        assert not result.quarantine, path
        assert [_content(d) for d in result.documents] == expected, path
    assert [d.provenance_row for d in _read(JSONL_FILE).documents] == list(range(1, 16))
    assert [d.provenance_row for d in _read(parquet_file).documents] == list(range(1, 16))


def test_json_array_and_xlsx_give_the_same_documents(from_csv: IngestResult, tmp_path: Path) -> None:
    """The formats of the official CORDIS export work for any mapped table, numbered as there."""
    records = [json.loads(line) for line in JSONL_FILE.read_text(encoding="utf-8").splitlines()]
    array = tmp_path / "list.json"
    array.write_text(json.dumps([*records, 42], ensure_ascii=False, indent=1), encoding="utf-8")
    header, rows = _fixture_rows()
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:  # typed cells, as a spreadsheet holds them: a numeric id, a date
        cells: list[object] = list(row)
        cells[header.index("Project code")] = int(row[header.index("Project code")])
        cells[header.index("Start")] = datetime.fromisoformat(row[header.index("Start")])
        sheet.append(cells)
    book.save(tmp_path / "list.xlsx")
    expected = [_content(d) for d in from_csv.documents]
    for path, first_row in ((array, 1), (tmp_path / "list.xlsx", 2)):
        items = list(iter_table(path, MAPPING, source="interreg", nuts_version="2021"))
        result = IngestResult.collect(items)
        assert [_content(d) for d in result.documents] == expected, path
        assert [d.provenance_row for d in result.documents] == list(range(first_row, first_row + 15)), path
        assert items[0] == FileOpened(str(path), "utf-8" if path == array else "xlsx")
    (not_object,) = _read(array).quarantine
    assert (not_object.row, not_object.field, not_object.raw) == (16, "*", "42")
    assert not_object.reason.startswith("bad_record: array element is a JSON int")


def test_file_opened_comes_first_with_the_encoding(parquet_file: Path) -> None:
    for path in (CSV_FILE, JSONL_FILE, parquet_file):
        items = list(iter_table(path, MAPPING, source="interreg"))
        assert items[0] == FileOpened(str(path), "utf-8")
        assert not any(isinstance(i, FileOpened) for i in items[1:])


# --- mapping and file errors --------------------------------------------------------------------


def test_missing_mapped_column_names_file_key_and_column(parquet_file: Path, tmp_path: Path) -> None:
    wrong = MAPPING.model_copy(update={"text": "abstract"})
    for path in (CSV_FILE, parquet_file, JSONL_FILE):
        stream = iter_table(path, wrong, source="interreg")
        with pytest.raises(InputError, match=r"mapping\.text: column 'abstract' not in") as err:
            next(stream)  # nothing, not even FileOpened, comes before the error
        assert err.value.file == str(path) and err.value.field == "abstract"
        assert "Summary" in str(err.value)  # the header is shown, so the fix is obvious
    header, rows = _fixture_rows()
    doubled = _write_csv(tmp_path / "doubled.csv", [*header[:-1], "Name"], rows)
    with pytest.raises(InputError, match=r"mapping\.title: column 'Name' occurs 2 times"):
        _read(doubled)


def test_a_refused_file_is_closed_at_once(parquet_file: Path) -> None:
    """The error's traceback still holds the reader; the file must not stay open with it until GC."""
    wrong = MAPPING.model_copy(update={"text": "abstract"})
    process = psutil.Process()
    for path in (CSV_FILE, JSONL_FILE, parquet_file):
        with pytest.raises(InputError) as err:
            next(iter_table(path, wrong, source="interreg"))
        assert err.value.file == str(path)
        assert str(path) not in {f.path for f in process.open_files()}, path


def test_jsonl_optional_keys_absent_from_every_record_only_warn(caplog: pytest.LogCaptureFixture) -> None:
    result = _read(JSONL_FILE, MAPPING.model_copy(update={"language": "lang"}))
    assert len(result.documents) == 15
    assert "mapping.language: no record has the key 'lang'" in caplog.text


def test_unknown_type_and_parquet_encoding_are_refused(parquet_file: Path, tmp_path: Path) -> None:
    odd = tmp_path / "list.ods"
    odd.write_bytes(b"")
    with pytest.raises(InputError, match="cannot tell the table type"):
        _read(odd)
    with pytest.raises(InputError, match="cannot read XLSX workbook"):
        _read(odd.with_suffix(".xlsx"))  # not a workbook: named by the file, not guessed at
    with pytest.raises(ConfigError, match="does not apply to Parquet"):
        _read(parquet_file, encoding="cp1252")
    fake = tmp_path / "fake.parquet"
    fake.write_bytes(CSV_FILE.read_bytes()[:1000])
    with pytest.raises(InputError, match="cannot read as Parquet"):
        _read(fake)


def test_cp1252_file_is_refused_unless_its_encoding_is_given(from_csv: IngestResult, tmp_path: Path) -> None:
    """’ “ ” € read the same in cp1252 and cp1250, but the Å of a real Swedish partner does not."""
    header, rows = _fixture_rows()
    rows[0][header.index("Partners")] += " | FORSKNINGSRÅDET FÖR MILJÖ, AREELLA NÄRINGAR OCH SAMHÄLLSBYGGANDE"
    rows[0][header.index("Country")] += " | SE"
    rows[0][header.index("City")] += " | Stockholm"
    rows[0][header.index("NUTS")] += " | "
    path = _write_csv(tmp_path / "cp1252.csv", header, rows, encoding="cp1252")
    with pytest.raises(InputError, match=r"cannot be told with confidence.*set `encoding:`"):
        _read(path)
    items = list(iter_table(path, MAPPING, source="interreg", encoding="cp1252"))
    assert items[0] == FileOpened(str(path), "cp1252")
    docs = IngestResult.collect(items).documents
    assert docs[0].actors[-1].name.startswith("FORSKNINGSRÅDET FÖR MILJÖ")
    assert [d.text for d in docs] == [d.text for d in from_csv.documents]  # ’ “ ” € intact


def test_delimiter_is_sniffed_and_tsv_is_tab(from_csv: IngestResult, tmp_path: Path) -> None:
    header, rows = _fixture_rows()
    for name, delimiter in (("comma.csv", ","), ("tab.csv", "\t"), ("pipe.csv", "|"), ("list.tsv", "\t")):
        result = _read(_write_csv(tmp_path / name, header, rows, delimiter=delimiter), nuts_version="2021")
        assert [_content(d) for d in result.documents] == [_content(d) for d in from_csv.documents], name
    utf16 = _write_csv(tmp_path / "excel.csv", header, rows, delimiter="\t", encoding="utf-16")
    assert len(_read(utf16).documents) == 15


# --- bad records --------------------------------------------------------------------------------


def test_bad_jsonl_lines_are_quarantined_not_fatal(tmp_path: Path) -> None:
    lines = JSONL_FILE.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2][:-40]  # truncated
    lines[4] = json.dumps([1, 2])
    lines.insert(6, "")  # blank lines are skipped, but still counted
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _read(path)
    assert len(result.documents) == 13
    assert _reasons(result) == {3: ("*", "bad_json"), 5: ("*", "not_object")}
    assert result.quarantine[0].raw == (lines[2] + "\n")[:2000] and "Unterminated string" in result.quarantine[0].reason
    assert result.documents[-1].provenance_row == 16


def test_jsonl_nested_value_in_a_text_field_is_bad_type(tmp_path: Path) -> None:
    records = [json.loads(line) for line in JSONL_FILE.read_text(encoding="utf-8").splitlines()[:2]]
    records[0]["Name"] = {"en": "x"}
    records[1]["Partners"] = [["nested"]]
    path = tmp_path / "typed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert _reasons(_read(path)) == {1: ("Name", "bad_type"), 2: ("Partners", "bad_type")}


def test_ids_missing_and_duplicate(tmp_path: Path) -> None:
    header, rows = _fixture_rows()
    rows[1][header.index("Project code")] = " "
    rows.append(list(rows[0]))
    result = _read(_write_csv(tmp_path / "ids.csv", header, rows))
    assert sorted(q.reason.split(":")[0] for q in result.quarantine) == ["duplicate_id", "missing_id"]
    assert len(result.documents) == 14
    duplicate = next(q for q in result.quarantine if q.reason.startswith("duplicate_id"))
    assert duplicate.raw.startswith(f"{rows[0][0]};") and duplicate.file == str(tmp_path / "ids.csv")


def test_dates_iso_year_month_and_date_format(tmp_path: Path) -> None:
    path = _edited(tmp_path, {0: {"Start": "2014"}, 1: {"Start": "2013-02"}, 2: {"Start": "2012-12-01 00:00:00"},
                              3: {"Start": "2011-13"}, 4: {"Start": ""}, 5: {"Start": "1.6.2010"}})
    result = _read(path)
    docs = {d.provenance_row: d for d in result.documents}
    rows = sorted(docs)
    assert (docs[rows[0]].date, docs[rows[0]].extra["date_precision"]) == (date(2014, 1, 1), "year")
    assert (docs[rows[1]].date, docs[rows[1]].extra["date_precision"]) == (date(2013, 2, 1), "month")
    assert docs[rows[2]].date == date(2012, 12, 1) and "date_precision" not in docs[rows[2]].extra
    assert [r for r in _reasons(result).values()] == [("Start", "bad_date")] * 3
    formatted = _read(_edited(tmp_path, {0: {"Start": "1.6.2010"}, 1: {"Start": "2010-06-01"}}),
                      MAPPING.model_copy(update={"date_format": "%d.%m.%Y"}))
    (doc,) = formatted.documents  # the other rows have ISO dates, which the format rejects
    assert doc.date == date(2010, 6, 1) and "date_precision" not in doc.extra
    bad = formatted.quarantine[0]
    assert (bad.field, bad.reason) == ("Start", "bad_date: '2010-06-01' does not match date_format '%d.%m.%Y'")


def test_parse_table_date_precision_from_format() -> None:
    assert parse_table_date("06/2019", "%m/%Y") == (date(2019, 6, 1), "month")
    assert parse_table_date("2019", "%Y") == (date(2019, 1, 1), "year")
    assert parse_table_date("2019-06-03T10:00:00Z", None) == (date(2019, 6, 3), "day")
    with pytest.raises(ValueError, match="is not YYYY"):
        parse_table_date("2019-02-30", None)


def test_require_abstract_and_title_only_mapping(tmp_path: Path) -> None:
    path = _edited(tmp_path, {0: {"Summary": ""}, 1: {"Summary": "", "Name": ""}})
    assert _reasons(_read(path)) == {2: ("Summary", "missing_abstract"), 3: ("Summary", "empty_text")}
    lenient = _read(path, require_abstract=False)
    assert lenient.documents[0].text == "" and list(_reasons(lenient).values()) == [("Summary", "empty_text")]
    titles = _read(path, MAPPING.model_copy(update={"text": None}))
    assert len(titles.documents) == 14 and all(d.text == "" for d in titles.documents)


# --- actors and regions -------------------------------------------------------------------------


def test_actors_split_trimmed_deduplicated_and_broadcast(tmp_path: Path) -> None:
    path = _edited(tmp_path, {
        0: {"Partners": " UNIVERSITY OF EDINBURGH |  university of edinburgh | WOLFGANG PAULI INSTITUT ",
            "Country": "UK", "City": "", "NUTS": ""},
        1: {"Partners": "A | B | C", "Country": "FR | DE"},
    })  # fmt: skip
    result = _read(path)
    first = result.documents[0].actors
    assert [(a.name, a.country, a.city) for a in first] == [
        ("UNIVERSITY OF EDINBURGH", "UK", None), ("WOLFGANG PAULI INSTITUT", "UK", None)]
    (mismatch,) = result.quarantine
    assert (mismatch.field, mismatch.reason) == ("Country", "actor_mismatch: 3 names in 'Partners' but 2 in 'Country'")


def test_region_goes_to_actors_or_to_the_document(tmp_path: Path) -> None:
    path = _edited(tmp_path, {
        0: {"NUTS": "AT33"},  # one code, two partners: both get it
        10: {"NUTS": "AT33 | ITH10"},  # no partners: the document carries the codes
        11: {"NUTS": "Tirol", "Country": "AT", "City": "Innsbruck"},
        1: {"NUTS": "Tirol", "City": " | "},  # partners without a city: nothing is derived from "Tirol"
    })  # fmt: skip
    docs = _read(path, nuts_version="2021").documents
    assert [(a.nuts_code, a.nuts_version) for a in docs[0].actors] == [("AT33", "2021")] * 2
    assert docs[0].nuts_codes == ()
    assert docs[10].nuts_codes == ("AT33", "ITH10") and docs[10].extra["nuts_version"] == "2021"
    assert docs[11].nuts_codes == () and docs[11].extra["region"] == "Tirol"
    assert (docs[11].extra["country"], docs[11].extra["city"]) == ("AT", "Innsbruck")
    assert docs[1].extra["region"] == "Tirol"
    assert all(a.city is None and a.nuts_code is None for a in docs[1].actors)
    assert "nuts_version" not in _read(path).documents[10].extra


def test_nuts_shape_accepts_every_nuts_2021_code_and_no_names() -> None:
    with (ROOT / "data" / "nuts" / "nuts2021.csv").open(encoding="utf-8") as handle:
        codes = [row["nuts_code"] for row in csv.DictReader(handle)]
    assert len(codes) > 1500 and all(is_nuts_code(c) for c in codes)
    assert not any(is_nuts_code(v) for v in ("Tirol", "TIROL", "ITALY", "at33", "AT 33", "AT3333", ""))


def test_language_and_extra_columns(tmp_path: Path) -> None:
    header, rows = _fixture_rows()
    header += ["Lang", "Notes"]
    for row, lang in zip(rows, itertools.cycle(["EN", "de-AT", "English", ""]), strict=False):
        row += [lang, "x" * 600]
    path = _write_csv(tmp_path / "lang.csv", header, rows)
    docs = _read(path, MAPPING.model_copy(update={"language": "Lang"})).documents
    assert [d.language for d in docs[:4]] == ["en", "de", None, None]
    assert docs[2].extra["language_unrecognised"] == "English" and "language_unrecognised" not in docs[3].extra
    assert len(docs[0].extra["col:Notes"]) == 500 and docs[0].extra["col:Notes"].endswith("…")
    assert "col:Lang" not in docs[0].extra


# --- streaming ----------------------------------------------------------------------------------


def _big(tmp_path: Path, rows: int, bad_row: int) -> Path:
    """A narrow file of fixture titles and summaries: the per-row cost, not the width, is under test."""
    _, fixture = _fixture_rows()
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(["id", "title", "text", "date"])
        for n in range(rows):
            source = fixture[n % len(fixture)]
            row = [str(n), source[2], source[3][:300].replace("\n", " "), source[4]]
            writer.writerow(row[:-1] if n == bad_row else row)
    return path


def test_stream_yields_before_reading_the_whole_file(tmp_path: Path) -> None:
    """60,000 rows, row 60,000 malformed: documents come first, and memory stays far below the file size."""
    path = _big(tmp_path, 60_000, bad_row=59_999)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        stream = iter_table(path, TableMapping(id="id", title="title", text="text", date="date"), source="big")
        first = list(itertools.islice(stream, 3))
        peak_first = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(first[0], FileOpened) and all(isinstance(i, Document) for i in first[1:])
    assert peak_first < size / 4, (peak_first, size)  # the UTF-8 check reads 1 MiB chunks
    counts: dict[type, int] = {}
    last: IngestItem | None = None
    for last in stream:
        counts[type(last)] = counts.get(type(last), 0) + 1
    assert counts == {Document: 59_997, QuarantineRecord: 1}
    assert isinstance(last, QuarantineRecord) and last.row == 60_001 and last.reason.startswith("ragged_row")


def test_jsonl_stream_is_lazy(tmp_path: Path) -> None:
    record = json.loads(JSONL_FILE.read_text(encoding="utf-8").splitlines()[0])
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for n in range(8_000):  # about 17 MB
            handle.write(json.dumps(record | {"Project code": n}) + "\n")
        handle.write("{oops\n")
    stream = iter_table(path, MAPPING, source="big")
    tracemalloc.start()
    try:
        first = list(itertools.islice(stream, 2))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(first[1], Document) and peak < path.stat().st_size / 4
    *_, last = stream
    assert isinstance(last, QuarantineRecord) and last.row == 8_001
