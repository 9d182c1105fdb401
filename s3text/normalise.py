"""Language detection, lemmas and stop words, and duplicate marking.

Everything runs offline: lingua ships its language models in the wheel, spaCy blank pipelines
take lookup lemmas from ``spacy-lookups-data`` (en, de, it, fr), and Slovenian, which has no
spaCy lookup table, is lemmatised with simplemma.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd

logger = logging.getLogger(__name__)

SPACY_LOOKUP_LANGUAGES = frozenset({"en", "de", "it", "fr"})

STATUS_OK = "ok"
STATUS_UNSUPPORTED = "unsupported_language"
STATUS_TOO_SHORT = "too_short"
STATUS_DUPLICATE = "duplicate"


def stop_words(languages: Sequence[str]) -> frozenset[str]:
    """spaCy's stop-word lists of several languages, merged (a multilingual corpus needs all)."""
    import spacy.util

    words: set[str] = set()
    for lang in languages:
        words |= set(spacy.util.get_lang_class(lang).Defaults.stop_words)
    return frozenset(w.casefold() for w in words)


@dataclass(frozen=True)
class NormalisedText:
    language: str | None
    lemmas: str
    n_tokens: int
    truncated: bool
    status: str


class Normaliser:
    """Detects the language of each text and reduces it to lower-case content lemmas.

    Parameters are explicit and stored as given; pipelines are built on first use.
    """

    def __init__(
        self,
        *,
        supported_languages: Sequence[str] = ("en", "de", "it", "fr", "sl"),
        detect_languages: Sequence[str] = ("en", "de", "it", "fr", "sl", "es", "nl", "pt", "pl", "hr"),
        min_tokens: int = 5,
        max_chars: int = 20000,
    ) -> None:
        self.supported_languages = tuple(supported_languages)
        self.detect_languages = tuple(dict.fromkeys((*supported_languages, *detect_languages)))
        self.min_tokens = min_tokens
        self.max_chars = max_chars
        self._pipelines: dict[str, Callable[[Sequence[str]], list[list[str]]]] = {}

    @cached_property
    def _detector(self) -> Any:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in self.detect_languages]
        return LanguageDetectorBuilder.from_languages(*langs).build()

    def detect(self, texts: Sequence[str]) -> list[str | None]:
        found = self._detector.detect_languages_in_parallel_of(list(texts))
        return [lang.iso_code_639_1.name.lower() if lang is not None else None for lang in found]

    def _lemmatiser(self, lang: str) -> Callable[[Sequence[str]], list[list[str]]]:
        if lang not in self._pipelines:
            self._pipelines[lang] = self._build_lemmatiser(lang)
        return self._pipelines[lang]

    def _build_lemmatiser(self, lang: str) -> Callable[[Sequence[str]], list[list[str]]]:
        import spacy

        nlp = spacy.blank(lang)
        if lang in SPACY_LOOKUP_LANGUAGES:
            nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
            nlp.initialize()
        nlp.max_length = max(self.max_chars + 1, nlp.max_length)
        # Per-language stop words: a merged list would drop real words ("case" in Italian).
        stops = frozenset(w.casefold() for w in nlp.Defaults.stop_words)

        def keep(lemma: str) -> bool:
            return len(lemma) > 1 and lemma not in stops

        if lang in SPACY_LOOKUP_LANGUAGES:

            def run(texts: Sequence[str]) -> list[list[str]]:
                out = []
                for doc in nlp.pipe(texts, batch_size=64):
                    lemmas = ((t.lemma_ or t.text).casefold() for t in doc if t.is_alpha and not t.is_stop)
                    out.append([lem for lem in lemmas if keep(lem)])
                return out

            return run

        import simplemma

        def run_simplemma(texts: Sequence[str]) -> list[list[str]]:
            out = []
            for doc in nlp.pipe(texts, batch_size=64):
                words = (t.text for t in doc if t.is_alpha and not t.is_stop)
                lemmas = (simplemma.lemmatize(w, lang=lang).casefold() for w in words)
                out.append([lem for lem in lemmas if keep(lem)])
            return out

        return run_simplemma

    def transform(self, texts: Sequence[str]) -> list[NormalisedText]:
        """Normalise texts in order. Texts over ``max_chars`` are cut there and flagged."""
        clipped = [t[: self.max_chars] for t in texts]
        truncated = [len(t) > self.max_chars for t in texts]
        languages = self.detect(clipped)
        lemmas: list[list[str] | None] = [None] * len(texts)
        for lang in sorted({lang for lang in languages if lang in self.supported_languages}):
            idx = [i for i, found in enumerate(languages) if found == lang]
            for i, found_lemmas in zip(idx, self._lemmatiser(lang)([clipped[i] for i in idx]), strict=True):
                lemmas[i] = found_lemmas
        results = []
        for found, toks, cut in zip(languages, lemmas, truncated, strict=True):
            if toks is None:
                results.append(NormalisedText(found, "", 0, cut, STATUS_UNSUPPORTED))
            else:
                status = STATUS_OK if len(toks) >= self.min_tokens else STATUS_TOO_SHORT
                results.append(NormalisedText(found, " ".join(toks), len(toks), cut, status))
        return results


def mark_duplicates(docs: pd.DataFrame) -> pd.Series:
    """For each document, the doc_id of the first document with the same content hash, else None.

    "First" is the earliest date, then the smallest doc_id, so the choice does not depend on the
    order rows arrive in.
    """
    ordered = docs.sort_values(["content_hash", "date", "doc_id"])
    first = ordered.groupby("content_hash")["doc_id"].transform("first")
    dup = first.where(first != ordered["doc_id"])
    return dup.reindex(docs.index).astype(object).where(lambda s: s.notna(), None)
