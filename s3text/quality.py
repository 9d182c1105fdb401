"""Topic quality figures of a run: NPMI coherence, topic diversity, outlier share.

They are reported per run so that two fits (another seed, more data, other HDBSCAN settings) can
be compared; none of them is a target to optimise on its own (the BERTopic maintainer's advice,
and Hoyle et al. 2021 on how weakly automatic coherence tracks human judgement).

**NPMI coherence** (Bouma 2009; with document co-occurrence as in Dieng et al. 2020's topic
coherence). For two terms of a topic, over the ``N`` documents given::

    P(w) = df(w) / N,  P(w, v) = df(w and v) / N
    NPMI(w, v) = log(P(w, v) / (P(w) P(v))) / -log P(w, v)

A term occurs in a document when it is one of its tokens (the lemma string tokenised as the topic
model's CountVectorizer does); a bigram term needs the two tokens adjacent, in that order. A
topic's coherence is the mean NPMI over all pairs of its first ``top_n`` terms; a run's is the
mean over topics. No epsilon is added: the limits are used instead, so the scale is exactly
[-1, 1]. Terms that never co-occur score -1 (gensim's ``c_npmi`` adds 1e-12 to P(w, v), which
gives about -0.83 for two terms of 10 % frequency); terms that always co-occur score 1, including
the 0/0 case where both occur in every document (the limit along P(w) = P(v) = P(w, v)). A pair
with a term found in no document carries no evidence and is left out (NaN), and so is a topic
with no scorable pair. The numbers are therefore not comparable with gensim/OCTIS ``c_npmi``,
which also counts in sliding windows instead of documents.

**Topic diversity** (Dieng et al. 2020): the share of unique terms among all topics' first
``top_n`` terms (25 in the paper). A bigram counts as one term. Comparable only at equal
``top_n``, and a topic model stores only ``topics.top_terms`` terms per topic.

**Outlier share**: the share of documents in topic -1 (HDBSCAN noise).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from s3text.topics import _tokenised_stop_words

OUTLIER = -1


def topic_terms_from_info(info: pd.DataFrame) -> dict[int, list[str]]:
    """``TopicModeler.topic_info_`` (``top_terms`` comma-separated) → topic_id → terms."""
    return {int(row.topic_id): [t.strip() for t in str(row.top_terms).split(",") if t.strip()]
            for row in info.itertuples(index=False)}


def _terms(topic_terms: Mapping[int, Sequence[str]], top_n: int) -> dict[int, list[str]]:
    """Each topic's first ``top_n`` distinct terms, lower-cased as the vectorizer reads documents;
    the outlier topic is left out."""
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    return {int(t): list(dict.fromkeys(" ".join(term.lower().split()) for term in terms))[:top_n]
            for t, terms in sorted(topic_terms.items()) if int(t) != OUTLIER}


def document_term_matrix(
    docs: Sequence[str], vocabulary: Sequence[str], *, stop_words: Collection[str] | None = None
) -> sparse.csr_matrix:
    """Binary documents × ``vocabulary`` matrix; n-gram terms match adjacent tokens only.

    Pass the ``stop_words`` the topic model was given (they are expanded as it expands them) so
    bigrams are formed as it formed them: it drops stop words before joining neighbours, and its list merges every
    language's, while the lemma strings were cleaned with their own language's list only.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    vocab = list(dict.fromkeys(vocabulary))
    ngram_max = max((len(term.split()) for term in vocab), default=1)
    vectorizer = CountVectorizer(
        binary=True, vocabulary=vocab, ngram_range=(1, max(ngram_max, 1)), lowercase=True,
        stop_words=_tokenised_stop_words(stop_words) if stop_words else None,
    )
    return sparse.csr_matrix(vectorizer.fit_transform(list(docs)), dtype=np.int64)


def npmi_matrix(joint: np.ndarray, marginal: np.ndarray, n_docs: int) -> np.ndarray:
    """NPMI of every pair from document counts: ``joint[i, j]`` documents with both terms,
    ``marginal[i]`` with term i, out of ``n_docs``. Limits instead of an epsilon (module doc)."""
    p_joint = np.asarray(joint, dtype=np.float64) / n_docs
    p = np.asarray(marginal, dtype=np.float64) / n_docs
    expected = np.outer(p, p)
    out = np.full(p_joint.shape, np.nan)
    known = expected > 0  # both terms occur somewhere
    out[known & (p_joint == 0)] = -1.0
    pos = known & (p_joint > 0)
    pj, h = p_joint[pos], -np.log(p_joint[pos])
    safe_h = np.where(h > 0, h, 1.0)
    out[pos] = np.where(h > 0, np.log(pj / expected[pos]) / safe_h, 1.0)  # P(w, v) = 1: both everywhere
    return np.clip(out, -1.0, 1.0)  # rounding can land a hair outside


def topic_coherence(
    topic_terms: Mapping[int, Sequence[str]],
    docs: Sequence[str],
    *,
    top_n: int = 10,
    stop_words: Collection[str] | None = None,
) -> pd.Series:
    """Mean pairwise NPMI of each topic's first ``top_n`` terms over ``docs`` (lemma strings).

    Index topic_id (outliers left out), name ``npmi``; NaN for a topic with no scorable pair.
    """
    terms = _terms(topic_terms, top_n)
    index = pd.Index(list(terms), name="topic_id", dtype="int64")
    vocab = list(dict.fromkeys(t for ts in terms.values() for t in ts))
    if not vocab or not docs:
        return pd.Series(np.nan, index=index, name="npmi", dtype=float)
    position = {term: k for k, term in enumerate(vocab)}
    x = document_term_matrix(docs, vocab, stop_words=stop_words)
    cooc = sparse.csr_matrix(x.T @ x)  # vocab × vocab document co-occurrence counts
    df = np.asarray(x.sum(axis=0)).ravel()
    scores = []
    for ts in terms.values():
        idx = np.array([position[t] for t in ts], dtype=int)
        if len(idx) < 2:
            scores.append(np.nan)
            continue
        npmi = npmi_matrix(cooc[idx][:, idx].toarray(), df[idx], len(docs))
        pairs = npmi[np.triu_indices(len(idx), k=1)]
        scores.append(float(np.nanmean(pairs)) if np.isfinite(pairs).any() else np.nan)
    return pd.Series(scores, index=index, name="npmi", dtype=float)


def topic_diversity(topic_terms: Mapping[int, Sequence[str]], *, top_n: int = 25) -> float:
    """Unique terms / all terms among each topic's first ``top_n`` (Dieng et al. 2020); NaN if none."""
    words = [w for ts in _terms(topic_terms, top_n).values() for w in ts]
    return len(set(words)) / len(words) if words else float("nan")


def outlier_share(topics: np.ndarray) -> float:
    """Share of documents in the outlier topic -1; NaN for no documents."""
    topics = np.asarray(topics)
    return float(np.mean(topics == OUTLIER)) if topics.size else float("nan")


def quality_report(
    topic_terms: dict[int, list[str]],
    docs: list[str],
    topics: np.ndarray,
    *,
    coherence_top_n: int = 10,
    diversity_top_n: int = 25,
    stop_words: Collection[str] | None = None,
) -> dict[str, float]:
    """The run's figures: ``n_topics``, ``coherence_npmi`` (mean over topics with a score),
    ``coherence_npmi_min``, ``diversity``, ``outlier_share``. ``docs`` is the whole corpus the
    topics were fitted on (lemma strings, outliers included), aligned with ``topics``."""
    if len(docs) != len(topics):
        raise ValueError(f"{len(docs)} documents but {len(topics)} topic assignments")
    coherence = topic_coherence(topic_terms, docs, top_n=coherence_top_n, stop_words=stop_words).dropna()
    return {
        "n_topics": float(len(_terms(topic_terms, 1))),
        "coherence_npmi": float(coherence.mean()) if len(coherence) else float("nan"),
        "coherence_npmi_min": float(coherence.min()) if len(coherence) else float("nan"),
        "diversity": topic_diversity(topic_terms, top_n=diversity_top_n),
        "outlier_share": outlier_share(topics),
    }
