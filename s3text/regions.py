"""Place actors in NUTS regions: a source's NUTS code (converted from its NUTS version where
needed, :mod:`s3text.nuts_versions`), else city through the LAU gazetteer (NUTS-3,
:mod:`s3text.gazetteer`), else the name in an organisation register with addresses
(:mod:`s3text.register`), else the country (NUTS-0). Data: ``data/nuts/`` (see its SOURCE.md),
rebuilt by ``scripts/build_gazetteer.py`` and ``scripts/build_nuts_correspondence.py``."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from s3text.countries import canonical_country, country_code
from s3text.gazetteer import Gazetteer
from s3text.nuts_versions import NutsConverter, normalise_code
from s3text.records import Actor
from s3text.refdata import int_field, read_columns
from s3text.register import OrganisationRegister

__all__ = ["GUESS_VERSIONS", "LEGACY_VERSIONS", "REASONS", "Gazetteer", "NutsTable", "RegionMatch",
           "RegionResolver", "canonical_country", "load_region_sets", "region_in_set", "resolution_report"]

log = logging.getLogger(__name__)

Method = Literal["source", "gazetteer", "register", "country", "unresolved"]
METHODS: tuple[Method, ...] = ("source", "gazetteer", "register", "country", "unresolved")
# Why an actor (``RegionMatch.reason``) or a document (the regions step's summary) has no region at
# the analysis level, in the words the run summary uses. An actor placed at country level keeps the
# register's reason (not_in_register, ambiguous_register) when the register was tried.
REASONS = {
    "no_actors": "no actors",
    "too_coarse": "actors placed only above the analysis level (country level only)",
    "ambiguous_register": "actor names match organisation register entries in different places",
    "not_in_register": "actor names not found in the organisation register",
    "outside_nuts": "actors in countries outside NUTS",
    "unknown_country": "actors whose country is not a known country code or name",
    "no_place": "actors without city, country or NUTS code (and no organisation register to look names up)",
}

# The UK left NUTS in 2021; the gazetteer (and older CORDIS data) keep its NUTS 2016 codes.
LEGACY_VERSIONS = {"UK": "2016"}
_NUTS_COLUMNS = ("nuts_code", "level", "label", "parent_code")


class NutsTable:
    """NUTS codes of one version with their level and national-language label."""

    def __init__(self, rows: dict[str, tuple[int, str | None]], version: str = "2021") -> None:
        self._rows = rows
        self.version = version

    @classmethod
    def load(cls, path: Path | str, version: str = "2021") -> NutsTable:
        path, rows, parents = Path(path), {}, set()
        for i, (code, level, label, parent) in read_columns(path, _NUTS_COLUMNS):
            rows[code] = (int_field(level, path, i, "level"), label or None)
            parents.add(parent)
        # Statistical regions (CH, NO, LI, ...) have level-1 rows whose parent country has no
        # row of its own; the country is still a region, so give it one.
        rows.update({code: (0, None) for code in parents - rows.keys() if len(code) == 2})
        return cls(rows, version)

    def is_valid(self, code: str | None) -> bool:
        return code is not None and code in self._rows

    def level(self, code: str) -> int | None:
        return self._rows[code][0] if code in self._rows else None

    def label(self, code: str) -> str | None:
        return self._rows[code][1] if code in self._rows else None

    def ancestor(self, code: str, level: int) -> str | None:
        """The enclosing region at ``level`` (the code itself at its own level); None if unknown."""
        own = self.level(code)
        if own is None or not 0 <= level <= own:
            return None
        parent = code[: 2 + level]
        return parent if parent in self._rows else None


@dataclass(frozen=True, slots=True)
class RegionMatch:
    """Where an actor was placed, and by which evidence."""

    nuts_code: str | None
    level: int | None
    nuts_version: str
    method: Method
    label: str | None
    note: str | None = None  # e.g. why a source code was not used, or how it was converted
    source_code: str | None = None  # the NUTS code the source gave (upper case, no spaces)
    source_version: str | None = None  # its NUTS version: as the source said, or the one it matched
    reason: str | None = None  # a key of REASONS when not placed below country level


# For a code whose source does not say the version: after the target version, newest first.
# Most codes are the same region in every version, so the target version (no conversion) is
# right for nearly all; a code it lacks was most likely retired or introduced lately. 2024 comes
# next because sources without a version are mostly current ones; then 2016 (Horizon 2020 era,
# the UK) before 2013 (FP7 era), as recent data outnumber old data in the feeds.
GUESS_VERSIONS = ("2024", "2016", "2013")


class RegionResolver:
    """Resolve actors to regions: source NUTS code, then gazetteer (city), then the register (name,
    when one is given), then country; an actor left without a region below country level gets a reason.

    With a :class:`~s3text.nuts_versions.NutsConverter`, a source code of another NUTS version is
    converted to the table's version (a split region gives the region containing all its parts).
    """

    def __init__(self, nuts: NutsTable, gazetteer: Gazetteer, converter: NutsConverter | None = None,
                 target_version: str | None = None, register: OrganisationRegister | None = None) -> None:
        if target_version is not None and target_version != nuts.version:
            raise ValueError(f"target version {target_version} differs from the NUTS table's {nuts.version}")
        self.nuts = nuts
        self.gazetteer = gazetteer
        self.converter = converter
        self.register = register
        self._cache: dict[tuple[str | None, ...], RegionMatch] = {}

    @property
    def target_version(self) -> str:
        return self.nuts.version

    def _match(self, code: str, method: Method, note: str | None,
               source: tuple[str | None, str | None] = (None, None), reason: str | None = None) -> RegionMatch:
        version = None if self.nuts.is_valid(code) else LEGACY_VERSIONS.get(code[:2])
        if version:  # UK: NUTS 2016, not in the table, so no label
            return RegionMatch(code, len(code) - 2, version, method, None, note, *source, reason)
        nuts = self.nuts
        return RegionMatch(code, nuts.level(code), nuts.version, method, nuts.label(code), note, *source, reason)

    def _is_nuts_country(self, cc: str | None) -> bool:
        return cc is not None and (self.nuts.level(cc) == 0 or cc in LEGACY_VERSIONS)

    def _from_source(self, code: str, version: str | None) -> tuple[RegionMatch | None, str | None, str | None]:
        """(match, note, version the code was read in) for a source's NUTS code."""
        if legacy := LEGACY_VERSIONS.get(code[:2]):
            # UK codes stay NUTS 2016, checked against the gazetteer's UK codes (levels 0-3).
            known = self.gazetteer.codes.get(code[:2], ())
            if self.nuts.is_valid(code) or any(c.startswith(code) for c in known):
                return self._match(code, "source", None, (code, version or legacy)), None, version or legacy
            return None, f"source NUTS code {code!r} is not a NUTS {legacy} code", version
        target, converter = self.target_version, self.converter
        if converter is None or version == target:
            tries = [target]
        elif version is None:
            tries = [target, *(v for v in GUESS_VERSIONS if v != target)]
        else:
            tries = [version, target]  # a code the declared version lacks may still be a target code
        notes = []
        for v in tries:
            if v == target:
                if self.nuts.is_valid(code):
                    note = None
                    if version and version != target:
                        note = (f"NUTS {version} code read as NUTS {target}: no correspondence loaded"
                                if converter is None else f"not a NUTS {version} code; read as NUTS {target}")
                    return self._match(code, "source", note, (code, v)), None, v
                notes.append(f"not a NUTS {target} code")
                continue
            assert converter is not None
            conv = converter.convert(code, v, target)
            if conv.code and self.nuts.is_valid(conv.code):
                note = None if conv.change == "unchanged" else (
                    f"NUTS {v} {code} -> NUTS {target} {conv.code} ({conv.change})")
                return self._match(conv.code, "source", note, (code, v)), None, v
            notes.append(f"NUTS {v}: {conv.change}")
            if version and conv.change != "unknown":
                break  # the declared version knows the code, and it has no region in the target
        return None, f"source NUTS code {code!r}: " + "; ".join(notes), version

    def resolve(self, actor: Actor) -> RegionMatch:
        note = code = version = None
        if actor.nuts_code and actor.nuts_code.strip():
            code = normalise_code(actor.nuts_code)
            match, note, version = self._from_source(code, actor.nuts_version)
            if match:
                return match
            log.info("%s (%s); falling back to city/country", note, actor.name)
        source = (code, version)
        hit = self.gazetteer.lookup(actor.country, actor.city)
        if hit:
            return self._match(hit, "gazetteer", note, source)
        cc, reason = canonical_country(actor.country), None
        if self.register is not None and actor.name.strip():
            found = self.register.match(actor.name, cc, self.gazetteer)
            note = "; ".join(filter(None, (note, found.note)))
            if found.outcome != "placed":
                reason = "ambiguous_register" if found.outcome == "ambiguous" else "not_in_register"
            elif found.code and (len(found.code) > 2 or (cc is None and self._is_nuts_country(found.code))):
                return self._match(found.code, "register", note, source)
            elif cc is None:  # the register knows it, in a country outside NUTS
                cc = found.code
        if cc is not None and self._is_nuts_country(cc):
            return self._match(cc, "country", note, source, reason)
        if cc:
            reason = "outside_nuts" if country_code(cc) else "unknown_country"
        return RegionMatch(None, None, self.nuts.version, "unresolved", None, note, *source,
                           reason or "no_place")

    def resolve_many(self, actors: Iterable[Actor]) -> list[RegionMatch]:
        """Resolve in order; repeated (country, city, NUTS code, version, and with a register the
        name) are looked up once."""
        out = []
        for actor in actors:
            key = (actor.country, actor.city, actor.nuts_code, actor.nuts_version,
                   actor.name if self.register is not None else None)
            match = self._cache.get(key)
            if match is None:
                match = self._cache[key] = self.resolve(actor)
            out.append(match)
        return out


_LEVELS = {3: "nuts3", 2: "nuts2", 1: "nuts1", 0: "country"}


def resolution_report(matches: Iterable[Any]) -> dict[str, Any]:
    """Counts and shares of actors by the level they were placed at and by method.

    Takes :class:`RegionMatch` objects or rows of the ``actor_regions`` table
    (``frame.itertuples()``): anything with ``level``, ``method``, ``nuts_code``, ``nuts_version``,
    ``source_code`` and ``source_version``. ``converted`` counts source codes read in another NUTS
    version than the one they were placed in; ``recoded`` those whose code changed on the way.
    """
    by_level = dict.fromkeys((*_LEVELS.values(), "unresolved"), 0)
    by_method: dict[str, int] = dict.fromkeys(METHODS, 0)
    converted = recoded = n = 0
    for m in matches:
        n += 1
        level = getattr(m, "level", None)
        # a frame's missing level is NaN, and NaN != NaN
        by_level[_LEVELS.get(int(level), "unresolved") if level is not None and level == level else "unresolved"] += 1
        by_method[str(m.method)] = by_method.get(str(m.method), 0) + 1
        source_version = getattr(m, "source_version", None)
        if m.method == "source" and isinstance(source_version, str) and source_version != m.nuts_version:
            converted += 1
            recoded += getattr(m, "source_code", None) != m.nuts_code
    share = (lambda k: round(k / n, 4)) if n else (lambda k: 0.0)
    return {"actors": n, "by_level": by_level, "by_level_share": {k: share(v) for k, v in by_level.items()},
            "by_method": by_method, "by_method_share": {k: share(v) for k, v in by_method.items()},
            "converted": converted, "recoded": recoded}


def load_region_sets(path: Path | str, name: str | None = None) -> dict[str, frozenset[str]]:
    """{name: NUTS codes} from a CSV with a ``nuts_code`` column; the name defaults to the file
    stem less its period and level (``alpine_space_2021_2027_nuts2.csv`` -> ``alpine_space``)."""
    path = Path(path)
    set_name = name or re.sub(r"(_\d{4}){1,2}(_nuts\d)?$", "", path.stem)
    codes = frozenset(code.strip() for _, (code,) in read_columns(path, ("nuts_code",)))
    return {set_name: codes - {""}}


def region_in_set(code: str | None, codes: frozenset[str] | set[str]) -> bool:
    """True when ``code`` or one of its ancestors (by prefix) is in ``codes``."""
    return code is not None and any(code[:n] in codes for n in range(2, len(code) + 1))
