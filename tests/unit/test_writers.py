import json
from pathlib import Path

import pandas as pd
import pytest

from s3text.writers import atomic_write, write_csv, write_json

NASTY = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "plain"]


def test_csv_neutralises_formulas_but_not_numbers(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    write_csv(pd.DataFrame({"title": NASTY, "score": [-0.5] * len(NASTY)}), path)
    back = pd.read_csv(path, keep_default_na=False)
    assert back["score"].tolist() == [-0.5] * len(NASTY)
    for original, cell in zip(NASTY, back["title"], strict=True):
        if original == "plain":
            assert cell == "plain"
        else:
            assert cell.startswith("'") and cell[1:].strip() == original.strip()


def test_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_json({"version": 1}, path)

    def explode(handle: object) -> None:
        handle.write('{"version": 2, "half')  # type: ignore[attr-defined]
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(path, explode)
    assert json.loads(path.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"], "no temporary file left behind"
