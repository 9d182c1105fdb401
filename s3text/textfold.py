"""Accent stripping shared by the name keys of organisations and of places.

Each caller folds case first and tokenises afterwards by its own rules; only the step in between,
"Universität" to "universitat", is common. Umlaut spellings ("ue"), transliteration of other
scripts and letters only one caller maps stay with that caller.
"""

from __future__ import annotations

import unicodedata

# Lower-case letters NFKD does not decompose, so stripping marks alone would leave them.
LETTERS = {"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ı": "i"}
_LETTERS = str.maketrans(LETTERS)


def strip_accents(text: str, letters: dict[int, str] = _LETTERS) -> str:
    """``text`` (already case-folded) with ``letters`` replaced, then NFKD without combining marks."""
    text = unicodedata.normalize("NFKD", text.translate(letters))
    return "".join(c for c in text if not unicodedata.combining(c))
