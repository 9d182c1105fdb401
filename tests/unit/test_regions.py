"""Region resolution against the real bundled tables in data/nuts/ (no mocks, no ../shared)."""

from __future__ import annotations

import csv
import gzip
import logging
from collections import Counter
from pathlib import Path

import pytest

from s3text.errors import InputError
from s3text.nuts_versions import NutsConverter
from s3text.records import Actor
from s3text.regions import (
    LEGACY_VERSIONS,
    Gazetteer,
    NutsTable,
    RegionMatch,
    RegionResolver,
    canonical_country,
    load_region_sets,
    region_in_set,
    resolution_report,
)

ROOT = Path(__file__).resolve().parents[2]
NUTS_DIR = ROOT / "data" / "nuts"
GAZETTEER = NUTS_DIR / "gazetteer_lau2020_nuts2021.csv.gz"
PARTICIPANTS = ROOT / "data" / "cordis_fp7" / "participants.csv"


@pytest.fixture(scope="module")
def nuts() -> NutsTable:
    return NutsTable.load(NUTS_DIR / "nuts2021.csv")


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load(GAZETTEER)


@pytest.fixture
def resolver(nuts: NutsTable, gaz: Gazetteer) -> RegionResolver:
    return RegionResolver(nuts, gaz)


@pytest.fixture
def converting(nuts: NutsTable, gaz: Gazetteer) -> RegionResolver:
    return RegionResolver(nuts, gaz, NutsConverter.load(NUTS_DIR / "nuts_correspondence.csv"), "2021")


def _gazetteer_rows() -> list[dict[str, str]]:
    with gzip.open(GAZETTEER, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# Expected codes checked against nuts2021.csv labels (FR101 Paris, DE212 München, AT130 Wien,
# SI041 Osrednjeslovenska, ITH10 Bolzano-Bozen, DE21B Freising, FRK14 Puy-de-Dôme, FR103 Yvelines,
# FRJ23 Haute-Garonne, FRL06 Vaucluse) and the gazetteer rows of the municipalities.
@pytest.mark.parametrize(
    ("country", "city", "expected"),
    [
        ("FR", "PARIS", "FR101"),
        ("FR", "Paris 07", "FR101"),
        ("FR", "PARIS CEDEX 07", "FR101"),
        ("FR", "75007 PARIS", "FR101"),
        ("DE", "Muenchen", "DE212"),
        ("DE", "MUNCHEN", "DE212"),
        ("DE", "München", "DE212"),
        ("IT", "Bolzano", "ITH10"),
        ("IT", "BOZEN", "ITH10"),
        ("AT", "Wien", "AT130"),
        ("SI", "LJUBLJANA", "SI041"),
        ("DE", "Freising", "DE21B"),
        ("FR", "Saint-Genès-Champanelle", "FRK14"),
        ("FR", "ST GENES CHAMPANELLE", "FRK14"),
        ("FR", "Thiverval-Grignon", "FR103"),
        ("FR", "Jouy-en-Josas", "FR103"),
        ("FR", "JOUY EN JOSAS", "FR103"),
        ("FR", "Toulouse Cedex 3", "FRJ23"),
        ("FR", "AVIGNON CEDEX 9", "FRL06"),
        ("FR", "VILLENEUVE D ASCQ", "FRE11"),
        ("FR", "Marcq En Baroeul", "FRE11"),  # source spells it with a broken œ; the build repairs it
        ("DE", "Bonn", "DEA22"),  # LAU "Bonn, Stadt"
        ("DE", "Garching", "DE21H"),  # LAU "Garching b.München, St"
        ("DE", "Koeln", "DEA23"),
        ("CH", "ZUERICH", "CH040"),
        ("IT", "Reggio Emilia", "ITH53"),  # LAU "Reggio nell'Emilia"
        ("BE", "ZWIJNAARDE - GENT", "BE234"),
        ("EL", "VOLOS", "EL613"),  # LAU is the Greek genitive "Κοινότητα Βόλου"
        ("GR", "Thessaloniki", "EL522"),
        ("GB", "Edinburgh", "UKM75"),  # LAU "City of Edinburgh"; NUTS 2016
        ("DE", "Munich", "DE212"),  # curated alias
        ("PT", "LISBOA", "PT170"),  # curated alias: Portuguese LAUs are parishes
        # Letters that do not decompose (s3text.textfold.LETTERS): LAU "Łódź", "Białystok", "Tromsø", "Ærø"
        ("PL", "LODZ", "PL711"),
        ("PL", "BIALYSTOK", "PL841"),
        ("NO", "TROMSO", "NO074"),
        ("DK", "AEROE", "DK031"),  # and the Danish "oe" for ø
    ],
)
def test_messy_city_names_resolve_to_nuts3(gaz: Gazetteer, country: str, city: str, expected: str) -> None:
    assert gaz.lookup(country, city) == expected


def test_expected_codes_are_the_regions_their_labels_say(nuts: NutsTable) -> None:
    assert nuts.label("FR101") == "Paris"
    assert nuts.label("DE212") == "München, Kreisfreie Stadt"
    assert nuts.label("AT130") == "Wien"
    assert nuts.label("SI041") == "Osrednjeslovenska"
    assert nuts.label("ITH10") == "Bolzano-Bozen"
    assert nuts.label("DE21B") == "Freising"


def test_lookup_returns_none_for_unknown_inputs(gaz: Gazetteer) -> None:
    assert gaz.lookup("FR", "Xyzzyville") is None
    assert gaz.lookup("US", "Boston") is None
    assert gaz.lookup(None, "Paris") is None
    assert gaz.lookup("FR", "") is None
    assert gaz.lookup("FR", "CEDEX 07") is None  # nothing left once postal noise is dropped


def test_country_codes_map_to_eurostat_style() -> None:
    assert canonical_country("GB") == "UK"
    assert canonical_country(" gr ") == "EL"
    assert canonical_country("FR") == "FR"
    assert canonical_country("") is None


def test_nuts_table_levels_labels_and_ancestors(nuts: NutsTable) -> None:
    assert nuts.version == "2021"
    assert nuts.ancestor("FR101", 2) == "FR10"
    assert nuts.ancestor("FR101", 1) == "FR1"
    assert nuts.ancestor("FR101", 0) == "FR"
    assert nuts.ancestor("FR101", 3) == "FR101"
    assert nuts.ancestor("FR10", 3) is None  # no descendant by prefix
    assert nuts.ancestor("XX101", 2) is None  # not in the table
    assert nuts.ancestor("ITH10", 2) == "ITH1"
    assert [nuts.level(c) for c in ("IT", "ITH", "ITH1", "ITH10")] == [0, 1, 2, 3]
    assert nuts.label("DE21") == "Oberbayern"
    assert nuts.label("FR") is None  # country rows carry no label
    assert nuts.is_valid("FR101") and not nuts.is_valid("FR999") and not nuts.is_valid(None)
    assert nuts.level("UKI32") is None  # the UK is not in NUTS 2021
    # Statistical-region countries have no level-0 row; the table supplies one from parent_code.
    assert nuts.level("CH") == 0 and nuts.ancestor("CH011", 0) == "CH"


def test_homonyms_go_to_the_most_populous_municipality(gaz: Gazetteer) -> None:
    rows = _gazetteer_rows()
    for name, expected in [("Montreuil", "FR106"), ("Beaumont", "FRK14"), ("Valence", "FRK23")]:
        same = [r for r in rows if r["country"] == "FR" and r["name"] == name]
        assert len({r["nuts3_code"] for r in same}) >= 3, f"{name} should be a real homonym"
        assert max(same, key=lambda r: int(r["population"] or 0))["nuts3_code"] == expected
        assert gaz.lookup("FR", name.upper()) == expected
    # Saint-Denis (La Réunion, 147,931) outnumbers Saint-Denis (Seine-Saint-Denis, 111,135); the
    # source filed Réunion under FRY50 Mayotte, which the build corrects to FRY40.
    assert gaz.lookup("FR", "Saint-Denis") == "FRY40"
    # German everyday names compete with the full ones: the big Freiburg and Frankfurt win.
    assert gaz.lookup("DE", "Freiburg") == "DE131"  # not "Freiburg (Elbe)", 1,869 people
    assert gaz.lookup("DE", "FRANKFURT") == "DE712"  # not "Frankfurt (Oder)"
    assert gaz.lookup("DE", "Frankfurt (Oder)") == "DE403"


def test_every_curated_alias_points_at_a_nuts3_of_its_country(nuts: NutsTable, gaz: Gazetteer) -> None:
    with (NUTS_DIR / "city_aliases.csv").open(encoding="utf-8", newline="") as fh:
        aliases = list(csv.DictReader(fh))
    assert len(aliases) >= 40
    for row in aliases:
        code = row["nuts3_code"]
        assert code.startswith(row["country"]), row
        assert nuts.level(code) == 3 and code in gaz.codes[row["country"]], row
        assert gaz.lookup(row["country"], row["alias"].upper()) == code, row


def test_source_code_wins_over_the_city(resolver: RegionResolver) -> None:
    match = resolver.resolve(Actor(name="EURAC", country="FR", city="Paris", nuts_code="ITH10"))
    assert (match.nuts_code, match.level, match.method) == ("ITH10", 3, "source")
    assert match.label == "Bolzano-Bozen" and match.nuts_version == "2021" and match.note is None
    nuts2 = resolver.resolve(Actor(name="TUM", country="DE", city="Freising", nuts_code=" de21 "))
    assert (nuts2.nuts_code, nuts2.level, nuts2.method, nuts2.label) == ("DE21", 2, "source", "Oberbayern")


def test_invalid_source_code_falls_through_and_is_noted(
    resolver: RegionResolver, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="s3text.regions"):
        match = resolver.resolve(Actor(name="INRAE", country="FR", city="PARIS CEDEX 07", nuts_code="FR999"))
    assert (match.nuts_code, match.level, match.method) == ("FR101", 3, "gazetteer")
    assert match.note is not None and "FR999" in match.note
    assert "FR999" in caplog.text


def test_unknown_city_falls_back_to_country(resolver: RegionResolver) -> None:
    match = resolver.resolve(Actor(name="x", country="FR", city="Xyzzyville"))
    assert (match.nuts_code, match.level, match.method, match.nuts_version) == ("FR", 0, "country", "2021")
    swiss = resolver.resolve(Actor(name="x", country="CH", city=None))
    assert (swiss.nuts_code, swiss.level, swiss.method) == ("CH", 0, "country")
    greek = resolver.resolve(Actor(name="x", country="GR", city="Xyzzy"))
    assert (greek.nuts_code, greek.method) == ("EL", "country")


def test_unknown_country_is_unresolved(resolver: RegionResolver) -> None:
    for actor in (Actor(name="x", country="US", city="Boston"), Actor(name="x")):
        match = resolver.resolve(actor)
        assert (match.nuts_code, match.level, match.method, match.label) == (None, None, "unresolved", None)


def test_uk_codes_are_nuts_2016(resolver: RegionResolver) -> None:
    city = resolver.resolve(Actor(name="x", country="UK", city="Edinburgh"))
    assert (city.nuts_code, city.level, city.nuts_version, city.method) == ("UKM75", 3, "2016", "gazetteer")
    country = resolver.resolve(Actor(name="x", country="GB", city="Xyzzy"))
    assert (country.nuts_code, country.level, country.nuts_version) == ("UK", 0, "2016")
    source = resolver.resolve(Actor(name="x", country="UK", city="Edinburgh", nuts_code="UKI3"))
    assert (source.nuts_code, source.level, source.method) == ("UKI3", 2, "source")
    assert source.nuts_version == "2016"
    bogus = resolver.resolve(Actor(name="x", country="UK", city="Edinburgh", nuts_code="UKQ99"))
    assert (bogus.nuts_code, bogus.method) == ("UKM75", "gazetteer")


def test_resolve_many_keeps_order_and_reuses_matches(resolver: RegionResolver) -> None:
    actors = [
        Actor(name="A", country="FR", city="Paris"),
        Actor(name="B", country="AT", city="Wien"),
        Actor(name="C", country="FR", city="Paris"),  # another organisation, same place
    ]
    matches = resolver.resolve_many(actors)
    assert [m.nuts_code for m in matches] == ["FR101", "AT130", "FR101"]
    assert matches[0] is matches[2]
    assert resolver.resolve_many(actors[:1])[0] is matches[0]


def test_alpine_space_set(nuts: NutsTable, gaz: Gazetteer) -> None:
    sets = load_region_sets(NUTS_DIR / "alpine_space_2021_2027_nuts2.csv")
    assert set(sets) == {"alpine_space"}
    alpine = sets["alpine_space"]
    assert len(alpine) == 42
    assert all(nuts.level(code) == 2 for code in alpine)
    assert {"ITH1", "SI04", "LI00", "FRK2", "DE21", "CH07"} <= alpine
    bolzano = gaz.lookup("IT", "Bolzano")
    assert bolzano == "ITH10" and nuts.ancestor(bolzano, 2) == "ITH1"
    assert region_in_set(bolzano, alpine)  # NUTS-3 counts through its NUTS-2 ancestor
    assert region_in_set("ITH1", alpine)
    assert not region_in_set("ITH", alpine)  # a NUTS-1 containing an Alpine region is not in it
    assert not region_in_set(gaz.lookup("FR", "Paris"), alpine)
    assert not region_in_set(None, alpine)


def test_gazetteer_file_is_reproducible_and_complete() -> None:
    blob = GAZETTEER.read_bytes()
    assert blob[4:8] == b"\0\0\0\0", "gzip mtime must be 0 so rebuilds give identical bytes"
    assert len(blob) < 1_500_000
    rows = _gazetteer_rows()
    assert list(rows[0]) == ["country", "name", "nuts3_code", "population"]
    counts = Counter(r["country"] for r in rows)
    assert len(counts) == 35 and sum(counts.values()) > 98_000
    assert all(counts[c] > 0 for c in ("AT", "CH", "DE", "FR", "IT", "LI", "SI"))


def test_bad_gazetteer_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("country,name,nuts3_code,population\nFR,Paris,FR101,many\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"S3E010.*row 2.*population"):
        Gazetteer.load(path)
    with pytest.raises(InputError, match="missing columns"):
        NutsTable.load(path)


def test_coverage_on_fp7_participants(resolver: RegionResolver) -> None:
    with PARTICIPANTS.open(encoding="utf-8", newline="") as fh:  # bundled: a missing file is a failure
        actors = [Actor(name=r["name"], country=r["country"], city=r["city"]) for r in csv.DictReader(fh)]
    assert len(actors) == 4061
    matches = resolver.resolve_many(actors)
    levels = Counter(m.level for m in matches)
    share = {level: n / len(actors) for level, n in levels.items()}
    # Measured: 86.4 % NUTS-3, 7.1 % country only, 6.5 % unresolved (countries outside NUTS:
    # IL, US, CN, RU, ...). Floors sit a little below so a regression fails.
    assert share[3] >= 0.85
    assert share.get(None, 0) <= 0.07

    # Unresolved are exactly the actors of countries outside NUTS, as the NUTS table says.
    def in_nuts(country: str | None) -> bool:
        cc = canonical_country(country)
        return cc is not None and (resolver.nuts.level(cc) == 0 or cc in LEGACY_VERSIONS)

    assert [m.level is None for m in matches] == [not in_nuts(a.country) for a in actors]


def test_source_code_of_another_version_is_converted(converting: RegionResolver) -> None:
    zagreb = converting.resolve(Actor(name="x", country="HR", city="Split", nuts_code="HR041", nuts_version="2016"))
    assert (zagreb.nuts_code, zagreb.level, zagreb.method, zagreb.label) == ("HR050", 3, "source", "Grad Zagreb")
    assert (zagreb.source_code, zagreb.source_version, zagreb.nuts_version) == ("HR041", "2016", "2021")
    assert zagreb.note is not None and "recoded" in zagreb.note
    haag = converting.resolve(Actor(name="x", country="NL", nuts_code="nl 361", nuts_version="2024"))
    assert (haag.nuts_code, haag.source_code, haag.source_version) == ("NL332", "NL361", "2024")
    same = converting.resolve(Actor(name="x", country="DE", nuts_code="DE212", nuts_version="2016"))
    assert (same.nuts_code, same.source_version, same.note) == ("DE212", "2016", None)


def test_a_split_region_is_placed_in_the_region_holding_its_parts(converting: RegionResolver) -> None:
    cagliari = converting.resolve(Actor(name="x", country="IT", nuts_code="ITG27", nuts_version="2016"))
    assert (cagliari.nuts_code, cagliari.level, cagliari.method) == ("ITG2", 2, "source")
    assert cagliari.note is not None and "split" in cagliari.note


def test_code_without_version_tries_the_target_then_2024_2016_2013(converting: RegionResolver) -> None:
    current = converting.resolve(Actor(name="x", country="DE", nuts_code="DE212"))
    assert (current.nuts_code, current.source_version, current.note) == ("DE212", "2021", None)
    newer = converting.resolve(Actor(name="x", country="PT", nuts_code="PT1A0"))  # Grande Lisboa, 2024
    assert (newer.nuts_code, newer.source_version) == ("PT170", "2024")
    older = converting.resolve(Actor(name="x", country="HR", nuts_code="HR041"))
    assert (older.nuts_code, older.source_version) == ("HR050", "2016")
    oldest = converting.resolve(Actor(name="x", country="FR", nuts_code="FR711"))  # Ain, NUTS 2013
    assert (oldest.nuts_code, oldest.source_version) == ("FRK21", "2013")


def test_code_without_a_region_in_the_target_falls_back(converting: RegionResolver) -> None:
    kosovo = converting.resolve(Actor(name="x", country="DE", city="Freising", nuts_code="XK001", nuts_version="2024"))
    assert (kosovo.nuts_code, kosovo.method, kosovo.source_code, kosovo.source_version) == (
        "DE21B", "gazetteer", "XK001", "2024")
    assert kosovo.note is not None and "new" in kosovo.note
    # A code the declared version lacks is still read as a target code, with a note.
    mislabelled = converting.resolve(Actor(name="x", country="HR", nuts_code="HR050", nuts_version="2013"))
    assert (mislabelled.nuts_code, mislabelled.method, mislabelled.source_version) == ("HR050", "source", "2021")
    assert mislabelled.note == "not a NUTS 2013 code; read as NUTS 2021"
    # UK codes stay NUTS 2016 and are not converted.
    uk = converting.resolve(Actor(name="x", country="UK", nuts_code="UKM75"))
    assert (uk.nuts_code, uk.nuts_version, uk.source_version) == ("UKM75", "2016", "2016")


def test_cache_tells_versions_apart(converting: RegionResolver) -> None:
    actors = [Actor(name="x", nuts_code="NO072", nuts_version=v) for v in ("2016", "2024", "2016")]
    old, new, again = converting.resolve_many(actors)
    assert old.nuts_code == new.nuts_code == "NO074"  # Troms: merged in 2020, split again in 2024
    assert (old.source_version, new.source_version) == ("2016", "2024")
    assert again is old


def test_target_version_must_be_the_tables(nuts: NutsTable, gaz: Gazetteer) -> None:
    with pytest.raises(ValueError, match="2024"):
        RegionResolver(nuts, gaz, None, "2024")


def test_resolution_report_counts_levels_and_methods(converting: RegionResolver) -> None:
    actors = [
        Actor(name="a", country="HR", nuts_code="HR041", nuts_version="2016"),  # NUTS-3, converted
        Actor(name="b", country="IT", nuts_code="ITG27", nuts_version="2016"),  # NUTS-2, split
        Actor(name="c", country="FR", city="Paris"),  # NUTS-3, gazetteer
        Actor(name="d", country="FR", city="Xyzzyville"),  # country
        Actor(name="e", country="US", city="Boston"),  # unresolved
    ]
    report = resolution_report(converting.resolve_many(actors))
    assert report["actors"] == 5
    assert report["by_level"] == {"nuts3": 2, "nuts2": 1, "nuts1": 0, "country": 1, "unresolved": 1}
    assert report["by_level_share"]["nuts3"] == 0.4
    assert report["by_method"] == {"source": 2, "gazetteer": 1, "register": 0, "country": 1, "unresolved": 1}
    assert (report["converted"], report["recoded"]) == (2, 2)
    assert resolution_report([])["by_level_share"]["nuts3"] == 0.0


def test_resolution_report_reads_the_actor_regions_frame() -> None:
    import pandas as pd

    frame = pd.DataFrame({
        "nuts_code": ["DE212", "NL332", None], "level": [3, 3, float("nan")], "nuts_version": ["2021"] * 3,
        "method": ["source", "source", "unresolved"], "source_code": ["DE212", "NL361", None],
        "source_version": ["2021", "2024", None],
    })
    report = resolution_report(frame.itertuples(index=False))
    assert report["by_level"]["nuts3"] == 2 and report["by_level"]["unresolved"] == 1
    assert (report["converted"], report["recoded"]) == (1, 1)
    match = RegionMatch("DE212", 3, "2021", "source", None, None, "DE212", "2021")
    assert resolution_report([match])["converted"] == 0  # read in the version it was placed in


def test_declared_version_without_a_converter_keeps_the_old_behaviour(resolver: RegionResolver) -> None:
    match = resolver.resolve(Actor(name="x", country="DE", nuts_code="DE212", nuts_version="2016"))
    assert (match.nuts_code, match.method, match.source_version) == ("DE212", "source", "2021")
    assert match.note == "NUTS 2016 code read as NUTS 2021: no correspondence loaded"
    recoded = resolver.resolve(Actor(name="x", country="HR", city="Zagreb", nuts_code="HR041", nuts_version="2016"))
    assert (recoded.nuts_code, recoded.method) == ("HR050", "gazetteer")  # no conversion, the city places it
