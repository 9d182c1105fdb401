from pathlib import Path

import pandas as pd
import pytest

from s3text.errors import ConfigError
from s3text.regions import NutsTable
from s3text.units import RegionUnits

UNITS = RegionUnits(level=2, groupings={"Bavaria": ("DE2",), "Slovenia": ("SI03", "SI04"), "Fribourg": ("CH022",)})


def test_codes_map_to_groupings_or_their_level_2_unit() -> None:
    frame = pd.DataFrame({"nuts_code": ["DE212", "DE11", "SI041", "CH022", "CH021", "FR101", "FR", None],
                          "level": [3, 2, 3, 3, 3, 3, 0, None]})
    assert UNITS.assign(frame).tolist() == ["Bavaria", "DE11", "Slovenia", "Fribourg", "CH02", "FR10", None, None]


def test_longest_prefix_wins() -> None:
    nested = RegionUnits(level=2, groupings={"Espace Mittelland": ("CH02",), "Fribourg": ("CH022",)})
    assert nested.unit("CH022", 3) == "Fribourg" and nested.unit("CH021", 3) == "Espace Mittelland"


def test_groupings_are_checked_against_the_nuts_version(root: Path) -> None:
    nuts = NutsTable.load(root / "data/nuts/nuts2021.csv")
    UNITS.check(nuts)
    with pytest.raises(ConfigError, match="DE2Z"):
        RegionUnits(level=2, groupings={"Nowhere": ("DE2Z",)}).check(nuts)
    assert UNITS.label("Bavaria", nuts) == "Bavaria" and UNITS.label("DE11", nuts) == "Stuttgart"


def test_region_set_membership_of_groupings() -> None:
    alpine = frozenset({"DE21", "DE27", "SI03", "SI04", "ITC4"})
    assert UNITS.in_set("Bavaria", alpine) and UNITS.in_set("Slovenia", alpine)
    assert UNITS.in_set("ITC4", alpine) and not UNITS.in_set("FR10", alpine)
