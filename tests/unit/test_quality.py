"""Topic quality: NPMI, diversity and outlier share on corpora small enough to count by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from s3text.quality import (
    document_term_matrix,
    outlier_share,
    quality_report,
    topic_coherence,
    topic_diversity,
    topic_terms_from_info,
)

# 4 documents. df: apple 3, banana 2, cherry 2, date 2.
# Joint df: apple·banana 2, apple·cherry 1, banana·cherry 1, cherry·date 1, apple·date 1, banana·date 0.
DOCS = ["apple banana", "apple banana cherry", "cherry date", "apple date"]


def test_npmi_by_hand() -> None:
    # P(apple) = 3/4, P(banana) = 2/4, P(apple, banana) = 2/4:
    #   NPMI = log((1/2) / (3/4 · 1/2)) / -log(1/2) = log(4/3) / log 2 = 0.41504
    # P(cherry) = 2/4, P(apple, cherry) = 1/4:
    #   NPMI = log((1/4) / (3/4 · 1/2)) / -log(1/4) = log(2/3) / log 4 = -0.29248
    # P(banana, cherry) = 1/4 = P(banana) P(cherry): NPMI = 0.
    ab = math.log(4 / 3) / math.log(2)
    ac = math.log(2 / 3) / math.log(4)
    scores = topic_coherence({0: ["apple", "banana"], 1: ["apple", "banana", "cherry"]}, DOCS)
    assert scores.name == "npmi" and list(scores.index) == [0, 1]
    assert scores[0] == pytest.approx(0.4150375, abs=1e-7)
    assert scores[0] == pytest.approx(ab)
    assert scores[1] == pytest.approx((ab + ac + 0.0) / 3)


def test_npmi_limits() -> None:
    docs = ["solar panel", "solar panel grid", "wind turbine", "wind turbine grid", "grid"]
    scores = topic_coherence({0: ["solar", "panel"], 1: ["solar", "wind"], 2: ["grid", "solar"]}, docs)
    assert scores[0] == pytest.approx(1.0)  # always together: P(s) = P(p) = P(s, p) = 2/5
    assert scores[1] == -1.0  # never together
    # grid 3/5, solar 2/5, both 1/5: log((1/5) / (6/25)) / log 5
    assert scores[2] == pytest.approx(math.log(5 / 6) / math.log(5))
    everywhere = topic_coherence({0: ["grid", "power"]}, ["grid power", "power grid"])
    assert everywhere[0] == 1.0  # both in every document: the 0/0 limit


def test_absent_terms_are_left_out_and_outlier_topic_skipped() -> None:
    with_absent = topic_coherence({-1: ["apple", "date"], 0: ["apple", "banana", "zucchini"], 1: ["zucchini"]}, DOCS)
    assert list(with_absent.index) == [0, 1]
    assert with_absent[0] == pytest.approx(math.log(4 / 3) / math.log(2))  # only the apple-banana pair
    assert np.isnan(with_absent[1])


def test_bigram_needs_the_phrase() -> None:
    docs = ["smart grid storage", "grid smart", "storage battery", "smart grid"]
    x = document_term_matrix(docs, ["smart grid", "storage", "smart"]).toarray()
    assert x[:, 0].tolist() == [1, 0, 0, 1]
    assert x[:, 2].tolist() == [1, 1, 0, 1]
    # P(smart grid) = 2/4, P(storage) = 2/4, joint 1/4 = product: NPMI 0. Matching the two words
    # anywhere would give P(smart grid) = 3/4 and a negative score.
    assert topic_coherence({0: ["smart grid", "storage"]}, docs)[0] == pytest.approx(0.0, abs=1e-12)
    assert topic_coherence({0: ["Smart  Grid", "storage"]}, docs)[0] == pytest.approx(0.0, abs=1e-12)


def test_stop_words_join_bigrams_as_the_topic_model_does() -> None:
    docs = ["smart case grid", "smart grid", "storage"]
    assert document_term_matrix(docs, ["smart grid"]).toarray()[:, 0].tolist() == [0, 1, 0]
    assert document_term_matrix(docs, ["smart grid"], stop_words=["Case"]).toarray()[:, 0].tolist() == [1, 1, 0]


def test_top_n_limits_the_terms() -> None:
    scores = topic_coherence({0: ["apple", "banana", "cherry"]}, DOCS, top_n=2)
    assert scores[0] == pytest.approx(math.log(4 / 3) / math.log(2))


def test_diversity_by_hand() -> None:
    assert topic_diversity({0: ["a", "b", "c"], 1: ["c", "d", "e"]}) == pytest.approx(5 / 6)
    assert topic_diversity({0: ["a", "b", "c", "d"], 1: ["a", "b", "x", "y"]}, top_n=2) == 0.5
    assert topic_diversity({0: ["a", "b"], 1: ["c", "d"], -1: ["a", "b"]}) == 1.0  # outlier topic ignored
    assert np.isnan(topic_diversity({}))


def test_outlier_share() -> None:
    assert outlier_share(np.array([-1, 0, 0, -1])) == 0.5
    assert outlier_share(np.array([0, 1])) == 0.0
    assert np.isnan(outlier_share(np.array([], dtype=int)))


def test_quality_report() -> None:
    terms = {0: ["apple", "banana"], 1: ["cherry", "date"], 2: ["banana", "date"]}
    report = quality_report(terms, DOCS, np.array([0, 0, 1, -1]))
    # NPMI: apple-banana log(4/3)/log 2; cherry-date log((1/4)/(1/4)) = 0; banana-date never: -1.
    ab = math.log(4 / 3) / math.log(2)
    assert report == {
        "n_topics": 3.0,
        "coherence_npmi": pytest.approx((ab + 0.0 - 1.0) / 3),
        "coherence_npmi_min": -1.0,
        "diversity": pytest.approx(4 / 6),
        "outlier_share": 0.25,
    }
    with pytest.raises(ValueError, match="topic assignments"):
        quality_report(terms, DOCS, np.array([0, 1]))


def test_terms_from_topic_info() -> None:
    info = pd.DataFrame({"topic_id": [0, 1], "label": ["x", "y"], "top_terms": ["solar, panel, smart grid", ""],
                         "size": [3, 2]})
    assert topic_terms_from_info(info) == {0: ["solar", "panel", "smart grid"], 1: []}
