"""Country codes and names (s3text.countries) and a ``table`` source that writes countries as names."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest

from s3text.config import TableMapping
from s3text.countries import country_code
from s3text.gazetteer import Gazetteer
from s3text.ingest.table import iter_table
from s3text.records import Actor, Document
from s3text.regions import NutsTable, RegionResolver

DATA = Path(__file__).resolve().parents[2] / "data"
# The FP7 participants' CORDIS codes, written as a table export might write them.
NAMES = {"DK": "Denmark", "AT": "Österreich", "DE": "germany", "FR": "FRANCE", "UK": "United Kingdom",
         "EL": "Greece", "IT": "Italia", "ES": "España"}
MAPPING = TableMapping(id="id", title="title", date="date", actors="name", country="country", city="city")


@pytest.mark.parametrize(("value", "code"), [
    ("Denmark", "DK"), ("denmark", "DK"), (" DANMARK ", "DK"), ("Österreich", "AT"), ("osterreich", "AT"),
    ("Deutschland", "DE"), ("Ελλάδα", "EL"), ("Greece", "EL"), ("United Kingdom", "UK"), ("Suisse", "CH"),
    ("Czech Republic", "CZ"), ("Czechia", "CZ"), ("United States", "US"),
    ("GB", "UK"), ("gr", "EL"), ("EL", "EL"), ("UK", "UK"), ("dk", "DK"), ("XK", "XK"),
    ("Atlantis", None), ("XX", None), ("", None), (None, None),
])
def test_country_code(value: str | None, code: str | None) -> None:
    assert country_code(value) == code


def _table(path: Path, names: dict[str, str]) -> Path:
    """One row per FP7 participant of the countries in NAMES, with the project's start date."""
    with (DATA / "cordis_fp7" / "projects.csv").open(encoding="utf-8", newline="") as fh:
        starts = {p["id"]: p["startDate"] for p in csv.DictReader(fh)}
    with (DATA / "cordis_fp7" / "participants.csv").open(encoding="utf-8", newline="") as fh:
        rows = [p for p in csv.DictReader(fh) if p["country"] in NAMES]
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "title", "date", "name", "country", "city"])
        for i, p in enumerate(rows):
            out.writerow([f"{p['projectID']}-{i}", p["projectAcronym"], starts[p["projectID"]], p["name"],
                          names.get(p["country"], p["country"]), p["city"]])
    return path


def _actors(path: Path) -> list[tuple[str, str | None, str | None]]:
    docs = [d for d in iter_table(path, MAPPING, source="t") if isinstance(d, Document)]
    return [(a.name, a.country, a.city) for d in docs for a in d.actors]


def test_country_names_in_a_table_place_actors_as_codes_do(tmp_path: Path) -> None:
    by_name = _actors(_table(tmp_path / "names.csv", NAMES))
    by_code = _actors(_table(tmp_path / "codes.csv", {}))
    assert len(by_name) == len(by_code) > 2000
    assert by_name == by_code  # "Denmark" became DK, "Österreich" AT, ...
    resolver = RegionResolver(NutsTable.load(DATA / "nuts" / "nuts2021.csv"),
                              Gazetteer.load(DATA / "nuts" / "gazetteer_lau2020_nuts2021.csv.gz"))
    danish = [Actor(name, country, city) for name, country, city in by_name if country == "DK"]
    assert len(danish) == 125
    placed = [m for m in resolver.resolve_many(danish) if m.level == 3]
    # Measured: 114 of 125 at NUTS-3 by city (the others: cities the gazetteer lacks, no register here).
    assert len(placed) >= 110 and all(m.nuts_code and m.nuts_code.startswith("DK") for m in placed)


def test_unknown_country_is_reported_with_file_row_and_field(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    path = _table(tmp_path / "typo.csv", {**NAMES, "DK": "Denmarkk"})
    with caplog.at_level(logging.WARNING, logger="s3text.ingest.table"):
        actors = _actors(path)
    warnings = [r.getMessage() for r in caplog.records if "unknown country" in r.getMessage()]
    assert len(warnings) == 1  # once per value, not once per row
    first_row = 2 + next(i for i, (_, country, _) in enumerate(actors) if country == "Denmarkk")
    assert f"typo.csv, row {first_row}, field 'country': unknown country 'Denmarkk'" in warnings[0]
    assert sum(country == "Denmarkk" for _, country, _ in actors) == 125  # kept, so regions can say why
    resolver = RegionResolver(NutsTable.load(DATA / "nuts" / "nuts2021.csv"),
                              Gazetteer.load(DATA / "nuts" / "gazetteer_lau2020_nuts2021.csv.gz"))
    m = resolver.resolve(Actor("x", "Denmarkk", "Lyngby"))
    assert (m.nuts_code, m.method, m.reason) == (None, "unresolved", "unknown_country")
