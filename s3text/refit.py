"""Refreshes that keep the topics: assign new documents to a reference fit, measure drift, decide on a refit.

A refit renumbers and reshapes topics (a few documents more can move HDBSCAN's cluster tree), so
a refresh keeps the last fit as its *reference* — per topic: lineage id, label, terms and the
fitted centroid — and only assigns documents the previous run had not modelled: a new document
joins the reference topic whose centroid is most cosine-similar, if at least ``min_similarity``
similar, else it is an outlier (-1). Earlier documents keep their topic. Nearest centroid rather
than BERTopic's ``transform``: it needs only the stored centroids (no pickled UMAP/HDBSCAN model
tied to library versions), it is deterministic, and a document's topic does not depend on
which refresh brought it in (docs/METHODS.md 5.6).

The reference is given up (a refit) when the config says so, a schedule is due, the settings the
fit depends on changed (:func:`fit_fingerprint`), or drift passes a limit (:func:`measure_drift`).
Pure functions, no I/O.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from s3text.config import PipelineConfig, TopicsConfig
from s3text.lineage import EVENT_COLUMNS, OUTLIER, unit_rows
from s3text.records import stable_id

# TopicsConfig fields that do not change what a fit finds: lineage matching, quality figures and
# the refresh policy itself. Every other field (including ones added later) enters the fingerprint.
NOT_FIT_SETTINGS = frozenset({
    "lineage_min_similarity", "lineage_min_jaccard", "coherence_top_n", "diversity_top_n", "refit",
    "refit_every_runs", "refit_after_days", "assign_min_similarity", "refit_max_new_share",
    "refit_max_new_outlier_share", "refit_outlier_confidence", "refit_min_centroid_similarity",
})


def fit_fingerprint(cfg: PipelineConfig, model_id: str) -> str:
    """Hash of what a fit depends on: the topic settings, the embedding model (with its version)
    and the languages whose lemmas and stop words feed the labels."""
    settings = {k: v for k, v in cfg.topics.model_dump(mode="json").items() if k not in NOT_FIT_SETTINGS}
    languages = sorted(cfg.normalise.supported_languages)
    return stable_id("topic-fit", json.dumps(settings, sort_keys=True), model_id, ",".join(languages))


def assign_nearest(embeddings: np.ndarray, centroids: pd.DataFrame, min_similarity: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Topic (an index value of ``centroids``, or -1) and best cosine for each row of ``embeddings``.

    Ties go to the smaller topic id (``argmax`` over centroids sorted by id), so the result does
    not depend on row order; a document below ``min_similarity`` to every centroid is an outlier.
    """
    if centroids.empty or not len(embeddings):
        return np.full(len(embeddings), OUTLIER, dtype=int), np.full(len(embeddings), np.nan)
    emb = unit_rows(np.asarray(embeddings, dtype=np.float64))
    ordered = centroids.sort_index()
    if ordered.shape[1] != emb.shape[1]:
        raise ValueError(f"centroids have {ordered.shape[1]} dimensions, embeddings {emb.shape[1]}")
    sims = emb @ unit_rows(ordered.to_numpy(dtype=np.float64)).T
    best = sims.argmax(axis=1)
    score = sims[np.arange(len(emb)), best]
    topics = np.where(score >= min_similarity, ordered.index.to_numpy(dtype=int)[best], OUTLIER)
    return topics.astype(int), score


def wilson_lower(successes: int, trials: int, confidence: float) -> float:
    """One-sided Wilson score lower bound of a binomial share (0 for no trials)."""
    if trials <= 0:
        return 0.0
    z = float(norm.ppf(confidence))
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, (centre - spread) / (1 + z * z / trials))


@dataclass(frozen=True)
class Drift:
    """How far the documents modelled now have moved from the reference fit.

    ``new_since_fit``: documents modelled now that the fit did not model (or whose text changed);
    ``new_share``: their share of all modelled now; ``new_outliers`` and ``new_outlier_share``:
    those among them assigned to no topic, with ``new_outlier_share_lower`` its Wilson lower bound;
    ``removed_since_fit``: fitted documents no longer modelled; ``min_centroid_similarity``: the
    smallest cosine between a topic's fitted centroid and its centroid with its current members
    (``moved_lineage`` names that topic; NaN/None when no topic has members).
    """

    documents: int
    new_since_fit: int
    new_share: float
    new_outliers: int
    new_outlier_share: float
    new_outlier_share_lower: float
    removed_since_fit: int
    min_centroid_similarity: float
    moved_lineage: str | None

    def as_dict(self) -> dict[str, object]:
        return {k: (round(v, 4) if isinstance(v, float) and not math.isnan(v) else v)
                for k, v in asdict(self).items()}


def measure_drift(topics: np.ndarray, embeddings: np.ndarray, new_since_fit: np.ndarray, removed_since_fit: int,
                  reference: pd.DataFrame, lineage_ids: Mapping[int, str], confidence: float) -> Drift:
    """Drift of a tentative assignment: ``topics`` and ``embeddings`` of every document modelled
    now, ``new_since_fit`` a boolean mask of those the fit did not see, ``reference`` the fitted
    centroids (index topic_id) and ``lineage_ids`` their lineage ids."""
    topics = np.asarray(topics, dtype=int)
    new_mask = np.asarray(new_since_fit, dtype=bool)
    n_new = int(new_mask.sum())
    new_out = int((topics[new_mask] == OUTLIER).sum())
    emb = unit_rows(np.asarray(embeddings, dtype=np.float64).reshape(len(topics), -1))
    worst, worst_topic = math.nan, None
    for topic_id, fitted in reference.sort_index().iterrows():
        members = emb[topics == int(topic_id)]
        if not len(members):
            continue
        cos = float(unit_rows(members.mean(axis=0, keepdims=True))[0] @ unit_rows(
            fitted.to_numpy(dtype=np.float64)[None, :])[0])
        if math.isnan(worst) or cos < worst:
            worst, worst_topic = cos, lineage_ids.get(int(topic_id))
    return Drift(
        documents=len(topics), new_since_fit=n_new, new_share=n_new / len(topics) if len(topics) else 0.0,
        new_outliers=new_out, new_outlier_share=new_out / n_new if n_new else 0.0,
        new_outlier_share_lower=wilson_lower(new_out, n_new, confidence), removed_since_fit=removed_since_fit,
        min_centroid_similarity=worst, moved_lineage=worst_topic,
    )


@dataclass(frozen=True)
class Reference:
    """What a refresh knows of the reference fit: its run, fingerprint, age and how many runs used it."""

    fit_run_id: str
    fingerprint: str
    age_days: float
    runs_served: int  # completed runs that used this fit, the fit's own run included


def schedule_reasons(cfg: TopicsConfig, reference: Reference | None, fingerprint: str) -> list[str]:
    """Reasons to refit known before any assignment (empty: assign). A changed fingerprint refits
    even under ``refit: never``: the reference then does not describe this configuration."""
    if reference is None:
        return ["no reference fit"]
    if cfg.refit == "always":
        return ["topics.refit is always"]
    if reference.fingerprint != fingerprint:
        return ["topic settings, languages or embedding model changed since the fit"]
    if cfg.refit == "never":
        return []
    reasons = []
    if cfg.refit_every_runs is not None and reference.runs_served >= cfg.refit_every_runs:
        reasons.append(f"schedule: the fit served {reference.runs_served} runs (refit_every_runs "
                       f"{cfg.refit_every_runs})")
    if cfg.refit_after_days is not None and reference.age_days >= cfg.refit_after_days:
        reasons.append(f"schedule: the fit is {reference.age_days:.1f} days old (refit_after_days "
                       f"{cfg.refit_after_days:g})")
    return reasons


def drift_reasons(cfg: TopicsConfig, drift: Drift) -> list[str]:
    """Reasons to refit found by measuring the tentative assignment (none under ``refit: never``)."""
    if cfg.refit == "never":
        return []
    reasons = []
    if drift.new_share > cfg.refit_max_new_share:
        reasons.append(f"drift: {drift.new_share:.1%} of documents are new since the fit "
                       f"(refit_max_new_share {cfg.refit_max_new_share:.0%})")
    if drift.new_outlier_share_lower > cfg.refit_max_new_outlier_share:
        reasons.append(f"drift: outlier share among new documents {drift.new_outlier_share:.1%}, lower bound "
                       f"{drift.new_outlier_share_lower:.1%} (refit_max_new_outlier_share "
                       f"{cfg.refit_max_new_outlier_share:.0%})")
    if not math.isnan(drift.min_centroid_similarity) and \
            drift.min_centroid_similarity < cfg.refit_min_centroid_similarity:
        reasons.append(f"drift: the centroid of {drift.moved_lineage} moved to cosine "
                       f"{drift.min_centroid_similarity:.3f} of the fit (refit_min_centroid_similarity "
                       f"{cfg.refit_min_centroid_similarity})")
    if math.isnan(drift.min_centroid_similarity):
        reasons.append("no topic of the reference fit has a document left")
    return reasons


def carry_assignment(doc_ids: Sequence[str], hashes: Sequence[str], previous: pd.DataFrame
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which documents keep their previous topic: ``previous`` (columns doc_id, content_hash,
    topic_id, probability: the previous run's doc_topics) matched on doc id *and* content hash, so
    a document whose text changed is assigned afresh. Returns (kept mask, topics, probabilities)
    aligned with ``doc_ids``; where not kept, topic is -1 and probability NaN."""
    prev = previous.drop_duplicates("doc_id").set_index("doc_id")
    topic = prev["topic_id"].reindex(list(doc_ids))
    same_text = prev["content_hash"].reindex(list(doc_ids)).to_numpy(dtype=object) == np.asarray(hashes, dtype=object)
    kept = topic.notna().to_numpy() & same_text
    topics = np.where(kept, topic.fillna(OUTLIER).to_numpy(), OUTLIER).astype(int)
    probs = np.where(kept, prev["probability"].reindex(list(doc_ids)).to_numpy(dtype=float), np.nan)
    return kept, topics, probs


def carried_events(lineage_ids: Mapping[int, str], previous: pd.DataFrame | None, current: pd.DataFrame,
                   previous_docs: Mapping[str, Collection[str]], current_docs: Mapping[int, Collection[str]]
                   ) -> pd.DataFrame:
    """The lineage table of an assigning run (columns ``lineage.EVENT_COLUMNS``): every topic with
    members continues its reference lineage, measured against the previous run's centroid
    (``previous``, index lineage id) and documents like :func:`lineage.match_lineage` measures them
    (Jaccard over documents in some topic in both runs); a lineage of the previous run whose topic
    has no member left is ended."""
    prev = previous if previous is not None else pd.DataFrame(columns=current.columns, dtype=float)
    prev_vecs = unit_rows(prev.to_numpy(dtype=np.float64)) if len(prev) else np.empty((0, current.shape[1]))
    cur_vecs = unit_rows(current.to_numpy(dtype=np.float64))
    sim = prev_vecs @ cur_vecs.T
    old_pos = {str(k): i for i, k in enumerate(prev.index)}
    common = set().union(*map(set, previous_docs.values())) & set().union(*map(set, current_docs.values()))

    def jaccard(old: str, new: int) -> float:
        a, b = set(previous_docs.get(old, ())) & common, set(current_docs.get(new, ())) & common
        return len(a & b) / len(a | b) if a | b else float("nan")

    rows: list[dict[str, object]] = []
    carried = set()
    for j, topic_id in enumerate(int(t) for t in current.index):
        lid = lineage_ids[topic_id]
        carried.add(lid)
        pos = old_pos.get(lid)
        rows.append({"lineage_id": lid, "topic_id": topic_id, "event": "continued", "parents": [lid],
                     "similarity": float(sim[pos, j]) if pos is not None else float("nan"),
                     "jaccard": jaccard(lid, topic_id)})
    for lid, i in old_pos.items():
        if lid not in carried:
            near = int(np.argmax(sim[i])) if len(current) else None
            rows.append({"lineage_id": lid, "topic_id": None, "event": "ended", "parents": [],
                         "similarity": float(sim[i, near]) if near is not None else float("nan"),
                         "jaccard": jaccard(lid, int(current.index[near])) if near is not None else float("nan")})
    events = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    events["topic_id"] = events["topic_id"].astype("Int64")
    events["similarity"] = events["similarity"].astype(float)
    events["jaccard"] = events["jaccard"].astype(float)
    return events.sort_values(["topic_id", "lineage_id"], na_position="last", ignore_index=True)
