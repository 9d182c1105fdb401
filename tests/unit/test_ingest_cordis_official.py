"""The official CORDIS layouts (CSV, JSON, XLSX) on the fixtures in tests/fixtures/cordis (see its README)."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from s3text.errors import InputError
from s3text.ingest.cordis import iter_cordis_official, read_cordis_official
from s3text.ingest.cordis_official import parse_amount
from s3text.records import Document, FileOpened, IngestResult, QuarantineRecord

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "cordis"
BAD = FIX / "bad"
FORMATS = ("csv", "json", "xlsx")
FP7_IDS = ["626272", "613703", "312147", "311875", "295170", "273586", "264394", "245347", "222690", "219661"]
H2020_IDS = ["657672", "816706", "101035819"]
INRAE_PIC = "999993274"


def _tables(fmt: str) -> tuple[Path, Path, Path]:
    folder = FIX / fmt
    return folder / f"project.{fmt}", folder / f"organization.{fmt}", folder / f"euroSciVoc.{fmt}"


def _read(fmt: str, **kwargs: object) -> IngestResult:
    project, organization, voc = _tables(fmt)
    return read_cordis_official(project, organization, euroscivoc=voc, source="official", **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def results() -> dict[str, IngestResult]:
    return {fmt: _read(fmt) for fmt in FORMATS}


def _by_id(result: IngestResult) -> dict[str, Document]:
    return {d.native_id: d for d in result.documents}


def _quarantined(result: IngestResult, file: Path) -> dict[int, tuple[str, str]]:
    return {q.row: (q.field, q.reason.split(":")[0]) for q in result.quarantine if Path(q.file) == file}


def _fixture_rows(name: str) -> list[dict[str, str]]:
    with (FIX / "csv" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


# --- the same data in three formats ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_loads_every_row(results: dict[str, IngestResult], fmt: str) -> None:
    result = results[fmt]
    assert [d.native_id for d in result.documents] == FP7_IDS + H2020_IDS and not result.quarantine
    orgs, voc = _fixture_rows("organization.csv"), _fixture_rows("euroSciVoc.csv")
    assert sum(len(d.actors) for d in result.documents) == len(orgs)
    assert sum(len(d.classes) for d in result.documents) == len(voc)
    assert all(not d.actors and not d.classes for d in result.documents if d.native_id in H2020_IDS)


def test_csv_json_and_xlsx_give_the_same_documents(results: dict[str, IngestResult]) -> None:
    def content(doc: Document) -> tuple[object, ...]:
        return (doc.doc_id, doc.title, doc.text, doc.date, doc.actors, doc.classes, doc.extra, doc.url)

    expected = [content(d) for d in results["csv"].documents]
    for fmt in ("json", "xlsx"):
        assert [content(d) for d in results[fmt].documents] == expected, fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_provenance_rows_per_format(results: dict[str, IngestResult], fmt: str) -> None:
    rows = [d.provenance_row for d in results[fmt].documents]
    if fmt == "csv":  # physical lines: three FP7 objectives span several lines
        lines = (FIX / "csv" / "project.csv").read_text(encoding="utf-8").split("\n")
        docs = results[fmt].documents
        assert all(lines[r - 1].startswith(f'"{d.native_id}";') for r, d in zip(rows, docs, strict=True))
        assert rows[-1] > len(rows) + 1
    else:  # JSON: 1-based object index; XLSX: sheet row with the header on row 1
        assert rows == [i + (fmt == "xlsx") for i in range(1, len(rows) + 1)]


def test_multi_line_quoted_objective(results: dict[str, IngestResult]) -> None:
    doc = _by_id(results["csv"])["613703"]
    assert doc.text.count("\n") >= 2 and doc.text.startswith("CARODEL aims to valorise")
    assert _by_id(results["xlsx"])["613703"].text == doc.text


def test_project_fields_and_extras(results: dict[str, IngestResult]) -> None:
    doc = _by_id(results["csv"])["626272"]
    assert (doc.title[:29], doc.date.isoformat()) == ("Proteomic Profiling and Knock", "2015-03-01")
    assert doc.url == "https://cordis.europa.eu/project/id/626272"
    assert doc.extra == {
        "acronym": "FISHEGG", "status": "CLOSED", "endDate": "2017-02-28", "totalCost": "194046.6",
        "ecMaxContribution": "194046.6", "legalBasis": "FP7-PEOPLE", "topics": "FP7-PEOPLE-2013-IEF",
        "frameworkProgramme": "FP7", "fundingScheme": "MC-IEF",
    }
    h2020 = _by_id(results["xlsx"])["816706"]
    assert h2020.extra["ecMaxContribution"] == "50000.0" and "frameworkProgramme" not in h2020.extra


def test_organisation_fields(results: dict[str, IngestResult]) -> None:
    (inrae,) = _by_id(results["json"])["626272"].actors
    assert (inrae.native_id, inrae.id_scheme, inrae.role, inrae.kind, inrae.city, inrae.country) == (
        INRAE_PIC, "pic", "coordinator", "REC", "Paris", "FR")
    assert (inrae.nuts_code, inrae.nuts_version, inrae.ec_contribution) == ("FR101", None, 194046.6)
    assert inrae.vat is None and inrae.geolocation is None and inrae.postcode is None  # not in the real data
    carodel = _by_id(results["csv"])["613703"].actors
    assert [a.role for a in carodel][:2] == ["coordinator", "participant"]
    assert sum(a.ec_contribution or 0 for a in carodel) == pytest.approx(1996823.0, abs=1)  # = ecMaxContribution


def test_nuts_version_comes_from_the_config_only_for_coded_actors() -> None:
    result = _read("csv", nuts_version="2021")
    actors = [a for d in result.documents for a in d.actors]
    assert {a.nuts_version for a in actors if a.nuts_code} == {"2021"}
    assert {a.nuts_version for a in actors if not a.nuts_code} == {None}


def test_euroscivoc_classes(results: dict[str, IngestResult]) -> None:
    doc = _by_id(results["xlsx"])["626272"]
    assert doc.classes[0] == (
        "euroscivoc", "/natural sciences/biological sciences/biological morphology/comparative morphology")
    assert len(doc.classes) == 5 and {s for s, _ in doc.classes} == {"euroscivoc"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_file_opened_once_per_file_before_its_records(fmt: str) -> None:
    project, organization, voc = _tables(fmt)
    items = list(iter_cordis_official(project, organization, euroscivoc=voc, source="s"))
    opened = [i for i in items if isinstance(i, FileOpened)]
    assert sorted(Path(o.file) for o in opened) == sorted([project, organization, voc])
    assert {o.encoding for o in opened} == {"xlsx" if fmt == "xlsx" else "utf-8"}
    for note in opened:  # each file is announced before anything read from it
        first = min(i for i, item in enumerate(items) if _file_of(item) == note.file)
        assert items[first] is note


def _file_of(item: object) -> str | None:
    if isinstance(item, FileOpened | QuarantineRecord):
        return item.file
    return item.provenance_file if isinstance(item, Document) else None


def test_vat_geolocation_and_decimal_comma(tmp_path: Path) -> None:
    """Synthetic values (the real rows have no VAT or geolocation) in the official column list."""
    rows = _fixture_rows("organization.csv")
    header = list(rows[0])
    first = dict(rows[0], vatNumber="FR00000000000", geolocation="48.8566,2.3522", postCode="75007",
                 ecContribution="194046,6")
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, header, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writeheader()
    writer.writerow(first)
    (tmp_path / "organization.csv").write_text(buffer.getvalue(), encoding="utf-8")
    result = read_cordis_official(FIX / "csv" / "project.csv", tmp_path / "organization.csv", source="s")
    (actor,) = _by_id(result)["626272"].actors
    assert (actor.vat, actor.geolocation, actor.postcode, actor.ec_contribution) == (
        "FR00000000000", "48.8566,2.3522", "75007", 194046.6)


@pytest.mark.parametrize(("text", "expected"), [
    ("", None), ("194046.6", 194046.6), ("3499076,25", 3499076.25), ("100", 100.0), ("1.5e3", 1500.0)])
def test_amounts(text: str, expected: float | None) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text", ["1.234,56", "1,234", "1,234,567", "n/a", "EUR 100"])
def test_ambiguous_amounts_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


def test_gz_and_multi_table_zip(tmp_path: Path, results: dict[str, IngestResult]) -> None:
    project, organization, voc = _tables("csv")
    (tmp_path / "project.csv.gz").write_bytes(gzip.compress(project.read_bytes()))
    gz = read_cordis_official(tmp_path / "project.csv.gz", organization, euroscivoc=voc, source="official")
    assert gz.documents == [replace(d, provenance_file=str(tmp_path / "project.csv.gz"))
                            for d in results["csv"].documents]
    archive = tmp_path / "cordis-fp7projects-json.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in _tables("json"):
            zipped.write(path, f"json/{path.name}")
    zipped_result = read_cordis_official(archive, archive, euroscivoc=archive, source="official")
    assert [(d.native_id, d.actors, d.classes) for d in zipped_result.documents] == [
        (d.native_id, d.actors, d.classes) for d in results["json"].documents]
    assert zipped_result.documents[0].provenance_file == f"{archive}!json/project.json"


# --- malformed files --------------------------------------------------------------------------------


def test_csv_ragged_row_and_unclosed_quote() -> None:
    path = BAD / "project_broken.csv"
    result = read_cordis_official(path, source="b")
    assert [d.native_id for d in result.documents] == ["626272", "312147", "295170"]
    lines = path.read_text(encoding="utf-8").split("\n")
    assert _quarantined(result, path) == {3: ("*", "ragged_row"), 14: ("*", "ragged_row")}
    for q in result.quarantine:
        assert lines[q.row - 1] == q.raw.split("\n")[0]
    assert "unclosed quote" in next(q.reason for q in result.quarantine if q.row == 3)


def test_organisation_problems_are_quarantined_with_row_and_field() -> None:
    path = BAD / "organization_bad.csv"
    result = read_cordis_official(FIX / "csv" / "project.csv", path, source="b")
    assert _quarantined(result, path) == {
        3: ("ecContribution", "bad_amount"),
        4: ("ecContribution", "bad_amount"),
        5: ("organisationID", "duplicate_participant"),
        6: ("name", "missing_name"),
        7: ("projectID", "unknown_project"),
        8: ("projectID", "missing_id"),
    }
    lines = path.read_text(encoding="utf-8").split("\n")
    assert all(lines[q.row - 1] == q.raw.rstrip("\n") for q in result.quarantine)
    (actor,) = _by_id(result)["613703"].actors
    assert (actor.name, actor.ec_contribution) == ("PRODIGEST", 1234.5)  # "1234,5"
    assert "'1.234,56'" in next(q.reason for q in result.quarantine if q.row == 3)


def test_participants_of_a_quarantined_project(tmp_path: Path) -> None:
    text = (FIX / "csv" / "project.csv").read_text(encoding="utf-8").replace('"2015-03-01"', '"2015-02-30"', 1)
    (tmp_path / "project.csv").write_text(text, encoding="utf-8")
    organization = FIX / "csv" / "organization.csv"
    result = read_cordis_official(tmp_path / "project.csv", organization, euroscivoc=FIX / "csv" / "euroSciVoc.csv",
                                  source="b")
    assert _quarantined(result, tmp_path / "project.csv") == {2: ("startDate", "bad_date")}
    assert _quarantined(result, organization) == {2: ("projectID", "project_quarantined")}
    voc = [q for q in result.quarantine if Path(q.file).name == "euroSciVoc.csv"]
    assert [q.row for q in voc] == [2, 3, 4, 5, 6] and all("project_quarantined" in q.reason for q in voc)


def test_json_non_object_elements() -> None:
    path = BAD / "project_non_object.json"
    result = read_cordis_official(path, source="b")
    assert _quarantined(result, path) == {2: ("*", "bad_record"), 3: ("*", "bad_record"), 4: ("*", "bad_record")}
    assert {d.native_id: d.provenance_row for d in result.documents} == {"626272": 1, "312147": 5}
    assert [q.raw for q in result.quarantine] == ['"a string"', "42", "null"]


def test_json_not_an_array() -> None:
    with pytest.raises(InputError) as err:
        read_cordis_official(BAD / "project_not_array.json", source="b")
    assert err.value.row == 1 and "array" in str(err.value)


def test_truncated_json_keeps_what_came_before_and_names_the_object() -> None:
    items = iter_cordis_official(BAD / "project_truncated.json", source="b")
    seen: list[str] = []
    with pytest.raises(InputError) as err:
        for item in items:
            if isinstance(item, Document):
                seen.append(item.native_id)
    assert seen == ["626272", "613703"] and err.value.row == 3
    assert err.value.file == str(BAD / "project_truncated.json")


def test_xlsx_missing_required_column() -> None:
    with pytest.raises(InputError) as err:
        read_cordis_official(BAD / "project_missing_column.xlsx", source="b")
    assert (err.value.row, err.value.field) == (1, "objective")


def test_xlsx_bad_date_cells() -> None:
    path = BAD / "project_bad_date.xlsx"
    result = read_cordis_official(path, source="b")
    assert _quarantined(result, path) == {3: ("startDate", "bad_date"), 4: ("startDate", "bad_date")}
    assert {d.native_id: (d.provenance_row, d.date.isoformat()) for d in result.documents} == {
        "626272": (2, "2015-03-01"), "311875": (5, "2012-10-01")}
    raw = next(q.raw for q in result.quarantine if q.row == 3)  # the row as JSON, capped like every raw
    assert raw.startswith('{"id": "613703", "acronym": "CARODEL"') and '"startDate": "31/12/2013"' in raw


def test_cp1252_is_reported_or_read_never_garbled() -> None:
    project, organization = BAD / "project_cp1252.csv", BAD / "organization_cp1252.csv"
    try:
        auto = read_cordis_official(project, organization, source="b")
    except InputError as err:
        assert err.file in (str(project), str(organization)) and "encoding" in str(err)
    else:  # a detector may be sure of cp1252; then the text must be right
        assert any("Forestière" in a.name for d in auto.documents for a in d.actors)
    given = read_cordis_official(project, organization, source="b", encoding="cp1252")
    names = [a.name for d in given.documents for a in d.actors]
    assert "Ecole Nationale Forestière d'Ingénieurs" in names and not given.quarantine
    opened = [i for i in iter_cordis_official(project, organization, source="b", encoding="cp1252")
              if isinstance(i, FileOpened)]
    assert {o.encoding for o in opened} == {"cp1252"}


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    (tmp_path / "project.ods").write_bytes(b"PK")
    with pytest.raises(InputError, match="cannot tell the table type") as err:
        list(iter_cordis_official(FIX / "csv" / "project.csv", tmp_path / "project.ods", source="b"))
    assert err.value.file == str(tmp_path / "project.ods")


def test_quarantine_records_carry_source_and_file() -> None:
    path = BAD / "project_non_object.json"
    result = read_cordis_official(path, source="src")
    assert len(result.quarantine) == 3
    assert all(isinstance(q, QuarantineRecord) and (q.source, q.file) == ("src", str(path)) for q in result.quarantine)


def test_horizon_column_list(tmp_path: Path, results: dict[str, IngestResult]) -> None:
    """HORIZON's project.csv column list (``nature`` added, no ``ecSignatureDate``), filled with the fixture rows."""
    rows = _fixture_rows("project.csv")
    header = [c for c in rows[0] if c != "ecSignatureDate"]
    header.insert(header.index("objective"), "nature")
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, header, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows([dict(r, nature="") for r in rows])
    (tmp_path / "project.csv").write_text(buffer.getvalue(), encoding="utf-8")
    result = read_cordis_official(tmp_path / "project.csv", source="official")
    assert [(d.doc_id, d.text, d.extra) for d in result.documents] == [
        (d.doc_id, d.text, d.extra) for d in results["csv"].documents]
