"""NUTS code conversion between versions, on the real bundled correspondence (data/nuts/)."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from s3text.errors import InputError
from s3text.gazetteer import Gazetteer
from s3text.nuts_versions import COLUMNS, Conversion, Link, NutsConverter

ROOT = Path(__file__).resolve().parents[2]
CORRESPONDENCE = ROOT / "data" / "nuts" / "nuts_correspondence.csv"
NUTS_2021 = ROOT / "data" / "nuts" / "nuts2021.csv"
GAZETTEER = ROOT / "data" / "nuts" / "gazetteer_lau2020_nuts2021.csv.gz"


@pytest.fixture(scope="module")
def conv() -> NutsConverter:
    return NutsConverter.load(CORRESPONDENCE)


def _rows() -> list[dict[str, str]]:
    with CORRESPONDENCE.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_unchanged_code_converts_to_itself(conv: NutsConverter) -> None:
    for a, b in (("2016", "2021"), ("2021", "2024"), ("2016", "2024"), ("2024", "2016")):
        assert conv.convert("DE212", a, b) == Conversion("DE212", b, True, "unchanged", ("DE212",))
    assert conv.convert("DE212", "2021", "2021").change == "unchanged"
    assert conv.convert("CH", "2016", "2024").code == "CH"  # statistical regions have a country too


def test_recoded_regions_are_exact(conv: NutsConverter) -> None:
    # Croatia 2021: HR04 Kontinentalna Hrvatska split in three NUTS-2; its counties kept their
    # territory under new codes (HR041 Grad Zagreb is HR050).
    assert conv.convert("HR041", "2016", "2021") == Conversion("HR050", "2021", True, "recoded", ("HR050",))
    assert conv.convert("HR047", "2016", "2021").code == "HR021"
    # 2024: Zuid-Holland's NUTS-3 renumbered under the new NL36.
    assert conv.convert("NL332", "2021", "2024") == Conversion("NL361", "2024", True, "recoded", ("NL361",))
    assert conv.convert("PT16B", "2021", "2024").code == "PT1D1"
    assert conv.convert("EE006", "2016", "2021").code == "EE009"  # Estonia's 2017 reform


def test_split_gives_the_common_parent_with_the_parts_as_candidates(conv: NutsConverter) -> None:
    # Cagliari 2016 became the Città metropolitana (ITG2F) and part of Sud Sardegna (ITG2H).
    cagliari = conv.convert("ITG27", "2016", "2021")
    assert cagliari == Conversion("ITG2", "2021", False, "split", ("ITG2F", "ITG2H"))
    lisboa = conv.convert("PT170", "2021", "2024")  # Grande Lisboa + Península de Setúbal
    assert lisboa == Conversion("PT1", "2024", False, "split", ("PT1A0", "PT1B0"))
    assert conv.convert("HR04", "2016", "2021") == Conversion("HR0", "2021", False, "split", ("HR02", "HR05", "HR06"))
    viken = conv.convert("NO082", "2021", "2024")
    assert (viken.code, viken.candidates) == ("NO08", ("NO083", "NO084", "NO085"))


def test_merged_and_shifted_regions(conv: NutsConverter) -> None:
    # Eisenach joined the Wartburgkreis in 2021 (NUTS 2024 DEG0R).
    assert conv.convert("DEG0N", "2021", "2024") == Conversion("DEG0R", "2024", False, "merged", ("DEG0R",))
    # Back in time the Wartburgkreis may be either of its former parts: Thüringen.
    assert conv.convert("DEG0R", "2024", "2021") == Conversion("DEG0", "2021", False, "split", ("DEG0N", "DEG0P"))
    assert conv.convert("NO021", "2016", "2021").change == "merged"  # Hedmark into Innlandet
    suhl = conv.convert("DEG04", "2021", "2024")
    assert (suhl.code, suhl.exact, suhl.change) == ("DEG0S", False, "boundary shift")
    # Under 1 % of the population moved: still the region, but not the same territory.
    assert conv.convert("AT224", "2016", "2021") == Conversion("AT224", "2021", False, "boundary shift", ("AT224",))
    # A dominant successor (92 % of Oppland's population) is taken; the rest is a candidate.
    oppland = conv.convert("NO022", "2016", "2021")
    assert (oppland.code, oppland.candidates) == ("NO020", ("NO020", "NO082"))


def test_codes_only_in_one_version(conv: NutsConverter) -> None:
    assert conv.convert("XK001", "2024", "2021") == Conversion(None, "2021", False, "new", ())
    assert conv.convert("XK001", "2021", "2024").change == "unknown"  # not a NUTS 2021 code
    assert conv.convert("PT1A0", "2024", "2021").code == "PT170"
    assert conv.convert("HR041", "2021", "2024").change == "unknown"  # a 2016 code
    assert conv.convert("UKC11", "2016", "2021") == Conversion(None, "2021", False, "discontinued", ())
    assert conv.knows("UKC11", "2016") and not conv.knows("UKC11", "2021")


def test_chained_conversion_2016_to_2024(conv: NutsConverter) -> None:
    assert conv.convert("HR041", "2016", "2024") == Conversion("HR050", "2024", True, "recoded", ("HR050",))
    assert conv.convert("NL332", "2016", "2024").code == "NL361"
    assert conv.convert("NL361", "2024", "2016").code == "NL332"
    assert conv.convert("ITG27", "2016", "2024") == Conversion("ITG2", "2024", False, "split", ("ITG2F", "ITG2H"))
    # Troms 2016 was merged into NO074 (2021) and split out again in 2024; the chain cannot tell
    # which part, so it answers the NUTS-2 that holds both.
    troms = conv.convert("NO072", "2016", "2024")
    assert (troms.code, troms.change, troms.candidates) == ("NO07", "split", ("NO072", "NO073"))


@pytest.mark.parametrize(("a", "b"), [("2013", "2016"), ("2016", "2021"), ("2021", "2024"), ("2013", "2024")])
def test_exact_conversions_round_trip(conv: NutsConverter, a: str, b: str) -> None:
    exact = 0
    for code in sorted(conv.codes[a]):
        there = conv.convert(code, a, b)
        if there.exact:
            exact += 1
            assert there.code is not None and conv.convert(there.code, b, a) == Conversion(
                code, a, True, there.change, (code,)), code
    assert exact > 1600


def test_nuts_2013_codes(conv: NutsConverter) -> None:
    # 2016: France's 22 regions became 13; their codes were all rewritten.
    assert conv.convert("FR71", "2013", "2016") == Conversion("FRK2", "2016", True, "recoded", ("FRK2",))
    assert conv.convert("FR711", "2013", "2024").code == "FRK21"  # Ain, through 2016 and 2021
    assert conv.convert("FRK2", "2021", "2013").code == "FR71"
    # Mazowieckie split into Warszawski stołeczny (PL91) and Mazowiecki regionalny (PL92).
    assert conv.convert("PL12", "2013", "2016") == Conversion("PL9", "2016", False, "split", ("PL91", "PL92"))
    assert conv.convert("PL127", "2013", "2021") == Conversion("PL911", "2021", True, "recoded", ("PL911",))
    assert conv.convert("HR050", "2024", "2013").code == "HR041"  # Grad Zagreb, back two steps
    assert conv.convert("DE915", "2013", "2016").change == "merged"  # Göttingen + Osterode = DE91C
    assert conv.convert("IE011", "2013", "2016").code == "IE0"  # Border: split between two regions


def test_unknown_codes_and_versions(conv: NutsConverter) -> None:
    assert conv.convert("ZZ999", "2021", "2024") == Conversion(None, "2024", False, "unknown", ())
    assert conv.convert(" hr 041 ", "2016", "2021").code == "HR050"  # spaces and case do not matter
    assert conv.convert("UKC11", "2016", "2013").change == "unknown"  # the UK is not linked to 2013
    with pytest.raises(ValueError, match="not a NUTS version"):
        conv.convert("DE212", "2020", "2021")


def test_every_nuts_2021_code_is_known(conv: NutsConverter) -> None:
    with NUTS_2021.open(encoding="utf-8", newline="") as fh:
        codes = {r["nuts_code"] for r in csv.DictReader(fh)}
    assert codes <= conv.codes["2021"]
    assert conv.versions == ("2013", "2016", "2021", "2024")


def test_bundled_file_is_small_consistent_and_counted() -> None:
    assert CORRESPONDENCE.stat().st_size < 400_000
    rows = _rows()
    assert tuple(rows[0]) == COLUMNS
    for r in rows:
        code = r["from_code"] or r["to_code"]
        assert r["level"] == str(len(code) - 2)
    # Each region's known shares add up to the whole region, on either side of a link.
    for side in ("from", "to"):
        totals: dict[tuple[str, str], float] = defaultdict(float)
        for r in rows:
            if r[f"{side}_code"] and r[f"{side}_share"]:
                totals[r[f"{side}_version"], r[f"{side}_code"]] += float(r[f"{side}_share"])
        assert len(totals) > 5000, side
        assert all(abs(t - 1) < 0.001 for t in totals.values()), side
    # Measured on the build of data/nuts/SOURCE.md: regions whose code or territory changed.
    changed = Counter((r["from_version"], r["change"]) for r in rows
                      if r["from_code"] and r["change"] not in ("unchanged", "discontinued"))
    regions = Counter((r["from_version"], r["change"]) for r in {
        (r["from_version"], r["from_code"], r["change"]): r for r in rows if r["from_code"]}.values())
    assert (regions["2013", "recoded"], regions["2016", "recoded"], regions["2021", "recoded"]) == (171, 18, 16)
    assert (regions["2013", "split"], regions["2016", "split"], regions["2021", "split"]) == (16, 6, 8)
    assert regions["2016", "discontinued"] == 236  # the UK's NUTS 2016 codes
    assert changed["2016", "split"] and changed["2021", "split"]


def test_bundled_change_column_is_what_the_converter_says(conv: NutsConverter) -> None:
    # The build script writes the column with NutsConverter: a change to the rules needs a rebuild.
    rows = [r for r in _rows() if r["from_code"]]
    stale = [r for r in rows if conv.convert(r["from_code"], r["from_version"], r["to_version"]).change != r["change"]]
    assert stale == []
    assert {r["change"] for r in _rows() if not r["from_code"]} == {"new"}
    # Discontinued in 2021 means the UK, all of it: every UK code of NUTS 2016 and of the gazetteer.
    discontinued = {r["from_code"] for r in rows if r["from_version"] == "2016" and r["change"] == "discontinued"}
    assert discontinued == {c for c in conv.codes["2016"] if c.startswith("UK")}
    assert Gazetteer.load(GAZETTEER).codes["UK"] <= discontinued


def _write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join([",".join(COLUMNS), *lines]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ("2016,HR041,2021,HR050,3,recoded,true,1.5,1,jrc", r"row 2, field 'from_share'"),
        ("2016,HR041,2021,HR050,3,recoded,yes,1,1,jrc", r"row 2, field 'exact'"),
        ("2015,HR041,2021,HR050,3,recoded,true,1,1,jrc", r"row 2, field 'from_version'"),
        ("2021,HR041,2016,HR050,3,recoded,true,1,1,jrc", r"row 2, field 'to_version'"),
        ("2016,HR041,2021,HR050,2,recoded,true,1,1,jrc", r"row 2, field 'level'"),
        ("2016,hr-41,2021,HR050,3,recoded,true,1,1,jrc", r"row 2, field 'from_code'"),
        ("2016,HR041,2021,HR050,3,moved,true,1,1,jrc", r"row 2, field 'change'"),
        ("2016,HR041,2021,HR050,3,recoded,true,x,1,jrc", r"row 2, field 'from_share'"),
        ("2016,,2021,,3,new,false,,,jrc", r"row 2, field 'to_code'"),
        ("2016,HR041,2021,HR050,3,recoded,true,1,1", r"row 2: 9 fields"),
    ],
)
def test_bad_rows_are_input_errors_naming_file_row_and_field(tmp_path: Path, line: str, where: str) -> None:
    path = _write(tmp_path / "c.csv", line)
    with pytest.raises(InputError, match=r"S3E010.*c\.csv, " + where):
        NutsConverter.load(path)


def test_bad_files_are_input_errors(tmp_path: Path) -> None:
    missing = tmp_path / "m.csv"
    missing.write_text("from_version,from_code\n2016,HR041\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"m\.csv, row 1: missing columns"):
        NutsConverter.load(missing)
    with pytest.raises(InputError, match="cannot read"):
        NutsConverter.load(tmp_path / "absent.csv")
    skipping = _write(tmp_path / "s.csv", "2016,DE212,2021,DE212,3,unchanged,true,1,1,jrc",
                      "2016,DE212,2024,DE212,3,unchanged,true,1,1,jrc")
    with pytest.raises(InputError, match=r"s\.csv: links must join adjacent versions"):
        NutsConverter.load(skipping)


def test_converter_from_links_needs_no_file() -> None:
    # AA11 and AA12 merged into AA21; AA1 was recoded AA2.
    links = [Link("2016", "AA11", "2021", "AA21", False, 1.0, None),
             Link("2016", "AA12", "2021", "AA21", False, 1.0, None),
             Link("2016", "AA1", "2021", "AA2", True, 1.0, 1.0), Link("2016", "AA", "2021", "AA", True, 1.0, 1.0)]
    conv = NutsConverter(links)
    merged = conv.convert("AA12", "2016", "2021")
    assert (merged.code, merged.change) == ("AA21", "merged")
    assert conv.convert("AA21", "2021", "2016") == Conversion("AA1", "2016", False, "split", ("AA11", "AA12"))
