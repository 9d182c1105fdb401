"""Placing actors through the bundled organisation register (real rows) and the real gazetteer."""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from pathlib import Path

import pytest

from s3text.errors import InputError
from s3text.gazetteer import Gazetteer
from s3text.organisations import legal_form
from s3text.records import Actor
from s3text.regions import NutsTable, RegionResolver
from s3text.register import REGISTER_COLUMNS, OrganisationRegister

DATA = Path(__file__).resolve().parents[2] / "data"
REGISTER = DATA / "organisations" / "cordis_fp7_organisations.csv.gz"
PARTICIPANTS = DATA / "cordis_fp7" / "participants.csv"


@pytest.fixture(scope="module")
def resolver() -> RegionResolver:
    return RegionResolver(NutsTable.load(DATA / "nuts" / "nuts2021.csv"),
                          Gazetteer.load(DATA / "nuts" / "gazetteer_lau2020_nuts2021.csv.gz"),
                          register=OrganisationRegister.load(REGISTER))


def test_register_loads_every_row(resolver: RegionResolver) -> None:
    assert resolver.register is not None and resolver.register.size == 30399


def test_exact_name_without_country_is_placed_at_the_seat(resolver: RegionResolver) -> None:
    # A Google Patents assignee: a name, no country, no city.
    m = resolver.resolve(Actor("Siemens Aktiengesellschaft", kind="assignee"))
    assert (m.nuts_code, m.level, m.method, m.reason) == ("DE212", 3, "register", None)
    assert m.note is not None and "999987260" in m.note and "MUNCHEN" in m.note


def test_legal_form_spellings_and_accents_match(resolver: RegionResolver) -> None:
    madrid = resolver.resolve(Actor("Telefonica, S.A."))  # register: "TELEFONICA SA"
    assert (madrid.nuts_code, madrid.method) == ("ES300", "register")
    gaggenau = resolver.resolve(Actor("Precitec GmbH & Co. KG", country="DE"))  # "PRECITEC GMBH & CO KG"
    assert (gaggenau.nuts_code, gaggenau.method) == (resolver.gazetteer.lookup("DE", "Gaggenau"), "register")
    wien = resolver.resolve(Actor("Universität Wien", country="AT"))  # "UNIVERSITAT WIEN"
    assert (wien.nuts_code, wien.method) == ("AT130", "register")
    montpellier = resolver.resolve(Actor("UNIVERSITE DE MONTPELLIER", country="FR"))  # "Université de Montpellier"
    assert (montpellier.nuts_code, montpellier.method) == (resolver.gazetteer.lookup("FR", "Montpellier"), "register")
    cnrs = resolver.resolve(Actor("Centre National de la Recherche Scientifique (CNRS)", country="FR"))
    assert (cnrs.nuts_code, cnrs.method) == ("FR101", "register")


def test_wrong_country_is_refused(resolver: RegionResolver) -> None:
    m = resolver.resolve(Actor("SIEMENS AKTIENGESELLSCHAFT", country="FR"))
    assert (m.nuts_code, m.level, m.method, m.reason) == ("FR", 0, "country", "not_in_register")
    assert m.note is not None and "in FR" in m.note


def test_subsidiary_of_another_legal_form_is_refused_without_a_country(resolver: RegionResolver) -> None:
    # The register holds MICROSOFT NV (Belgium); the patents' Microsoft Corporation is the US parent.
    m = resolver.resolve(Actor("Microsoft Corporation"))
    assert (m.nuts_code, m.method, m.reason) == (None, "unresolved", "not_in_register")


def test_ambiguous_match_places_nothing_and_names_the_entries(resolver: RegionResolver) -> None:
    # Two FR entries: SAFT (Levallois-Perret, FR105) and SAFT SA (Bagnolet, FR106).
    m = resolver.resolve(Actor("Saft", country="FR"))
    assert (m.nuts_code, m.level, m.method, m.reason) == ("FR", 0, "country", "ambiguous_register")
    assert m.note is not None and "963494405" in m.note and "998825588" in m.note


def test_register_entry_outside_nuts_is_said_so(resolver: RegionResolver) -> None:
    m = resolver.resolve(Actor("Motorola, Inc."))  # MOTOROLA INC, Schaumburg IL, US
    assert (m.nuts_code, m.method, m.reason) == (None, "unresolved", "outside_nuts")


def test_actors_own_city_beats_the_register(resolver: RegionResolver) -> None:
    m = resolver.resolve(Actor("CENTRE NATIONAL DE LA RECHERCHE SCIENTIFIQUE", country="FR", city="Montpellier"))
    assert (m.nuts_code, m.method) == (resolver.gazetteer.lookup("FR", "Montpellier"), "gazetteer")


def test_country_only_fp7_participants_are_placed_through_the_register(resolver: RegionResolver) -> None:
    """A CORDIS scrape with country only: the FP7 participants without their cities. Their real
    cities, through the gazetteer, say whether the register placed them right. (The register is
    CORDIS FP7 too, so nearly all are in it: this checks the matching, not coverage of other data.)"""
    with PARTICIPANTS.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["country"]]
    matches = resolver.resolve_many([Actor(name=r["name"], country=r["country"]) for r in rows])
    methods = Counter(m.method for m in matches)
    # Measured: 2,668 of 4,059 (65.7 %) placed by the register, none by the gazetteer (no cities).
    assert methods["register"] / len(rows) >= 0.63 and methods["gazetteer"] == 0
    truth = [(m.nuts_code, resolver.gazetteer.lookup(r["country"], r["city"]))
             for r, m in zip(rows, matches, strict=True) if m.method == "register"]
    checked = [(got, real) for got, real in truth if got and real]
    # Measured: 2,642 of 2,656 in the NUTS-2 region of their real city (99.5 %), 2,633 in its NUTS-3.
    assert sum(got[:4] == real[:4] for got, real in checked) / len(checked) >= 0.98


def _write(path: Path, rows: list[list[str]]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _real_rows(n: int) -> list[list[str]]:
    with gzip.open(REGISTER, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        return [row for _, row in zip(range(n + 1), reader, strict=False)]


def test_malformed_register_names_file_row_and_field(tmp_path: Path) -> None:
    header, *rows = _real_rows(3)
    assert tuple(header) == REGISTER_COLUMNS
    missing = _write(tmp_path / "missing.csv.gz", [header[:-1], *(r[:-1] for r in rows)])
    with pytest.raises(InputError, match=r"missing\.csv\.gz, row 1: missing columns \['city'\]"):
        OrganisationRegister.load(missing)
    no_name = _write(tmp_path / "no_name.csv.gz", [header, rows[0], [rows[1][0], "", *rows[1][2:]]])
    with pytest.raises(InputError, match=r"no_name\.csv\.gz, row 3, field 'name': empty name"):
        OrganisationRegister.load(no_name)
    twice = _write(tmp_path / "twice.csv.gz", [header, rows[0], rows[1], rows[0]])
    with pytest.raises(InputError, match=r"row 4, field 'org_id': org_id \d+ already on row 2"):
        OrganisationRegister.load(twice)
    ragged = _write(tmp_path / "ragged.csv.gz", [header, rows[0][:3]])
    with pytest.raises(InputError, match=r"ragged\.csv\.gz, row 2: 3 fields, expected 5"):
        OrganisationRegister.load(ragged)


@pytest.mark.parametrize(("name", "form"), [
    ("Microsoft Corporation", "corporation"), ("MICROSOFT CORP.", "corporation"), ("MICROSOFT NV", "nv"),
    ("PRECITEC GMBH & CO KG", "gmbh co kg"), ("Telefonica, S.A.", "sa"), ("Siemens Aktiengesellschaft", ""),
    ("Aison Co., Ltd.", "co ltd"), ("Aison Company Limited", "co ltd"),
])
def test_legal_form_spellings(name: str, form: str) -> None:
    assert legal_form(name) == form
