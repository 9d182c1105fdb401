"""Municipality (LAU) names to NUTS-3 codes: the gazetteer behind :mod:`s3text.regions`, and the
folding that lets messy city names ("PARIS CEDEX 07", "Muenchen", "VOLOS") meet LAU names
("Paris", "München", "Κοινότητα Βόλου"). Data: ``data/nuts/gazetteer_lau2020_nuts2021.csv.gz``
and the curated ``city_aliases.csv`` beside it (see that folder's SOURCE.md)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from s3text.countries import COUNTRY_ALIASES, canonical_country
from s3text.refdata import int_field, read_columns
from s3text.textfold import LETTERS, strip_accents

log = logging.getLogger(__name__)

__all__ = ["COUNTRY_ALIASES", "Gazetteer", "canonical_country"]

_Entry = tuple[int, str, str]  # (population, NUTS-3 code, LAU name) of a gazetteer key

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
_HAS_UMLAUT = re.compile(r"[äöüøåÄÖÜØÅ]")

# Applied before accents are stripped: й must not decay to и. Place names also read Icelandic ð
# as d, which organisation keys keep (ß needs no entry: case folding has made it ss).
_PRE = str.maketrans({**LETTERS, "ð": "d", "й": "y", "ё": "yo"})
_UMLAUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ø": "oe", "å": "aa"})
_GREEK_DIGRAPHS = (("ου", "ou"), ("αυ", "av"), ("ευ", "ev"))
_LATIN = ("a v g d e z i th i k l m n x o p r s s t i f ch ps o "
          "a b v g d e zh z i k l m n o p r s t u f h ts ch sh sht a y yu ya gj kj j lj nj dzh dz")
_SCRIPT = str.maketrans(dict(zip("αβγδεζηθικλμνξοπρσςτυφχψωабвгдежзиклмнопрстуфхцчшщъьюяѓќјљњџѕ",
                                 _LATIN.split(), strict=True)))


def _fold(text: str, umlauts: bool) -> list[str]:
    """Lower-case ASCII tokens; ``umlauts`` spells ä as ae (the other way round is the default)."""
    text = text.casefold()
    if umlauts:
        text = text.translate(_UMLAUT)
    if not text.isascii():
        text = strip_accents(text, _PRE)
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
        for i, (country, name, nuts3, pop) in read_columns(path, _GAZETTEER_COLUMNS):
            gaz.add(country, name, nuts3, int_field(pop, path, i, "population"))
        alias_path = Path(aliases) if aliases else path.with_name("city_aliases.csv")
        if aliases or alias_path.exists():
            for _, (country, alias, nuts3) in read_columns(alias_path, ("country", "alias", "nuts3_code")):
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
