"""Organisation resolution on real CORDIS participants and Google Patents assignees (tests/fixtures/organisations)."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from s3text.errors import ConfigError, InputError
from s3text.organisations import OrganisationResolver, Override, load_overrides, normalise_name
from s3text.records import Actor, Document, stable_id
from s3text.store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "organisations"
COLUMNS = ["actor_id", "name", "country", "id_scheme", "native_id", "vat"]


def _row(actor: Actor, vat: str | None = None) -> tuple[str | None, ...]:
    """An `actors` table row, as Store.add_documents writes it."""
    return (actor.actor_id, actor.name, actor.country, actor.id_scheme if actor.native_id else None,
            actor.native_id, vat)


def _frame(actors: list[Actor]) -> pd.DataFrame:
    return pd.DataFrame([_row(a) for a in actors], columns=COLUMNS)


def _participants() -> list[Actor]:
    frame = pd.read_csv(FIXTURES / "participants_variants.csv", dtype=str, keep_default_na=False)
    return [Actor(name=" ".join(r.name.split()), country=r.country or None, native_id=r.pic or None,
                  kind=r.activityType) for r in frame.itertuples()]


def _assignees() -> list[Actor]:
    frame = pd.read_csv(FIXTURES / "assignee_variants.csv", dtype=str)
    return [Actor(name, kind="assignee", role="assignee") for name in frame["name"]]


def _pic(pic: str) -> str:
    return Actor(name="", native_id=pic).actor_id


def _org(res: OrganisationResolver, actor_id: str) -> str:
    return str(res.assignments_.set_index("actor_id").at[actor_id, "org_id"])


def _together(res: OrganisationResolver, *actor_ids: str) -> bool:
    return len({_org(res, a) for a in actor_ids}) == 1


def _by_name(res: OrganisationResolver, frame: pd.DataFrame, name: str) -> str:
    return str(frame.loc[frame["name"] == name, "actor_id"].iloc[0])


@pytest.fixture(scope="module")
def participants() -> pd.DataFrame:
    return _frame(_participants())


@pytest.fixture(scope="module")
def fitted(participants: pd.DataFrame) -> OrganisationResolver:
    return OrganisationResolver().fit(participants)


@pytest.mark.parametrize(("raw", "key"), [
    ("Fraunhofer-Gesellschaft zur Förderung der angewandten Forschung e.V.",
     "fraunhofer gesellschaft zur forderung der angewandten forschung"),
    ("FRAUNHOFER GESELLSCHAFT ZUR FORDERUNG DER ANGEWANDTEN FORSCHUNG EV",
     "fraunhofer gesellschaft zur forderung der angewandten forschung"),
    ("Institut National de la Recherche Agronomique (INRA)", "institut national de la recherche agronomique"),
    ("CENTRE NATIONAL DE LA RECHERCHE SCIENTIFIQUE CNRS", "centre national de la recherche scientifique"),
    ("Straßenbau GmbH & Co. KG", "strassenbau"),
    ("Ferrero S.p.A.", "ferrero"), ("Ferrero SpA", "ferrero"), ("Gorenje d.o.o.", "gorenje"),
    ("Krka, d. d.", "krka"), ("Novo Nordisk A/S", "novo nordisk"), ("Ørsted A/S", "orsted"),
    ("Telefonaktiebolaget Lm Ericsson (Publ)", "telefonaktiebolaget lm ericsson"),
    ("E. I. Du Pont De Nemours & Co., Inc.", "ei du pont de nemours"),
    ("THE UNIVERSITY OF MANCHESTER", "university of manchester"),
    ("Universität Zürich", "universitat zurich"),
    ("AG", "ag"),  # a name that is only a legal form keeps it rather than becoming empty
    ("Helmholtz-Zentrum für Umweltforschung GmbH - UFZ", "helmholtz zentrum fur umweltforschung gmbh ufz"),
])
def test_normalise_name(raw: str, key: str) -> None:
    assert normalise_name(raw) == key


def test_real_variants_in_one_country_merge_by_name(participants: pd.DataFrame, fitted: OrganisationResolver) -> None:
    rules = fitted.assignments_.set_index("actor_id")
    pairs = [("961320441", "999942446"),  # NESTEC SA / NESTEC S.A: legal form spelling only
             ("958154264", "941066065"),  # INOFEA GMBH / INOFEA AG: legal form only
             ("950657522", "996027332"),  # MINISTRSTVO ZA KMETIJSTVO ... / Ministrstvo za kmetijstvo, ...
             ("932760440", "999901706"),  # TEKNOLOGIAN TUTKIMUSKESKUS VTT OY / ... VTT
             ("999494015", "998890578"),  # JULIUS KUHN-INSTITUT / JULIUS KUHN INSTITUT
             ("999888223", "937759529")]  # BTU Cottbus-Senftenberg: one name, two PICs
    for left, right in pairs:
        assert _together(fitted, _pic(left), _pic(right)), (left, right)
        assert rules.at[_pic(left), "rule"] == rules.at[_pic(right), "rule"] == "name"
    assert rules.at[_pic("961320441"), "evidence"] == "nestec"
    orgs = fitted.organisations_.set_index("org_id")
    slovene = orgs.loc[_org(fitted, _pic("950657522"))]
    assert slovene["name"] == "Ministrstvo za kmetijstvo, gozdarstvo in prehrano"  # a tie goes to mixed case
    assert json.loads(slovene["aliases"]) == ["MINISTRSTVO ZA KMETIJSTVO GOZDARSTVO IN PREHRANO",
                                              "Ministrstvo za kmetijstvo, gozdarstvo in prehrano"]
    assert slovene["actors"] == 2 and slovene["country"] == "SI"
    assert len(fitted.organisations_) == len(participants) - len(pairs)


def test_canonical_name_is_the_most_frequent_spelling_then_not_all_caps() -> None:
    rows = [("p1", "EURAC RESEARCH", "IT", "pic", "1", None), ("p2", "Eurac Research", "IT", "pic", "2", None)]
    res = OrganisationResolver().fit(pd.DataFrame(rows, columns=COLUMNS))
    assert res.organisations_["name"].tolist() == ["Eurac Research"]
    res = OrganisationResolver().fit(pd.DataFrame([*rows, rows[0]], columns=COLUMNS))  # one more row of p1
    assert res.organisations_["name"].tolist() == ["EURAC RESEARCH"]
    assert res.organisations_["actors"].tolist() == [2]


def test_different_bodies_stay_apart(fitted: OrganisationResolver) -> None:
    apart = [("999646693", "986874024"),  # COUNCIL FOR SCIENTIFIC AND INDUSTRIAL RESEARCH: ZA and GH
             ("998078882", "952440964"),  # CEPF ASBL registered in LU and in BE
             ("997580981", "999537859"),  # INSTITUTE OF AGRICULTURAL ECONOMICS: RO and BG
             ("991247948", "999931582"),  # AIRBUS OPERATIONS SAS (FR) / LIMITED (UK)
             ("999995796", "999923531"),  # Università degli Studi di Milano / Milano-Bicocca: a prefix, no connector
             ("999871927", "951739654"),  # SOPRONI EGYETEM / its nonprofit Kft
             ("997320148", "998163272"),  # INRA Maroc / INRA d'Algérie: a prefix, other country
             ("999993274", "999793260"),  # INRAE / INRAE TRANSFERT SAS
             ("999994632", "986090458")]  # two Helmholtz centres
    for left, right in apart:
        assert not _together(fitted, _pic(left), _pic(right)), (left, right)
    assert (fitted.assignments_.set_index("actor_id").at[_pic("999997930"), "evidence"]
            == "centre national de la recherche scientifique")


def test_names_across_countries_joins_national_branches(participants: pd.DataFrame) -> None:
    res = OrganisationResolver(names_across_countries=True).fit(participants)
    assert _together(res, _pic("954068430"), _pic("998223412"), _pic("994970032"))  # BAYER CROPSCIENCE NV/AG/SA
    assert _together(res, _pic("999646693"), _pic("986874024"))
    assert not _together(res, _pic("999995796"), _pic("999923531"))


def test_identifier_merges_spellings_and_wins_over_names() -> None:
    old = Actor("FRAUNHOFER GESELLSCHAFT ZUR FORDERUNG DER ANGEWANDTEN FORSCHUNG EV", "DE", native_id="999984059")
    frame = _frame([old]).assign(name=["Fraunhofer-Gesellschaft"])  # another spelling of the same PIC
    frame = pd.concat([_frame([old]), frame.assign(actor_id="legacy-id")], ignore_index=True)
    res = OrganisationResolver().fit(frame)
    assert _together(res, old.actor_id, "legacy-id")
    assert set(res.assignments_["rule"]) == {"identifier"}
    assert set(res.assignments_["evidence"]) == {"pic=999984059"}
    assert res.organisations_["org_id"].tolist() == [stable_id("org", min(old.actor_id, "legacy-id"))]


def test_vat_merges_across_spellings_but_not_placeholders() -> None:
    frame = pd.DataFrame([("a", "Eurac Research", "IT", None, None, "IT 02 003 000 212"),
                          ("b", "Accademia Europea di Bolzano", "IT", None, None, "it02003000212"),
                          ("c", "Alpha", "IT", None, None, "MISSING"),
                          ("d", "Beta", "IT", None, None, "MISSING")], columns=COLUMNS)
    res = OrganisationResolver().fit(frame)
    assert _together(res, "a", "b") and not _together(res, "c", "d")
    assert res.assignments_.set_index("actor_id").at["a", "evidence"] == "vat=IT02003000212"
    assert res.assignments_["rule"].tolist() == ["vat", "vat", "singleton", "singleton"]


def test_assignees_without_country_join_their_unique_namesake(participants: pd.DataFrame) -> None:
    frame = pd.concat([participants, _frame(_assignees())], ignore_index=True)
    res = OrganisationResolver().fit(frame)
    by = {name: _by_name(res, frame, name) for name in frame["name"]}
    for name, pic in [("Universität Zürich", "999976396"), ("Syddansk Universitet", "999904616"),
                      ("King's College London", "999981052"), ("The University Of Manchester", "999903840"),
                      ("Ecole Polytechnique Federale De Lausanne (Epfl)", "999973971"),
                      ("Commissariat A L'energie Atomique Et Aux Energies Alternatives", "999992401")]:
        assert _together(res, by[name], _pic(pic)), name
    epfl = res.organisations_.set_index("org_id").loc[_org(res, _pic("999973971"))]
    assert "Epfl" in json.loads(epfl["aliases"]) and epfl["country"] == "CH"
    for left, right in [("Koninklijke Philips Electronics N.V.", "Koninklijke Philips Electronics, N.V."),
                        ("Stmicroelectronics", "Stmicroelectronics S.R.L."), ("Alcatel", "Alcatel N.V."),
                        ("Telefonaktiebolaget Lm Ericsson", "Telefonaktiebolaget Lm Ericsson (Publ)"),
                        ("Hewlett-Packard", "Hewlett-Packard Company"), ("Deere & Co", "Deere & Company"),
                        ("E. I. Du Pont De Nemours & Co. (Inc.)", "E. I. Du Pont De Nemours & Co., Inc.")]:
        assert _together(res, by[left], by[right]), left
    # Left apart on purpose: a renaming, and an ae/oe/ue transliteration ("Foerderung" vs "FORDERUNG")
    assert not _together(res, by["Commissariat A L'energie Atomique"], _pic("999992401"))
    assert not _together(res, by["Fraunhofer-Gesellschaft Zur Foerderung Der Angewandten Forschung E.V."],
                         _pic("999984059"))


def test_name_prefix_joins_a_long_form_unless_ambiguous_or_contradicted(participants: pd.DataFrame) -> None:
    short = Actor("FRAUNHOFER GESELLSCHAFT", "DE")  # e.g. from a company website: no PIC
    helmholtz = Actor("Helmholtz-Zentrum", "DE")
    res = OrganisationResolver().fit(pd.concat([participants, _frame([short, helmholtz])], ignore_index=True))
    assert _together(res, short.actor_id, _pic("999984059"))
    placed = res.assignments_.set_index("actor_id").loc[short.actor_id]
    assert placed["rule"] == "name_prefix"
    assert placed["evidence"] == ("fraunhofer gesellschaft < "
                                  "fraunhofer gesellschaft zur forderung der angewandten forschung")
    assert not _together(res, helmholtz.actor_id, _pic("999994632"))  # Leipzig or Kiel? refused
    assert not _together(res, helmholtz.actor_id, _pic("986090458"))
    assert res.refused_.set_index("actor_id").at[helmholtz.actor_id, "reason"] == "ambiguous"
    other_pic = Actor("FRAUNHOFER GESELLSCHAFT", "DE", native_id="900000001")
    res = OrganisationResolver().fit(pd.concat([participants, _frame([other_pic])], ignore_index=True))
    assert not _together(res, other_pic.actor_id, _pic("999984059"))
    assert res.refused_["reason"].tolist() == ["different identifiers"]


def test_split_override_undoes_a_name_and_an_identifier_merge(participants: pd.DataFrame) -> None:
    a, b = _pic("961320441"), _pic("999942446")
    res = OrganisationResolver(overrides=[Override("split", a, b, "two Nestlé entities")]).fit(participants)
    assert not _together(res, a, b)
    assert set(res.assignments_.set_index("actor_id").loc[[a, b], "rule"]) == {"singleton"}
    refused = res.refused_.iloc[0]
    assert (refused["rule"], refused["evidence"], refused["reason"]) == ("name", "nestec", f"split override {a} / {b}")
    same_pic = pd.DataFrame([("x", "Eurac", "IT", "pic", "1", None), ("y", "Eurac Research", "IT", "pic", "1", None)],
                            columns=COLUMNS)
    assert _together(OrganisationResolver().fit(same_pic), "x", "y")
    assert not _together(OrganisationResolver(overrides=[Override("split", "y", "x")]).fit(same_pic), "x", "y")


def test_split_is_kept_through_transitive_links() -> None:
    # x -pic- y -name- z: splitting x from z must leave y with exactly one of them
    frame = pd.DataFrame([("x", "Eurac", "IT", "pic", "1", None), ("y", "Eurac Research", "IT", "pic", "1", None),
                          ("z", "EURAC RESEARCH", "IT", None, None, None)], columns=COLUMNS)
    res = OrganisationResolver(overrides=[Override("split", "x", "z")]).fit(frame)
    assert not _together(res, "x", "z") and _together(res, "x", "y")
    assert res.refused_["actor_id"].tolist() == ["y"] and res.refused_["other_actor_id"].tolist() == ["z"]


def test_merge_override_joins_two_languages(participants: pd.DataFrame) -> None:
    german, english = _pic("999976396"), _pic("888898144")  # UNIVERSITAT ZURICH / University of Zurich
    assert not _together(OrganisationResolver().fit(participants), german, english)
    res = OrganisationResolver(overrides=[Override("merge", english, german, "UZH, two PICs")]).fit(participants)
    assert _together(res, german, english)
    assert res.assignments_.set_index("actor_id").at[german, "rule"] == "override"
    assert res.assignments_.set_index("actor_id").at[german, "evidence"] == "UZH, two PICs"
    unknown = OrganisationResolver(overrides=[Override("merge", german, "not-ingested")]).fit(participants)
    assert unknown.refused_["reason"].tolist() == ["unknown actor"]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["action", "actor_id", "other_actor_id", "note"], *rows])
    return path


def test_removing_an_override_line_restores_the_previous_result(participants: pd.DataFrame, tmp_path: Path) -> None:
    before = OrganisationResolver().fit(participants)
    lines = [["split", _pic("961320441"), _pic("999942446"), "checked by hand"],
             ["merge", _pic("999976396"), _pic("888898144"), "UZH"]]
    edited = OrganisationResolver(overrides=load_overrides(_write(tmp_path / "o.csv", lines))).fit(participants)
    assert not edited.assignments_.equals(before.assignments_)
    assert len(edited.organisations_) == len(before.organisations_)  # one split, one merge
    again = OrganisationResolver(overrides=load_overrides(_write(tmp_path / "o.csv", []))).fit(participants)
    pd.testing.assert_frame_equal(again.assignments_, before.assignments_)
    pd.testing.assert_frame_equal(again.organisations_, before.organisations_)


def test_org_ids_do_not_depend_on_row_order(participants: pd.DataFrame) -> None:
    frame = pd.concat([participants, _frame(_assignees())], ignore_index=True)
    first = OrganisationResolver().fit(frame)
    for seed in range(3):
        shuffled = OrganisationResolver().fit(frame.sample(frac=1, random_state=seed))
        pd.testing.assert_frame_equal(shuffled.assignments_, first.assignments_)
        pd.testing.assert_frame_equal(shuffled.organisations_, first.organisations_)
    nestec = sorted([_pic("961320441"), _pic("999942446")])
    assert _org(first, nestec[1]) == stable_id("org", nestec[0])


@pytest.mark.parametrize(("rows", "row", "field"), [
    ([["merge", "a", "b", ""], ["join", "a", "c", ""]], 3, "action"),
    ([["split", "a", "", "no partner"]], 2, "other_actor_id"),
    ([["split", " ", "b", ""]], 2, "actor_id"),
    ([["merge", "a", "a", ""]], 2, "other_actor_id"),
    ([["merge", "a", "b", ""], ["split", "b", "a", ""]], 3, "action"),
])
def test_bad_override_rows_are_named(tmp_path: Path, rows: list[list[str]], row: int, field: str) -> None:
    path = _write(tmp_path / "overrides.csv", rows)
    with pytest.raises(InputError) as info:
        load_overrides(path)
    assert (info.value.file, info.value.row, info.value.field) == (str(path), row, field)
    assert "overrides.csv" in str(info.value) and f"row {row}" in str(info.value)


def test_overrides_file_without_a_column_or_missing_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("action,actor_id\nmerge,a\n", encoding="utf-8")
    with pytest.raises(InputError, match="other_actor_id"):
        load_overrides(path)
    with pytest.raises(InputError, match="cannot read"):
        load_overrides(tmp_path / "absent.csv")
    assert load_overrides(_write(path, [["Merge", " a ", "b", " n "]])) == [Override("merge", "a", "b", "n")]


def test_contradictory_overrides_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="both merge and split"):
        OrganisationResolver(overrides=[Override("merge", "a", "b"), Override("split", "b", "a")])


def test_outputs_fit_the_store_tables(tmp_path: Path) -> None:
    docs = [Document("cordis", "project", str(i), "t", "x", date(2020, 1, 1), "f.csv", i + 2, actors=(actor,))
            for i, actor in enumerate(_participants() + _assignees())]
    with Store(tmp_path / "s.duckdb") as store:
        store.add_documents(docs, "run")
        res = OrganisationResolver().fit(store.query("SELECT * FROM actors"))
        with store.transaction():
            for table, frame in (("organisations", res.organisations_), ("actor_orgs", res.assignments_)):
                store.con.register("incoming", frame)
                store.con.execute(f"INSERT INTO {table} ({', '.join(frame.columns)}) SELECT * FROM incoming")
                store.con.unregister("incoming")
        assert store.count("actor_orgs") == store.count("actors")
        assert store.query("SELECT count(*) AS n FROM actor_orgs LEFT JOIN organisations USING (org_id) "
                           "WHERE organisations.name IS NULL")["n"].iloc[0] == 0
        assert store.query("SELECT sum(actors) AS n FROM organisations")["n"].iloc[0] == store.count("actors")
