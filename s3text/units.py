"""Analysis units: the regions capacity is measured for.

By default a unit is a NUTS code cut to ``regions.level`` (NUTS-2). An S3 region is often not
one NUTS-2 unit (Bavaria is NUTS-1 DE2, Slovenia is SI03 + SI04, Fribourg is NUTS-3 CH022), so
named groupings map every code under any of their prefixes to one unit. Groupings are pinned
to the NUTS version of the table they are checked against.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pandas as pd

from s3text.errors import ConfigError
from s3text.regions import REASONS, NutsTable


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


def _level_name(level: int) -> str:
    return "country level (NUTS-0)" if level == 0 else f"NUTS-{level}"


def source_coverage(links: pd.DataFrame, units: RegionUnits) -> dict[str, Any]:
    """Per source: documents with at least one actor placed at the analysis level, and why not the others.

    ``links`` has one row per (document, actor), with ``source``, ``doc_id``, ``actor_id`` (None for
    a document without actors), ``nuts_code``, ``level`` and ``reason`` (of ``actor_regions``). An
    actor counts where ``units`` gives it a unit; a document without such an actor gets the reason
    of its actor closest to a place, in the order of :data:`~s3text.regions.REASONS`.
    """
    rank = {key: i for i, key in enumerate(REASONS)}
    out: dict[str, Any] = {}
    for source, rows in links.groupby("source", sort=True):
        docs: dict[str, str | None] = {}  # doc_id -> None (placed) or its reason
        actors, placed_actors = set(), set()
        for doc_id, actor_id, code, lv, reason in rows[["doc_id", "actor_id", "nuts_code", "level", "reason"]] \
                .itertuples(index=False, name=None):
            if actor_id is None:
                docs[doc_id] = "no_actors"
                continue
            actors.add(actor_id)
            lv = None if lv is None or lv != lv else int(lv)  # a frame's missing level is NaN
            if units.unit(code, lv) is not None:
                placed_actors.add(actor_id)
                docs[doc_id] = None
                continue
            why = "too_coarse" if code is not None else (reason if reason in rank else "no_place")
            if doc_id not in docs or (docs[doc_id] is not None and rank[why] < rank[str(docs[doc_id])]):
                docs[doc_id] = why
        placed = sum(v is None for v in docs.values())
        reasons = Counter(v for v in docs.values() if v is not None)
        unplaced = {REASONS[k]: reasons[k] for k in REASONS if reasons[k]}
        why_not = "; ".join(f"{n}: {text}" for text, n in unplaced.items())
        out[str(source)] = {
            "documents": len(docs), "documents_placed": placed, "actors": len(actors),
            "actors_placed": len(placed_actors), "documents_unplaced": unplaced,
            "summary": f"{placed} of {len(docs)} documents have an actor placed at {_level_name(units.level)}"
                       + (f" ({why_not})" if why_not else ""),
        }
    return out
