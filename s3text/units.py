"""Analysis units: the regions capacity is measured for.

By default a unit is a NUTS code cut to ``regions.level`` (NUTS-2). An S3 region is often not
one NUTS-2 unit (Bavaria is NUTS-1 DE2, Slovenia is SI03 + SI04, Fribourg is NUTS-3 CH022), so
named groupings map every code under any of their prefixes to one unit. Groupings are pinned
to the NUTS version of the table they are checked against.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from s3text.errors import ConfigError
from s3text.regions import NutsTable


class RegionUnits:
    def __init__(self, *, level: int, groupings: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.level = level
        self.groupings = dict(groupings or {})
        # Longest prefix first, so a NUTS-3 grouping inside a NUTS-2 one wins for its own codes.
        self._prefixes = sorted(((p, name) for name, codes in self.groupings.items() for p in codes),
                                key=lambda item: (-len(item[0]), item[0]))

    def check(self, nuts: NutsTable) -> None:
        """Every grouping code must exist in the NUTS version the run uses."""
        for name, codes in self.groupings.items():
            bad = [c for c in codes if not nuts.is_valid(c)]
            if bad:
                raise ConfigError(f"region grouping {name!r}: {bad} are not NUTS {nuts.version} codes")

    def unit(self, nuts_code: str | None, code_level: int | None) -> str | None:
        if nuts_code is None or code_level is None:
            return None
        for prefix, name in self._prefixes:
            if nuts_code.startswith(prefix):
                return name
        return nuts_code[: self.level + 2] if code_level >= self.level else None

    def assign(self, frame: pd.DataFrame) -> pd.Series:
        """Unit of each row of a frame with ``nuts_code`` and ``level`` columns (None: too coarse)."""
        return pd.Series([self.unit(c, None if pd.isna(lv) else int(lv))
                          for c, lv in zip(frame["nuts_code"], frame["level"], strict=True)],
                         index=frame.index, dtype=object)

    def in_set(self, unit: str, codes: frozenset[str]) -> bool:
        """Whether a unit lies in a region set: its code or an ancestor is listed, or, for a grouping,
        one of its codes overlaps a listed code (Bavaria DE2 overlaps Alpine Space DE21..DE27)."""
        prefixes = self.groupings.get(unit, (unit,))
        return any(c.startswith(p) or p.startswith(c) for p in prefixes for c in codes)

    def label(self, unit: str, nuts: NutsTable) -> str | None:
        return unit if unit in self.groupings else nuts.label(unit)
