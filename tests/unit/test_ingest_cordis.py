"""CORDIS readers on the bundled real data and on the malformed fixtures in tests/fixtures/bad."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from s3text.config import SourceConfig
from s3text.errors import ConfigError, InputError
from s3text.ingest import read_cordis_csv, read_cordis_json, read_cordis_official, read_source
from s3text.ingest.cordis import iter_cordis_csv, iter_cordis_json
from s3text.records import Document, FileOpened, IngestResult

ROOT = Path(__file__).resolve().parents[2]
FP7 = ROOT / "data" / "cordis_fp7"
H2020 = ROOT / "data" / "cordis_h2020_energy" / "projects.csv"
OFFICIAL = ROOT / "data" / "cordis_official"
BAD = ROOT / "tests" / "fixtures" / "bad"
INRAE_PIC = "999993274"


@pytest.fixture(scope="module")
def fp7() -> IngestResult:
    return read_cordis_csv(FP7 / "projects.csv", FP7 / "participants.csv", source="cordis_fp7")


@pytest.fixture(scope="module")
def bad() -> IngestResult:
    return read_cordis_csv(BAD / "cordis_projects_bad.csv", BAD / "cordis_participants_bad.csv", source="bad")


def _lines(path: Path) -> list[str]:
    """Physical lines (line n = index n-1), split at \\n only: str.splitlines() would also split at
    U+2028, form feeds and the like, which some objectives contain."""
    return [line.rstrip("\r") for line in path.read_text(encoding="utf-8-sig").split("\n")]


def _by_id(result: IngestResult) -> dict[str, Document]:
    return {d.native_id: d for d in result.documents}


def _content(doc: Document) -> tuple[object, ...]:
    return (doc.doc_id, doc.title, doc.text, doc.date, doc.actors)


def _quarantined(result: IngestResult, file: Path) -> dict[int, tuple[str, str]]:
    return {q.row: (q.field, q.reason.split(":")[0]) for q in result.quarantine if Path(q.file) == file}


# --- bundled data ---------------------------------------------------------------------------------


def test_fp7_loads_every_project_and_participant(fp7: IngestResult) -> None:
    projects = pd.read_csv(FP7 / "projects.csv", dtype=str)
    participants = pd.read_csv(FP7 / "participants.csv", dtype=str, keep_default_na=False)
    duplicates = int(participants.duplicated(["projectID", "pic"]).sum())
    assert len(fp7.documents) == len(projects) == projects["id"].nunique()
    assert sum(len(d.actors) for d in fp7.documents) == len(participants) - duplicates
    reasons = Counter(q.reason.split(":")[0] for q in fp7.quarantine)
    assert reasons == Counter({"duplicate_participant": duplicates})
    per_project = participants.drop_duplicates(["projectID", "pic"]).groupby("projectID").size()
    assert {d.native_id: len(d.actors) for d in fp7.documents} == per_project.to_dict()


def test_fp7_known_project_has_inrae_coordinator(fp7: IngestResult) -> None:
    doc = _by_id(fp7)["626272"]
    assert doc.extra["acronym"] == "FISHEGG"
    assert doc.source_kind == "project" and doc.date.isoformat() == "2015-03-01"
    assert doc.url == "https://cordis.europa.eu/project/id/626272"
    (actor,) = doc.actors
    expected = (INRAE_PIC, "coordinator", "REC", "FR", "Paris")
    assert (actor.native_id, actor.role, actor.kind, actor.country, actor.city) == expected


def test_fp7_duplicate_participant_is_quarantined_not_doubled(fp7: IngestResult) -> None:
    names = [a.name for a in _by_id(fp7)["222625"].actors]
    assert names.count("RIJKSUNIVERSITEIT GRONINGEN") == 1
    (q,) = fp7.quarantine
    assert q.field == "pic" and q.reason.startswith("duplicate_participant: ")
    assert _lines(FP7 / "participants.csv")[q.row - 1] == q.raw.rstrip("\r\n")


def test_fp7_provenance_rows_are_physical_lines(fp7: IngestResult) -> None:
    lines = _lines(FP7 / "projects.csv")
    assert len(lines) > len(fp7.documents) + 1  # objectives hold newlines, so the check is meaningful
    for doc in fp7.documents:
        assert lines[doc.provenance_row - 1].startswith(f"{doc.native_id},FP7,")


def test_json_and_csv_agree(fp7: IngestResult) -> None:
    """The JSON reader gives the same documents as the CSV flattening of the same CORDIS records."""
    csv_docs = _by_id(fp7)
    fixture = read_cordis_json(BAD / "cordis_bad.json", source="cordis_fp7")
    doc = _by_id(fixture)["295170"]
    twin = csv_docs["295170"]
    assert _content(doc) == _content(twin) and doc.extra == twin.extra
    shared = Path("/work/shared/data/cordis_fp7_inrae/inrae_projects_fp7.json")  # not bundled: 2.3 MB
    if not shared.exists():
        pytest.skip("full INRAE JSON not available on this machine")
    result = read_cordis_json(shared, source="cordis_fp7")
    assert len(result.documents) == len(csv_docs)
    for doc in result.documents:
        assert _content(doc) == _content(csv_docs[doc.native_id])
    assert [q.reason.split(":")[0] for q in result.quarantine] == ["duplicate_participant"]


def test_h2020_energy_file_with_unnamed_index_column() -> None:
    result = read_cordis_csv(H2020, source="cordis_h2020_energy")
    frame = pd.read_csv(H2020, dtype=str)
    assert len(result.documents) == len(frame) and not result.quarantine
    assert all(not d.actors for d in result.documents)
    lines = _lines(H2020)
    for doc in result.documents:
        assert lines[doc.provenance_row - 1].startswith(doc.extra["source_index"] + ",")
    dates = sorted(d.date.isoformat() for d in result.documents)
    assert dates[0] == frame["startDate"].min() and dates[-1] == frame["startDate"].max()
    assert {d.date.year for d in result.documents} == set(range(2014, 2023))


def test_ids_are_stable_across_reads_and_paths(fp7: IngestResult, tmp_path: Path) -> None:
    for name in ("projects.csv", "participants.csv"):
        shutil.copy(FP7 / name, tmp_path / name)
    again = read_cordis_csv(tmp_path / "projects.csv", tmp_path / "participants.csv", source="cordis_fp7")
    assert [(d.doc_id, d.content_hash) for d in again.documents] == [
        (d.doc_id, d.content_hash) for d in fp7.documents
    ]
    assert len({d.doc_id for d in fp7.documents}) == len(fp7.documents)


def test_official_layout_matches_the_rows_it_was_built_from(fp7: IngestResult) -> None:
    result = read_cordis_official(OFFICIAL / "project.csv", OFFICIAL / "organization.csv", source="official")
    projects = pd.read_csv(OFFICIAL / "project.csv", sep=";", dtype=str)
    orgs = pd.read_csv(OFFICIAL / "organization.csv", sep=";", dtype=str, keep_default_na=False)
    assert len(result.documents) == len(projects) and not result.quarantine
    source_docs = _by_id(fp7)
    for doc in result.documents:
        twin = source_docs[doc.native_id]
        assert (doc.title, doc.text, doc.date) == (twin.title, twin.text, twin.date)
        assert [a.name for a in doc.actors] == [a.name for a in twin.actors]
        assert [a.native_id for a in doc.actors] == list(
            orgs.loc[orgs.projectID == doc.native_id, "organisationID"]
        )
    coded = [a for d in result.documents for a in d.actors if a.nuts_code]
    assert len(coded) == int((orgs.nutsCode != "").sum()) > 0
    assert all(
        a.city is not None and a.city.casefold() == "paris" and a.nuts_code == "FR101" and a.postcode is None
        for a in coded
    )
    nuts_table = ROOT / "data" / "nuts" / "nuts2021.csv"
    if nuts_table.exists():
        assert "FR101" in set(pd.read_csv(nuts_table, dtype=str)["nuts_code"])


# --- malformed fixtures ----------------------------------------------------------------------------


def test_bad_project_rows_are_quarantined_with_line_field_reason(bad: IngestResult) -> None:
    path = BAD / "cordis_projects_bad.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert _quarantined(bad, path) == {
        3: ("startDate", "bad_date"),
        4: ("id", "missing_id"),
        5: ("objective", "missing_abstract"),
        9: ("*", "ragged_row"),
        10: ("title", "nul_byte"),
        11: ("id", "duplicate_id"),
        12: ("objective", "empty_text"),
    }
    lines = _lines(path)
    for q in bad.quarantine:
        if Path(q.file) == path:
            assert lines[q.row - 1] == q.raw.split("\n")[0].rstrip("\r")
            assert len(q.raw) <= 2000
    assert "2021-13-45" in next(q.reason for q in bad.quarantine if q.row == 3 and Path(q.file) == path)


def test_good_project_rows_still_load(bad: IngestResult) -> None:
    docs = _by_id(bad)
    assert {k: d.provenance_row for k, d in docs.items()} == {
        "295170": 2,
        "311972": 6,
        "339728": 13,
        "265669": 14,
        "295088": 17,
    }
    assert docs["339728"].date.isoformat() == "2014-02-01"  # "YYYY-MM-DD HH:MM:SS" accepted
    assert docs["295170"].extra["acronym"] == "BITA"  # the first of the duplicated rows wins


def test_bad_participant_rows(bad: IngestResult) -> None:
    path = BAD / "cordis_participants_bad.csv"
    assert _quarantined(bad, path) == {
        4: ("projectID", "project_quarantined"),
        5: ("projectID", "unknown_project"),
        6: ("projectID", "missing_id"),
        10: ("pic", "duplicate_participant"),
        11: ("name", "missing_name"),
    }
    docs = _by_id(bad)
    assert [a.role for a in docs["295170"].actors] == ["coordinator", "participant"]
    assert len(docs["311972"].actors) == 3 and len(docs["265669"].actors) == 2


def test_require_abstract_false_keeps_title_only_project() -> None:
    result = read_cordis_csv(BAD / "cordis_projects_bad.csv", source="bad", require_abstract=False)
    doc = _by_id(result)["329570"]
    assert doc.text == "" and doc.extra["acronym"] == "Aphid-borne viruses"
    reasons = {q.row: q.reason.split(":")[0] for q in result.quarantine}
    assert 5 not in reasons and reasons[12] == "empty_text"


def test_official_organization_for_unknown_project() -> None:
    result = read_cordis_official(BAD / "official_project.csv", BAD / "official_organization.csv", source="b")
    assert _quarantined(result, BAD / "official_organization.csv") == {4: ("projectID", "unknown_project")}
    assert sorted(d.native_id for d in result.documents) == ["222883", "295170"]
    orgs = pd.read_csv(BAD / "official_organization.csv", sep=";", dtype=str)
    assert sum(len(d.actors) for d in result.documents) == len(orgs) - 1


def test_bad_json_records() -> None:
    path = BAD / "cordis_bad.json"
    result = read_cordis_json(path, source="b")
    assert _quarantined(result, path) == {
        2: ("startDate", "bad_date"),
        3: ("id", "missing_id"),
        4: ("partners[1].name", "missing_name"),
        5: ("*", "bad_record"),
    }
    docs = _by_id(result)
    assert {k: d.provenance_row for k, d in docs.items()} == {"295170": 1, "329570": 4}
    assert len(docs["329570"].actors) == 1


# --- unreadable files --------------------------------------------------------------------------------


def test_missing_file_names_the_file() -> None:
    missing = BAD / "no_such_projects.csv"
    with pytest.raises(InputError) as err:
        read_cordis_csv(missing, source="b")
    assert err.value.file == str(missing) and "no_such_projects.csv" in str(err.value)


def test_not_utf8_names_file_and_line() -> None:
    path = BAD / "cordis_projects_latin1.csv"
    data = path.read_bytes()
    first_high = next(i for i, byte in enumerate(data) if byte > 127)
    with pytest.raises(InputError) as err:
        read_cordis_csv(path, source="b")
    assert err.value.file == str(path) and err.value.row == data.count(b"\n", 0, first_high) + 1


def test_missing_required_column_names_it() -> None:
    with pytest.raises(InputError) as err:
        read_cordis_csv(BAD / "cordis_projects_missing_column.csv", source="b")
    assert (err.value.row, err.value.field) == (1, "objective")


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(InputError):
        read_cordis_csv(tmp_path / "empty.csv", source="b")
    (tmp_path / "header.csv").write_text("id,title,objective,startDate\n", encoding="utf-8")
    assert read_cordis_csv(tmp_path / "header.csv", source="b") == IngestResult()


# --- dispatcher --------------------------------------------------------------------------------------


def test_read_source_dispatches_by_format() -> None:
    cfg = SourceConfig(
        name="fp7", format="cordis_csv", path=FP7 / "projects.csv", companion=FP7 / "participants.csv"
    )
    result = read_source(cfg)
    assert {d.source for d in result.documents} == {"fp7"}
    assert sum(len(d.actors) for d in result.documents) > len(result.documents)
    official = read_source(
        SourceConfig(
            name="off",
            format="cordis_official",
            path=OFFICIAL / "project.csv",
            companion=OFFICIAL / "organization.csv",
        )
    )
    assert official.documents and all(d.source == "off" for d in official.documents)
    # The organization table is optional (a project list alone is a source); unknown roles are not.
    alone = read_source(SourceConfig(name="off", format="cordis_official", path=OFFICIAL / "project.csv"))
    assert len(alone.documents) == len(official.documents) and not any(d.actors for d in alone.documents)
    with pytest.raises(ConfigError, match="orgs"):
        read_source(SourceConfig(name="off", format="cordis_official", path=OFFICIAL / "project.csv",
                                 tables={"orgs": OFFICIAL / "organization.csv"}))


# --- streaming ---------------------------------------------------------------------------------------


def test_iter_readers_announce_each_file_with_its_encoding() -> None:
    items = list(iter_cordis_csv(BAD / "cordis_projects_bad.csv", BAD / "cordis_participants_bad.csv", source="b"))
    opened = [i for i in items if isinstance(i, FileOpened)]
    assert [(Path(o.file).name, o.encoding) for o in opened] == [
        ("cordis_projects_bad.csv", "utf-8-sig"),
        ("cordis_participants_bad.csv", "utf-8"),
    ]
    assert IngestResult.collect(items) == read_cordis_csv(
        BAD / "cordis_projects_bad.csv", BAD / "cordis_participants_bad.csv", source="b"
    )
    json_items = list(iter_cordis_json(BAD / "cordis_bad.json", source="b"))
    assert isinstance(json_items[0], FileOpened) and json_items[0].encoding == "utf-8"


def test_flat_participants_carry_ec_contribution(fp7: IngestResult) -> None:
    (actor,) = _by_id(fp7)["626272"].actors
    assert actor.ec_contribution == 194046.6 and actor.id_scheme == "pic"


def test_inrae_json_keeps_euroscivoc_classes() -> None:
    result = read_cordis_json(BAD / "cordis_bad.json", source="b")
    classes = [c for d in result.documents for c in d.classes]
    assert classes and all(scheme == "euroscivoc" and code.startswith("/") for scheme, code in classes)


def test_inrae_json_without_projects_list(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text('{"items": []}', encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_cordis_json(tmp_path / "other.json", source="b")
    assert err.value.field == "projects"
    (tmp_path / "empty.json").write_text('{"projects": []}', encoding="utf-8")
    assert read_cordis_json(tmp_path / "empty.json", source="b") == IngestResult()
    (tmp_path / "cut.json").write_text('{"projects": [{"id": "1", "title": "x"', encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_cordis_json(tmp_path / "cut.json", source="b")
    assert err.value.row == 1
