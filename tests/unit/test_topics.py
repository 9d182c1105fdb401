"""BERTopic on real embeddings of real projects: seeded fits agree, bad input fails clearly."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from s3text.embed import Embedder
from s3text.errors import ModelError
from s3text.normalise import Normaliser, stop_words
from s3text.topics import TopicModeler

STOPS = stop_words(("en", "de", "it", "fr", "sl"))
PARAMS = {"seed": 7, "min_topic_size": 6, "min_samples": 3, "umap_neighbors": 8, "stop_words": STOPS}


@pytest.fixture(scope="module")
def corpus(root: Path, embedder: Embedder) -> tuple[list[str], np.ndarray]:
    with (root / "data/cordis_fp7/projects.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:160]
    texts = [f"{r['title']}. {r['objective'][:600]}" for r in rows]
    lemmas = [n.lemmas for n in Normaliser(min_tokens=1).transform(texts)]
    return lemmas, embedder.encode(texts)


@pytest.fixture(scope="module")
def fitted(corpus: tuple[list[str], np.ndarray]) -> TopicModeler:
    return TopicModeler(**PARAMS).fit(*corpus)  # type: ignore[arg-type]


def test_fit_finds_labelled_topics(fitted: TopicModeler) -> None:
    info = fitted.topic_info_
    assert len(info) >= 3
    assert info["size"].sum() + int((fitted.topics_ == -1).sum()) == len(fitted.topics_)
    assert all(len(label.split(", ")) == 3 for label in info["label"])
    terms = {w for t in info["top_terms"] for phrase in t.split(", ") for w in phrase.split()}
    assert not terms & STOPS, "labels carry no stop word of any supported language"
    assert 0.0 <= fitted.outlier_share_ < 0.8


def test_two_seeded_fits_give_identical_topics(fitted: TopicModeler, corpus: tuple[list[str], np.ndarray]) -> None:
    again = TopicModeler(**PARAMS).fit(*corpus)  # type: ignore[arg-type]
    np.testing.assert_array_equal(fitted.topics_, again.topics_)
    assert fitted.topic_info_.equals(again.topic_info_)


def test_too_few_documents_is_a_clear_error(corpus: tuple[list[str], np.ndarray]) -> None:
    lemmas, vectors = corpus
    with pytest.raises(ModelError, match="at least"):
        TopicModeler(**PARAMS).fit(lemmas[:5], vectors[:5])  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="embeddings"):
        TopicModeler(**PARAMS).fit(lemmas[:50], vectors[:40])  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="identical"):
        TopicModeler(**PARAMS).fit(["same text"] * 50, np.repeat(vectors[:1], 50, axis=0))  # type: ignore[arg-type]


def test_outlier_reduction_reassigns_only_similar_documents(fitted: TopicModeler,
                                                            corpus: tuple[list[str], np.ndarray]) -> None:
    assert fitted.outlier_share_ == fitted.outlier_share_before_ > 0, "no reduction unless configured"
    reduced = TopicModeler(**PARAMS, outlier_threshold=0.3).fit(*corpus)  # type: ignore[arg-type]
    assert reduced.outlier_share_before_ == fitted.outlier_share_
    assert reduced.outlier_share_ < reduced.outlier_share_before_
    kept = fitted.topics_ != -1
    np.testing.assert_array_equal(reduced.topics_[kept], fitted.topics_[kept]), "core members never move"
    moved = (fitted.topics_ == -1) & (reduced.topics_ != -1)
    assert (reduced.probabilities_[moved] == 0).all()
    assert reduced.topic_info_["size"].sum() == int((reduced.topics_ != -1).sum())
