"""Language detection and lemmas on real sentences of the Alpine languages, offline."""

import pandas as pd
import pytest

from s3text.normalise import (
    STATUS_OK,
    STATUS_TOO_SHORT,
    STATUS_UNSUPPORTED,
    Normaliser,
    mark_duplicates,
)

SAMPLES = {
    "en": "The cooperative installs solar panels on the roofs of farms and stores the electricity in batteries.",
    "de": "Die Genossenschaft installiert Solaranlagen auf den Dächern der Bauernhöfe und speichert den Strom.",
    "it": "La cooperativa installa pannelli solari sui tetti delle aziende agricole e accumula l'energia elettrica.",
    "fr": "La coopérative installe des panneaux solaires sur les toits des fermes et stocke l'électricité produite.",
    "sl": "Zadruga namešča sončne elektrarne na strehe kmetij in shranjuje električno energijo v baterijah.",
}


@pytest.fixture(scope="module")
def normaliser() -> Normaliser:
    return Normaliser(min_tokens=3)


def test_detects_each_alpine_language_and_lemmatises(normaliser: Normaliser) -> None:
    results = normaliser.transform(list(SAMPLES.values()))
    assert [r.language for r in results] == list(SAMPLES)
    assert all(r.status == STATUS_OK for r in results)
    lemmas = {lang: r.lemmas.split() for lang, r in zip(SAMPLES, results, strict=True)}
    assert "farm" in lemmas["en"] and "roof" in lemmas["en"]  # plural → singular
    assert "dach" in lemmas["de"] or "bauernhof" in lemmas["de"]
    assert "tetto" in lemmas["it"]
    assert "toit" in lemmas["fr"] and "ferme" in lemmas["fr"]
    assert "streha" in lemmas["sl"] and "kmetija" in lemmas["sl"]  # simplemma: strehe → streha
    for lang, toks in lemmas.items():
        assert not {"the", "and", "die", "und", "la", "des", "in"} & set(toks), lang


def test_out_of_scope_language_is_flagged_not_forced(normaliser: Normaliser) -> None:
    [res] = normaliser.transform(["La cooperativa instala paneles solares en los tejados de las granjas cada año."])
    assert res.language == "es" and res.status == STATUS_UNSUPPORTED and res.lemmas == ""


def test_short_and_overlong_texts(normaliser: Normaliser) -> None:
    short, long = normaliser.transform(["Solar roofs.", "energy storage " * 20000])
    assert short.status == STATUS_TOO_SHORT
    assert long.truncated and long.status == STATUS_OK  # cut at max_chars, not a spaCy E088 crash


def test_mark_duplicates_keeps_the_earliest_whatever_the_order() -> None:
    docs = pd.DataFrame({
        "doc_id": ["b", "a", "c", "d"],
        "content_hash": ["h1", "h1", "h2", "h1"],
        "date": pd.to_datetime(["2019-01-01", "2020-01-01", "2018-01-01", "2019-01-01"]),
    })
    dup = mark_duplicates(docs)
    assert dup.tolist() == [None, "b", None, "b"]
    shuffled = docs.iloc[[3, 2, 1, 0]]
    assert mark_duplicates(shuffled).tolist() == ["b", None, "b", None]
