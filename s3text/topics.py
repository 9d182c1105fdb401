"""Topic modelling on cached embeddings with BERTopic, seeded so two fits agree.

``TopicModeler`` follows the scikit-learn contract: ``__init__`` stores parameters, ``fit``
builds the sub-models (UMAP with ``random_state``, HDBSCAN, a CountVectorizer over our own
lemmas) and sets the learned attributes that end in ``_``. Labels come from BERTopic's c-TF-IDF
over the lemmas, so they read as base forms in every language.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from s3text.config import TopicsConfig
from s3text.errors import ModelError

logger = logging.getLogger(__name__)

OUTLIER = -1


class TopicModeler:
    def __init__(
        self,
        *,
        seed: int = 42,
        min_topic_size: int = 15,
        min_samples: int | None = 5,
        cluster_selection: str = "leaf",
        umap_neighbors: int = 15,
        umap_components: int = 5,
        top_terms: int = 10,
        min_df: int = 2,
        ngram_max: int = 2,
        stop_words: Collection[str] | None = None,
        outlier_threshold: float | None = None,
    ) -> None:
        self.seed = seed
        self.min_topic_size = min_topic_size
        self.min_samples = min_samples
        self.cluster_selection = cluster_selection
        self.umap_neighbors = umap_neighbors
        self.umap_components = umap_components
        self.top_terms = top_terms
        self.min_df = min_df
        self.ngram_max = ngram_max
        self.stop_words = stop_words
        self.outlier_threshold = outlier_threshold

    @classmethod
    def from_config(cls, cfg: TopicsConfig, *, stop_words: Collection[str] | None = None) -> TopicModeler:
        return cls(seed=cfg.seed, min_topic_size=cfg.min_topic_size, min_samples=cfg.min_samples,
                   cluster_selection=cfg.cluster_selection, umap_neighbors=cfg.umap_neighbors,
                   umap_components=cfg.umap_components, top_terms=cfg.top_terms, min_df=cfg.min_df,
                   ngram_max=cfg.ngram_max, stop_words=stop_words, outlier_threshold=cfg.outlier_threshold)

    def _check(self, docs: Sequence[str], embeddings: np.ndarray) -> None:
        if len(docs) != len(embeddings):
            raise ModelError(f"{len(docs)} documents but {len(embeddings)} embeddings")
        need = max(self.min_topic_size * 2, self.umap_neighbors + 2, self.umap_components + 2)
        if len(docs) < need:
            raise ModelError(
                f"topic modelling needs at least {need} documents with min_topic_size="
                f"{self.min_topic_size} and umap_neighbors={self.umap_neighbors}; got {len(docs)}"
            )
        if len({d for d in docs}) < 2:
            raise ModelError("all documents are identical; there is nothing to cluster")

    def _build(self, n_docs: int) -> Any:
        from bertopic import BERTopic
        from hdbscan import HDBSCAN
        from sklearn.feature_extraction.text import CountVectorizer
        from umap import UMAP

        umap_model = UMAP(
            n_neighbors=self.umap_neighbors, n_components=self.umap_components, min_dist=0.0,
            metric="cosine", random_state=self.seed,
        )
        hdbscan_model = HDBSCAN(
            min_cluster_size=self.min_topic_size, min_samples=self.min_samples, metric="euclidean",
            cluster_selection_method=self.cluster_selection, prediction_data=True,
        )
        # min_df counts documents; on a tiny corpus it could remove every term, so cap it.
        vectorizer = CountVectorizer(
            ngram_range=(1, self.ngram_max), min_df=min(self.min_df, max(1, n_docs // 10)),
            stop_words=_tokenised_stop_words(self.stop_words) if self.stop_words else None,
        )
        return BERTopic(
            umap_model=umap_model, hdbscan_model=hdbscan_model, vectorizer_model=vectorizer,
            top_n_words=self.top_terms, calculate_probabilities=False, verbose=False,
        )

    def fit(self, docs: Sequence[str], embeddings: np.ndarray) -> TopicModeler:
        """Cluster ``embeddings``; ``docs`` (lemma strings) only feed the topic labels."""
        embeddings = np.asarray(embeddings, dtype=np.float32)
        self._check(docs, embeddings)
        model = self._build(len(docs))
        topics, probs = model.fit_transform(list(docs), embeddings=embeddings)
        topics = np.asarray(topics, dtype=int)
        probs = np.asarray(probs if probs is not None else np.ones(len(docs)), dtype=float)
        self.outlier_share_before_ = float(np.mean(topics == OUTLIER))
        if self.outlier_threshold is not None and (topics == OUTLIER).any() and (topics != OUTLIER).any():
            # BERTopic's "embeddings" strategy: an outlier joins the topic whose embedding it is most
            # similar to, if at least this similar; c-TF-IDF is then recomputed with the new members.
            reduced = np.asarray(model.reduce_outliers(list(docs), topics.tolist(), strategy="embeddings",
                                                       embeddings=embeddings, threshold=self.outlier_threshold))
            probs = np.where((topics == OUTLIER) & (reduced != OUTLIER), 0.0, probs)  # not a core member
            topics = reduced
            model.update_topics(list(docs), topics=topics.tolist(), vectorizer_model=model.vectorizer_model,
                                top_n_words=self.top_terms)
        self.model_ = model
        self.topics_ = topics
        self.probabilities_ = probs
        self.topic_info_ = self._topic_info(model)
        share = float(np.mean(self.topics_ == OUTLIER))
        self.outlier_share_ = share
        logger.info("fitted %d topics on %d documents (%.1f%% outliers)", len(self.topic_info_), len(docs),
                    100 * share)
        return self

    def _topic_info(self, model: Any) -> pd.DataFrame:
        rows = []
        sizes = pd.Series(self.topics_).value_counts()
        for topic_id in sorted(t for t in set(self.topics_.tolist()) if t != OUTLIER):
            words = [w for w, _ in (model.get_topic(topic_id) or [])][: self.top_terms]
            label = ", ".join(words[:3]) if words else f"topic {topic_id}"
            rows.append({"topic_id": topic_id, "label": label, "top_terms": ", ".join(words),
                         "size": int(sizes.get(topic_id, 0))})
        return pd.DataFrame(rows, columns=["topic_id", "label", "top_terms", "size"])


def _tokenised_stop_words(words: Collection[str]) -> list[str]:
    """Stop words plus the pieces the vectorizer's tokenizer cuts them into ("quelqu'un" → "quelqu"),
    so the list agrees with the tokens it filters."""
    out = {w.casefold() for w in words}
    for word in list(out):
        out.update(re.findall(r"(?u)\b\w\w+\b", word))
    return sorted(out)
