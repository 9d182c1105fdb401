"""Input files as text: compression, zip members, BOMs, code pages, and refusing to guess."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from s3text.errors import InputError
from s3text.ingest._common import read_csv
from s3text.ingest.textio import detect_encoding, open_text

TEXT = 'id,title\n1,"Zürich, Genève: größere Ökonomie"\n2,"multi\nline"\n3,Čebelarstvo in Ljubljana\n'
ROWS = [
    (2, ["1", "Zürich, Genève: größere Ökonomie"]), (3, ["2", "multi\nline"]), (5, ["3", "Čebelarstvo in Ljubljana"])
]


def _rows(path: Path, **kw: str) -> tuple[str, list[tuple[int, list[str]]]]:
    table = read_csv(path, required=["id", "title"], **kw)
    return table.encoding, [(r.line, r.fields) for r in table.records]


@pytest.mark.parametrize(("codec", "expected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16")])
def test_unicode_files_are_read_with_their_encoding(tmp_path: Path, codec: str, expected: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(TEXT.encode(codec))
    assert _rows(path) == (expected, ROWS)


def test_a_windows_code_page_is_detected_and_named(tmp_path: Path) -> None:
    line = "Die größere Ökonomie der Region Zürich ist stärker als früher"
    path = tmp_path / "f.csv"
    path.write_bytes(("id,title\n" + "".join(f"{i},{line}\n" for i in range(30))).encode("cp1252"))
    encoding, rows = _rows(path)
    assert encoding in {"cp1252", "cp1250", "latin_1", "iso8859_15", "iso8859_2"}  # all agree on ä ö ü ß
    assert rows[0][1][1] == line


def test_code_pages_that_disagree_are_reported_not_guessed(tmp_path: Path) -> None:
    # 0xE8 is è in cp1252 and č in cp1250: either reading is plausible, so s3text must not pick one.
    path = tmp_path / "f.csv"
    text = "id,title\n" + "".join(f"{i},Genève et la Sûreté de Zürich\n" for i in range(30))
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(InputError, match="set `encoding:`") as err:
        read_csv(path, required=["id"])
    assert err.value.row == 2
    assert _rows(path, encoding="cp1252")[1][0][1] == ["0", "Genève et la Sûreté de Zürich"]


def test_undetectable_bytes_are_an_error_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"id,title\n1,ok\n2,\xff\xfe\x00\x81\x8d\x90\x9d\n")
    with pytest.raises(InputError) as err:
        detect_encoding(path)
    assert err.value.row == 3 and str(path) in str(err.value) and "encoding" in str(err.value)


def test_an_explicit_encoding_that_does_not_fit_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(("id,title\n1,plain\n" + "2,Čebelarstvo\n").encode("utf-8"))
    with pytest.raises(InputError, match="not ascii") as err:
        read_csv(path, required=["id"], encoding="ascii")
    assert err.value.row == 3


def test_gzip_and_zip_are_read_as_streams(tmp_path: Path) -> None:
    gz = tmp_path / "f.csv.gz"
    gz.write_bytes(gzip.compress(TEXT.encode()))
    single = tmp_path / "one.zip"
    with zipfile.ZipFile(single, "w") as archive:
        archive.writestr("patents.csv", TEXT)
    assert _rows(gz) == ("utf-8", ROWS)
    assert _rows(single) == ("utf-8", ROWS)


def test_a_zip_of_several_files_needs_the_member(tmp_path: Path) -> None:
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as archive:
        archive.writestr("a.csv", TEXT)
        archive.writestr("b.csv", "id,title\n9,other\n")
    with pytest.raises(InputError, match="name the member"):
        read_csv(many, required=["id"])
    assert _rows(many, member="a.csv") == ("utf-8", ROWS)
    with pytest.raises(InputError, match="no member"):
        read_csv(many, required=["id"], member="c.csv")


def test_unknown_codec_and_missing_file_are_input_errors(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(TEXT, encoding="utf-8")
    with pytest.raises(InputError, match="unknown encoding"), open_text(path, encoding="klingon"):
        pass
    with pytest.raises(InputError, match="cannot read") as err, open_text(tmp_path / "missing.csv"):
        pass
    assert err.value.file == str(tmp_path / "missing.csv")
