"""Place actors in NUTS regions: a source's NUTS code (converted from its NUTS version where
needed, :mod:`s3text.nuts_versions`), else city through the LAU gazetteer (NUTS-3), else the
country (NUTS-0). Data: ``data/nuts/`` (see its SOURCE.md), rebuilt by
``scripts/build_gazetteer.py`` and ``scripts/build_nuts_correspondence.py``."""

from __future__ import annotations

import csv
import gzip
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from s3text.errors import InputError
from s3text.nuts_versions import NutsConverter, normalise_code
from s3text.records import Actor

log = logging.getLogger(__name__)

_Entry = tuple[int, str, str]  # (population, NUTS-3 code, LAU name) of a gazetteer key
Method = Literal["source", "gazetteer", "country", "unresolved"]

# CORDIS and Eurostat write UK and EL; ISO 3166 writes GB and GR.
COUNTRY_ALIASES = {"GB": "UK", "GR": "EL"}
# The UK left NUTS in 2021; the gazetteer (and older CORDIS data) keep its NUTS 2016 codes.
LEGACY_VERSIONS = {"UK": "2016"}
_NUTS_COLUMNS = ("nuts_code", "level", "label", "parent_code")
_GAZETTEER_COLUMNS = ("country", "name", "nuts3_code", "population")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Dropped words: where the post goes (CEDEX, boîte postale), and what LAU names add around the
# place ("Oslo kommune", "Grad Zagreb", "Tartu linn", "Municipiul Cluj-Napoca", Greek "Κοινότητα").
_DROP = _words("cedex bp cs tsa kommune kommun grad linn vald municipiul oras comuna koinotita "
                "psevdodimotiki dimotiki")
# Words too common to identify a place alone or as the start of a longer name.
_GENERIC = _words("saint sainte san santa santo sant bad new north south east west upper lower nord sud "
                  "ober unter nieder gross klein agios agia agioi ano kato nea neo")
_SAINTS = {"st": "saint", "sankt": "saint", "ste": "sainte"}
# LAU names in Greece are genitives ("Κοινότητα Βόλου"); CORDIS writes nominatives ("Volos").
_GREEK_CASES = {"ou": ("os", "o", ""), "is": ("i",), "as": ("a",), "on": ("a",)}
# Connecting words that spellings drop or change ("Reggio nell'Emilia" ~ "Reggio Emilia").
_LINKS = _words("a al all alla am an b bei d de del della dell der des di du e en et i im in l la le les "
                "nell nella ob on sul sur sous upon y")
# Qualifiers whose removal gives the name people write: German "Garching b.München", "Frankfurt
# am Main"; UK "City of Edinburgh", "Aberdeen City"; Portuguese parish unions "Oeiras e São Julião".
_QUALIFIER = re.compile(r"\s+(?:(?:b|a|i|a\.d|v\.d\.H)\.\s*|(?:bei|am|an der|im|in|ob der|e)\s+)\S.*$"
                        # The City of London is one square mile, not London.
                        r"|^City of\s+(?!London)|\s+City$")
# Most names need none of the variants above; this cheap test lets them skip the work.
_COMPLEX = re.compile(r"[/,(]|\.|\s-\s|\s(?:bei|am|an|im|in|ob|e)\s|^City of\s|\sCity$")
_PARENS = re.compile(r"\s*\([^)]*\)")
_SPLIT = re.compile(r"\s*(?:/|,|\s-\s|\(|\))\s*")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_COMBINING = re.compile(r"[\u0300-\u036f]")
_HAS_UMLAUT = re.compile(r"[äöüøåÄÖÜØÅ]")

# Applied before accents are stripped: й must not decay to и, and ß ø æ œ ł do not decompose.
_PRE = str.maketrans({"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
                      "ı": "i", "й": "y", "ё": "yo"})
_UMLAUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ø": "oe", "å": "aa"})
_GREEK_DIGRAPHS = (("ου", "ou"), ("αυ", "av"), ("ευ", "ev"))
_LATIN = ("a v g d e z i th i k l m n x o p r s s t i f ch ps o "
          "a b v g d e zh z i k l m n o p r s t u f h ts ch sh sht a y yu ya gj kj j lj nj dzh dz")
_SCRIPT = str.maketrans(dict(zip("αβγδεζηθικλμνξοπρσςτυφχψωабвгдежзиклмнопрстуфхцчшщъьюяѓќјљњџѕ",
                                 _LATIN.split(), strict=True)))


@lru_cache(maxsize=512)
def canonical_country(country: str | None) -> str | None:
    if not country or not country.strip():
        return None
    cc = country.strip().upper()
    return COUNTRY_ALIASES.get(cc, cc)


def _read_csv(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """(line number, values of ``columns``) per row of a CSV, gzip'd when the name ends in .gz."""
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rt", encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            if missing := [c for c in columns if c not in header]:
                raise InputError(f"missing columns {missing}", file=str(path), row=1)
            where = [header.index(c) for c in columns]
            for i, row in enumerate(reader, start=2):
                if len(row) != len(header):
                    raise InputError(f"{len(row)} fields, expected {len(header)}", file=str(path), row=i)
                yield i, [row[j] for j in where]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from exc


def _int(value: str, path: Path, row: int, field: str) -> int:
    try:
        return int(value or 0)
    except ValueError:
        raise InputError(f"not an integer: {value!r}", file=str(path), row=row, field=field) from None


def _fold(text: str, umlauts: bool) -> list[str]:
    """Lower-case ASCII tokens; ``umlauts`` spells ä as ae (the other way round is the default)."""
    text = text.casefold()
    if umlauts:
        text = text.translate(_UMLAUT)
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text.translate(_PRE)))
        if not text.isascii():
            for greek, latin in _GREEK_DIGRAPHS:
                text = text.replace(greek, latin)
            text = text.translate(_SCRIPT)
    return [_SAINTS.get(t, t) for t in _NON_ALNUM.sub(" ", text).split()]


def _tokens(text: str) -> list[list[str]]:
    """Tokens per umlaut spelling (a second list only when the text has umlauts), noise dropped."""
    # Postcodes, arrondissements and CEDEX numbers all carry digits.
    spellings = (False, True) if _HAS_UMLAUT.search(text) else (False,)
    out = [[t for t in _fold(text, umlauts) if t.isalpha() and t not in _DROP] for umlauts in spellings]
    return [tokens for tokens in out if tokens]


def _loose(tokens: list[str]) -> str:
    return "".join(t for t in tokens if t not in _LINKS) or "".join(tokens)


def _keys(text: str) -> Iterator[tuple[str, str]]:
    """(exact key, loose key) per umlaut spelling; keys ignore spaces, hyphens and apostrophes."""
    for tokens in _tokens(text):
        yield "".join(tokens), _loose(tokens)


def _put(table: dict[str, _Entry], key: str, entry: _Entry) -> None:
    # Homonyms: the most populous municipality keeps the key.
    if key not in table or entry[0] > table[key][0]:
        table[key] = entry


class NutsTable:
    """NUTS codes of one version with their level and national-language label."""

    def __init__(self, rows: dict[str, tuple[int, str | None]], version: str = "2021") -> None:
        self._rows = rows
        self.version = version

    @classmethod
    def load(cls, path: Path | str, version: str = "2021") -> NutsTable:
        path, rows, parents = Path(path), {}, set()
        for i, (code, level, label, parent) in _read_csv(path, _NUTS_COLUMNS):
            rows[code] = (_int(level, path, i, "level"), label or None)
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


class Gazetteer:
    """Municipality (LAU) names to NUTS-3 codes, per country; homonyms go to the most populous."""

    def __init__(self) -> None:
        # Per country, tiers tried in order: 0 full, bilingual, everyday or alias name; 1 loose
        # name (link words dropped, parts of "A - B"); 2 leading words of a name ("Le Chesnay"
        # for the 2019 merger "Le Chesnay-Rocquencourt"). Values: (population, NUTS-3, LAU name).
        self._index: dict[str, tuple[dict[str, _Entry], dict[str, _Entry], dict[str, _Entry]]] = {}
        self.codes: dict[str, set[str]] = {}

    @property
    def countries(self) -> frozenset[str]:
        return frozenset(self._index)

    @classmethod
    def load(cls, path: Path | str, aliases: Path | str | None = None) -> Gazetteer:
        """Read the gazetteer and the curated aliases (default: ``city_aliases.csv`` beside it)."""
        path, gaz = Path(path), cls()
        for i, (country, name, nuts3, pop) in _read_csv(path, _GAZETTEER_COLUMNS):
            gaz.add(country, name, nuts3, _int(pop, path, i, "population"))
        alias_path = Path(aliases) if aliases else path.with_name("city_aliases.csv")
        if aliases or alias_path.exists():
            for _, (country, alias, nuts3) in _read_csv(alias_path, ("country", "alias", "nuts3_code")):
                gaz.add_alias(country, alias, nuts3)
        log.debug("gazetteer %s: %d countries", path, len(gaz._index))
        return gaz

    def add_alias(self, country: str, alias: str, nuts3: str) -> None:
        """A name that outranks any municipality: exonyms ("Munich"), non-LAU cities ("Lisboa")."""
        exact_tier = self._index.setdefault(canonical_country(country) or "", ({}, {}, {}))[0]
        for exact, _ in _keys(alias):
            exact_tier[exact] = (1 << 40, nuts3, f"alias:{alias}")

    def add(self, country: str, name: str, nuts3: str, population: int = 0) -> None:
        cc = canonical_country(country) or ""
        exact_tier, loose_tier, prefix_tier = self._index.setdefault(cc, ({}, {}, {}))
        self.codes.setdefault(cc, set()).add(nuts3)
        entry = (population, nuts3, name)
        full = _PARENS.sub("", name)
        names = {name}
        if _COMPLEX.search(name):
            # Everyday names ("Freiburg" for "Freiburg im Breisgau, Stadt" and "Freiburg (Elbe),
            # Flecken") compete with full names, so the most populous place wins the short form.
            names |= {*name.split("/"), full, *full.split("/")}
            names |= {n.split(",")[0] for n in names}
            names |= {_QUALIFIER.sub("", n) for n in names}
            for text in set(_SPLIT.split(name)) - names:
                for tokens in _tokens(text):
                    _put(loose_tier, _loose(tokens), entry)
        for text in names:
            for tokens in _tokens(text):
                exact = "".join(tokens)
                _put(exact_tier, exact, entry)
                _put(loose_tier, _loose(tokens), entry)
                for ending in _GREEK_CASES.get(exact[-2:], ()) if cc in ("EL", "CY") else ():
                    _put(loose_tier, exact[:-2] + ending, entry)
                if text != full:
                    continue
                for k in range(1, len(tokens)):
                    prefix = "".join(tokens[:k])
                    if len(prefix) >= 4 and tokens[k - 1] not in _LINKS and prefix not in _GENERIC:
                        _put(prefix_tier, prefix, entry)

    def _find(self, country: str, text: str, tiers: tuple[int, ...] = (0, 1, 2)) -> _Entry | None:
        keys, index = list(_keys(text)), self._index[country]
        for tier in tiers:
            for exact, loose in keys:
                if hit := index[tier].get(loose if tier == 1 else exact):
                    return hit
        return None

    def explain(self, country: str | None, city: str | None) -> tuple[str, str] | None:
        """(NUTS-3 code, matched LAU name or alias) for a city, or None; for audits and debugging."""
        cc = canonical_country(country)
        if cc is None or cc not in self._index or not city or not city.strip():
            return None
        hit = self._find(cc, city)
        if not hit:
            # "ZWIJNAARDE - GENT", "Leuven Heverlee", "SWINDON WILTSHIRE": try the parts, then
            # runs of words, longest first; a single short or generic word is too weak to trust.
            parts = [p for p in _SPLIT.split(city) if p and p != city]
            hit = next(filter(None, (self._find(cc, p) for p in parts)), None)
        if not hit:
            words = next(iter(_tokens(city)), [])
            runs = (words[i:i + n] for n in range(len(words) - 1, 0, -1) for i in range(len(words) - n + 1))
            strong = (r for r in runs if r[0] not in _LINKS and r[-1] not in _LINKS
                      and (len(r) > 1 or (len(r[0]) >= 4 and r[0] not in _GENERIC)))
            hit = next(filter(None, (self._find(cc, " ".join(r), (0, 1)) for r in strong)), None)
        return (hit[1], hit[2]) if hit else None

    def lookup(self, country: str | None, city: str | None) -> str | None:
        """NUTS-3 code for a (messy) city name, or None when nothing matches."""
        hit = self.explain(country, city)
        return hit[0] if hit else None


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


# For a code whose source does not say the version: after the target version, newest first.
# Most codes are the same region in every version, so the target version (no conversion) is
# right for nearly all; a code it lacks was most likely retired or introduced lately. 2024 comes
# next because sources without a version are mostly current ones; then 2016 (Horizon 2020 era,
# the UK) before 2013 (FP7 era), as recent data outnumber old data in the feeds.
GUESS_VERSIONS = ("2024", "2016", "2013")


class RegionResolver:
    """Resolve actors to regions: source NUTS code, then gazetteer (city), then country.

    With a :class:`~s3text.nuts_versions.NutsConverter`, a source code of another NUTS version is
    converted to the table's version (a split region gives the region containing all its parts).
    """

    def __init__(self, nuts: NutsTable, gazetteer: Gazetteer, converter: NutsConverter | None = None,
                 target_version: str | None = None) -> None:
        if target_version is not None and target_version != nuts.version:
            raise ValueError(f"target version {target_version} differs from the NUTS table's {nuts.version}")
        self.nuts = nuts
        self.gazetteer = gazetteer
        self.converter = converter
        self.target_version = nuts.version
        self._cache: dict[tuple[str | None, ...], RegionMatch] = {}

    def _match(self, code: str, method: Method, note: str | None,
               source: tuple[str | None, str | None] = (None, None)) -> RegionMatch:
        version = None if self.nuts.is_valid(code) else LEGACY_VERSIONS.get(code[:2])
        if version:  # UK: NUTS 2016, not in the table, so no label
            return RegionMatch(code, len(code) - 2, version, method, None, note, *source)
        nuts = self.nuts
        return RegionMatch(code, nuts.level(code), nuts.version, method, nuts.label(code), note, *source)

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
        cc = canonical_country(actor.country)
        if cc and (self.nuts.level(cc) == 0 or cc in LEGACY_VERSIONS):
            return self._match(cc, "country", note, source)
        return RegionMatch(None, None, self.nuts.version, "unresolved", None, note, *source)

    def resolve_many(self, actors: Iterable[Actor]) -> list[RegionMatch]:
        """Resolve in order; repeated (country, city, NUTS code, version) are looked up once."""
        out = []
        for actor in actors:
            key = (actor.country, actor.city, actor.nuts_code, actor.nuts_version)
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
    by_method: dict[str, int] = dict.fromkeys(("source", "gazetteer", "country", "unresolved"), 0)
    converted = recoded = n = 0
    for m in matches:
        n += 1
        level = getattr(m, "level", None)
        level = None if level is None or level != level else int(level)  # NaN from a frame
        by_level[_LEVELS.get(level, "unresolved") if level is not None else "unresolved"] += 1
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
    codes = frozenset(code.strip() for _, (code,) in _read_csv(path, ("nuts_code",)))
    return {set_name: codes - {""}}


def region_in_set(code: str | None, codes: frozenset[str] | set[str]) -> bool:
    """True when ``code`` or one of its ancestors (by prefix) is in ``codes``."""
    return code is not None and any(code[:n] in codes for n in range(2, len(code) + 1))
