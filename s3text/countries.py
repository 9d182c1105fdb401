"""Countries as the pipeline writes them: the CORDIS/Eurostat two-letter code (``EL``, ``UK``).

Sources write ISO 3166 codes (``GR``, ``GB``), CORDIS codes or names ("Denmark", "Danmark",
"Österreich"); :func:`country_code` brings each to the one code, and says None for a value it does
not know, so a reader can report it instead of carrying a country no region can match. The names
are the generated table in :mod:`s3text.country_names` (English and native CLDR names).
"""

from __future__ import annotations

import re
from functools import lru_cache

from s3text.country_names import COUNTRY_NAMES
from s3text.textfold import strip_accents

__all__ = ["COUNTRY_ALIASES", "canonical_country", "country_code", "fold_country"]

# CORDIS and Eurostat write UK and EL; ISO 3166 writes GB and GR.
COUNTRY_ALIASES = {"GB": "UK", "GR": "EL"}
# Codes that are no ISO 3166 code but that CORDIS writes: Greece, the UK, Kosovo.
_CORDIS_ONLY = frozenset({"EL", "UK", "XK"})
_KNOWN = frozenset(COUNTRY_NAMES.values())  # every ISO 3166 code CLDR names
_NON_ALNUM = re.compile(r"[\W_]+")


@lru_cache(maxsize=512)
def canonical_country(country: str | None) -> str | None:
    """A two-letter code upper-cased, ISO GB/GR written UK/EL; anything else as given (upper case)."""
    if not country or not country.strip():
        return None
    cc = country.strip().upper()
    return COUNTRY_ALIASES.get(cc, cc)


def fold_country(name: str) -> str:
    """The key of a country name: case-folded, accents stripped, punctuation a single space."""
    return " ".join(_NON_ALNUM.sub(" ", strip_accents(name.casefold())).split())


@lru_cache(maxsize=1024)
def country_code(value: str | None) -> str | None:
    """The code of a country given as ISO-2, CORDIS code (EL, UK) or name, any case or accents;
    None for an empty or unknown value."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        code = canonical_country(text)
        return code if code in _KNOWN or code in _CORDIS_ONLY else None
    return COUNTRY_NAMES.get(fold_country(text))
