"""The seed list: good rows become seeds, bad rows are quarantined with file, row and field."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from s3text.crawl.seeds import read_seeds
from s3text.errors import InputError

ROOT = Path(__file__).resolve().parent.parent.parent


def test_seeds_good_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "companies.csv"
    path.write_text(
        "Name,Website,Country,NUTS,City,Sector\n"
        "Alpha GmbH,www.alpha.at,at,AT33,Innsbruck,machinery\n"
        "Beta SpA,https://beta.it/chi-siamo,IT,,Bolzano,\n"
        ",https://nameless.ch,CH,,,\n"
        "Gamma,ftp://gamma.ch,CH,,,\n"
        "Delta,https://delta.de,Germany,,,\n"
        "Epsilon,https://epsilon.si,SI,AT33,,\n"
        "Alpha again,https://alpha.at/,AT,,,\n"
        "\n", encoding="utf-8")
    seeds, bad = read_seeds(path)
    assert [(s.name, s.url, s.country, s.nuts_code, s.row) for s in seeds] == [
        ("Alpha GmbH", "https://www.alpha.at/", "AT", "AT33", 2),
        ("Beta SpA", "https://beta.it/chi-siamo", "IT", None, 3)]
    assert [(q.row, q.field) for q in bad] == [(4, "name"), (5, "website"), (6, "country"), (7, "nuts"),
                                               (8, "website")]
    assert all(q.file == str(path) and q.source == "web" for q in bad)
    assert "same website as row 2" in bad[-1].reason
    actor = seeds[0].actor()
    assert (actor.name, actor.nuts_code, actor.city, actor.kind, actor.native_id) == (
        "Alpha GmbH", "AT33", "Innsbruck", "company", "alpha.at")
    assert seeds[0].site_id != seeds[1].site_id


def test_seeds_missing_column_names_file_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "companies.csv"
    path.write_text("name,url,country\nA,https://a.at,AT\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"companies\.csv, row 1, field 'website'"):
        read_seeds(path)
    with pytest.raises(InputError, match="cannot read"):
        read_seeds(tmp_path / "nope.csv")


def test_seeds_example_file_is_valid() -> None:
    seeds, bad = read_seeds(ROOT / "configs" / "companies.example.csv")
    assert len(seeds) >= 5 and bad == []


def test_seeds_rows_are_physical_lines_and_files_are_read_like_every_input(tmp_path: Path) -> None:
    """A quoted field with a line break does not shift the row numbers; Excel's UTF-8 with a BOM, a
    code page named in the config and a .gz are read."""
    text = ('name,website,country,city\n'
            '"Zeta\nHolding AG",https://zeta.ch,CH,Zürich\n'
            'Eta,not a url,CH,Bern\n'
            'Theta,https://theta.ch,CH,Genève\n')
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    ansi = tmp_path / "ansi.csv"
    ansi.write_bytes(text.encode("cp1252"))
    packed = tmp_path / "companies.csv.gz"
    packed.write_bytes(gzip.compress(text.encode("utf-8")))
    for path, encoding in ((bom, "auto"), (ansi, "cp1252"), (packed, "auto")):
        seeds, bad = read_seeds(path, encoding=encoding)
        assert [(s.name, s.row, s.city) for s in seeds] == [("Zeta\nHolding AG", 2, "Zürich"),
                                                             ("Theta", 5, "Genève")]
        assert [(q.row, q.field, q.reason.split(":", 1)[0], q.raw) for q in bad] == [
            (4, "website", "bad_website", "Eta,not a url,CH,Bern")]


def test_seeds_undecodable_file_is_an_input_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "companies.csv"
    path.write_bytes(b"name,website,country\nA,https://a.at,AT\n\x81\x8d\x8f\x90\x9d,https://b.at,AT\n")
    with pytest.raises(InputError, match=r"companies\.csv, row 3: not UTF-8"):
        read_seeds(path)
