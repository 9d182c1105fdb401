"""PatentsView bulk tables: join, zipped files, CPC, actors and locations, quarantine, encodings.

Fixtures (tests/fixtures/patents, see its README): real patent ids, dates, titles and abstracts from
the PatentsView API slice in ../shared/data; CPC, assignee, inventor and location rows illustrative,
in the layout of PatentsView's column lists.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from s3text.errors import InputError
from s3text.ingest.patentsview import iter_patentsview_bulk
from s3text.records import Document, FileOpened, IngestItem, IngestResult, QuarantineRecord

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "patents"
PLAIN, ZIPPED, BAD = FIX / "patentsview", FIX / "patentsview_zip", FIX / "patentsview_bad"
ROLES = {
    "abstract": "g_patent_abstract",
    "cpc": "g_cpc_current",
    "assignee": "g_assignee_disambiguated",
    "location": "g_location_disambiguated",
    "inventor": "g_inventor_disambiguated",
}


def _tables(folder: Path = PLAIN, suffix: str = ".tsv", **override: Path | None) -> dict[str, Path | None]:
    tables: dict[str, Path | None] = {role: folder / f"{stem}{suffix}" for role, stem in ROLES.items()}
    tables.update(override)
    return tables


def _items(patent: Path = PLAIN / "g_patent.tsv", **kwargs: object) -> list[IngestItem]:
    tables = {k: kwargs.pop(k) for k in list(kwargs) if k in ROLES}
    return list(iter_patentsview_bulk(patent, **_tables(**tables), source="pv", **kwargs))  # type: ignore[arg-type]


def _docs(items: list[IngestItem]) -> dict[str, Document]:
    return {d.native_id: d for d in IngestResult.collect(items).documents}


def _quarantine(items: list[IngestItem]) -> dict[tuple[str, int], tuple[str, str]]:
    return {(Path(q.file).name, q.row): (q.field, q.reason.split(":")[0])
            for q in items if isinstance(q, QuarantineRecord)}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_join_matches_the_tables() -> None:
    items = _items()
    docs = _docs(items)
    patents = {r["patent_id"]: r for r in _rows(PLAIN / "g_patent.tsv")}
    abstracts = {r["patent_id"]: r["patent_abstract"] for r in _rows(PLAIN / "g_patent_abstract.tsv")}
    # every patent row is a document or a quarantined record, never dropped
    assert set(docs) | {"9691289", "9075941"} == set(patents)
    for pid, doc in docs.items():
        row = patents[pid]
        assert (doc.title, doc.text, doc.date.isoformat()) == (row["patent_title"], abstracts[pid], row["patent_date"])
        assert doc.provenance_row == list(patents).index(pid) + 2  # header is line 1
        assert doc.source == "pv" and doc.source_kind == "patent"
    assert docs["RE36823"].extra == {"office": "US", "date_field": "patent_date", "patent_type": "reissue",
                                     "wipo_kind": "E", "num_claims": "11"}
    assert docs["5535303"].text.startswith('" A ""Barometer"" Neuron')  # quotes of the real abstract survive


def test_cpc_classes_per_patent() -> None:
    docs = _docs(_items())
    assert docs["9646230"].classes == (("cpc", "G06V30/148"), ("cpc", "G06N3/08"))  # in cpc_sequence order
    assert docs["9686126"].classes == (("cpc", "G06N3/063"), ("cpc", "B60W50/00"))
    assert docs["5453676"].classes == (("cpc", "B60S1/0818"),)
    assert not _docs(_items(cpc=None))["9646230"].classes


def test_assignees_with_their_locations() -> None:
    docs = _docs(_items())
    (bmw,) = docs["9686126"].actors
    assert (bmw.name, bmw.country, bmw.city, bmw.geolocation) == (
        "Bayerische Motoren Werke Aktiengesellschaft", "DE", "München", "48.1372,11.5755")
    assert (bmw.role, bmw.kind, bmw.id_scheme, bmw.native_id) == ("assignee", "assignee", "patentsview_assignee",
                                                                  "asg-bmw")
    ibm, cea = docs["9460383"].actors  # two assignees, in assignee_sequence order
    assert (ibm.native_id, cea.native_id, cea.country, cea.city) == ("asg-ibm", "asg-cea", "FR", "Grenoble")
    # the same assignee on two patents is one actor
    assert docs["9646230"].actors[0].actor_id == ibm.actor_id
    (person,) = docs["9928461"].actors  # an individual assignee is named by first and last name
    assert (person.name, person.country, person.city) == ("Giulia Rossi", "IT", "Torino")
    (navy,) = docs["5535303"].actors  # its location_id is missing from the location table
    assert (navy.name[:30], navy.country, navy.city) == ("The United States of America a", None, None)


def test_inventors_fill_in_when_no_assignee_has_a_location() -> None:
    docs = _docs(_items())
    assert [(a.name, a.role, a.country, a.city, a.id_scheme, a.native_id) for a in docs["9095303"].actors] == [
        ("Maja Novak", "inventor", "SI", "Ljubljana", "patentsview_inventor", "inv-005"),
        ("Luka Kranjc", "inventor", "SI", "Ljubljana", "patentsview_inventor", "inv-006"),
    ]  # no assignee row at all
    assert [(a.role, a.country) for a in docs["8755958"].actors] == [("assignee", None), ("inventor", "AT")]
    assert [a.role for a in docs["9686126"].actors] == ["assignee"]  # assignee located: inventors not added


@pytest.mark.parametrize(("policy", "roles"), [("always", ["assignee", "inventor"]), ("never", ["assignee"])])
def test_inventor_policy(policy: str, roles: list[str]) -> None:
    docs = _docs(_items(inventors=policy))
    assert [a.role for a in docs["9686126"].actors] == roles
    assert bool(docs["9095303"].actors) == (policy == "always")


def _comparable(item: IngestItem) -> tuple[object, ...]:
    if isinstance(item, Document):
        return item.native_id, item.title, item.text, item.date, item.actors, item.classes, item.provenance_row
    if isinstance(item, QuarantineRecord):
        return Path(item.file).name.removesuffix(".zip"), item.row, item.field, item.reason.split(":")[0], item.raw
    return (Path(item.file).name.removesuffix(".zip"), item.encoding)


def test_zipped_tables_read_like_plain_ones() -> None:
    plain = _items()
    zipped = _items(ZIPPED / "g_patent.tsv.zip", **_tables(ZIPPED, ".tsv.zip"))
    assert [_comparable(i) for i in plain] == [_comparable(i) for i in zipped]
    assert {Path(i.file).name for i in zipped if isinstance(i, FileOpened)} == {
        f"{stem}.tsv.zip" for stem in [*ROLES.values(), "g_patent"]}


def test_file_opened_first_for_every_table() -> None:
    items = _items()
    opened = [i for i in items if isinstance(i, FileOpened)]
    assert len(opened) == 6 and all(i.encoding == "utf-8" for i in opened)
    first_other = next(n for n, i in enumerate(items) if not isinstance(i, FileOpened))
    assert all(isinstance(i, FileOpened) for i in items[:first_other]) and first_other == 6


def test_withdrawn_missing_abstract_and_orphans_are_quarantined() -> None:
    q = [i for i in _items() if isinstance(i, QuarantineRecord)]
    assert _quarantine(q) == {
        ("g_patent.tsv", 8): ("withdrawn", "withdrawn"),
        ("g_patent.tsv", 9): ("patent_abstract", "missing_abstract"),
        ("g_patent_abstract.tsv", 12): ("patent_id", "unknown_patent"),  # 5978505 is not in g_patent
        ("g_cpc_current.tsv", 15): ("patent_id", "unknown_patent"),
    }
    withdrawn = next(r for r in q if r.row == 8)
    assert withdrawn.raw.startswith('"9691289"\t') and withdrawn.source == "pv"
    orphan = next(r for r in q if r.file.endswith("g_cpc_current.tsv"))
    assert orphan.raw == '"5978505"\t0\t"G"\t"G06"\t"G06T"\t"G06T5/00"\t"inventional"\n'
    assert not _quarantine(_items(report_orphans=False)).keys() - {("g_patent.tsv", 8), ("g_patent.tsv", 9)}


def test_abstract_not_required() -> None:
    docs = _docs(_items(require_abstract=False))
    assert docs["9075941"].text == "" and docs["9075941"].title.startswith("Method for optimizing")


def test_no_abstract_source_is_an_error_naming_file_and_column() -> None:
    with pytest.raises(InputError) as err:
        _items(abstract=None)
    assert (Path(err.value.file).name, err.value.field) == ("g_patent.tsv", "patent_abstract")
    assert _docs(_items(abstract=None, require_abstract=False))["9646230"].text == ""


def test_malformed_patent_rows_point_at_physical_lines() -> None:
    items = _items(BAD / "g_patent_malformed.tsv", report_orphans=False)
    assert _quarantine(items) == {
        ("g_patent_malformed.tsv", 4): ("*", "ragged_row"),
        ("g_patent_malformed.tsv", 6): ("patent_id", "duplicate_id"),
        ("g_patent_malformed.tsv", 7): ("patent_id", "missing_id"),
        ("g_patent_malformed.tsv", 8): ("patent_date", "bad_date"),
    }
    docs = _docs(items)
    assert {d.native_id: d.provenance_row for d in docs.values()} == {"9646230": 2, "9686126": 5}
    assert docs["9646230"].title == "Image segmentation in optical character recognition using neural networks"
    ragged = next(i for i in items if isinstance(i, QuarantineRecord) and i.row == 4)
    assert ragged.raw.startswith('"9686126"') and "6 fields, header has 8" in ragged.reason
    # 9460383 had a bad date, so its side rows are not orphans; those of patents absent from this file are
    orphans = {(Path(f).name, r) for f, r in _quarantine(_items(BAD / "g_patent_malformed.tsv"))}
    assert ("g_cpc_current.tsv", 6) not in orphans and ("g_cpc_current.tsv", 7) in orphans


def test_malformed_side_rows() -> None:
    items = _items(cpc=BAD / "g_cpc_malformed.tsv", assignee=BAD / "g_assignee_noname.tsv", report_orphans=False)
    assert _quarantine(items) == {
        ("g_patent.tsv", 8): ("withdrawn", "withdrawn"),
        ("g_patent.tsv", 9): ("patent_abstract", "missing_abstract"),
        ("g_cpc_malformed.tsv", 3): ("cpc_group", "bad_code"),
        ("g_cpc_malformed.tsv", 4): ("*", "ragged_row"),
        ("g_assignee_noname.tsv", 3): ("disambig_assignee_organization", "missing_name"),
    }
    assert _docs(items)["9646230"].classes == (("cpc", "G06V30/148"),)  # the good row still counts


def test_missing_column_names_file_and_column() -> None:
    with pytest.raises(InputError) as err:
        _items(BAD / "g_patent_no_date_column.tsv")
    assert (Path(err.value.file).name, err.value.field) == ("g_patent_no_date_column.tsv", "patent_date")
    assert "g_patent_no_date_column.tsv" in str(err.value) and "patent_date" in str(err.value)
    with pytest.raises(InputError) as side:
        _items(cpc=PLAIN / "g_location_disambiguated.tsv")  # a table in the wrong role
    assert (Path(side.value.file).name, side.value.field) == ("g_location_disambiguated.tsv", "patent_id")


def test_encoding_detected_or_reported_never_mojibake() -> None:
    cp1252 = BAD / "g_location_cp1252.tsv"
    with pytest.raises(InputError) as err:
        _items(location=cp1252, encoding="utf-8")
    assert (Path(err.value.file).name, err.value.row) == ("g_location_cp1252.tsv", 3)  # München
    items = _items(location=cp1252)  # auto: every plausible code page reads ü the same, so it is taken
    docs = _docs(items)
    assert docs["9686126"].actors[0].city == "München"
    assert any(isinstance(i, FileOpened) and i.file == str(cp1252) and i.encoding != "utf-8" for i in items)


def test_streams_lazily() -> None:
    stream = iter_patentsview_bulk(PLAIN / "g_patent.tsv", **_tables(), source="pv")  # type: ignore[arg-type]
    assert isinstance(next(stream), FileOpened)
    stream.close()  # the temporary spool goes with the generator
