"""The topics step: refit BERTopic, or assign new documents to the reference fit (s3text.refit).

Either way each topic gets its lineage id, and the run's topics, document topics, yearly counts,
centroids and quality figures are stored; a refit also stores the new reference. The summary says
which it did and why, with the drift figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from s3text import emergence as em
from s3text import lineage, quality, refit
from s3text.config import PipelineConfig
from s3text.embed import Embedder
from s3text.normalise import stop_words
from s3text.steps.prepare import usable_documents
from s3text.store import Store
from s3text.topics import TopicModeler

# doc_topics.assigned_by: how a document first got its topic (kept through later assigning runs)
FIT, ASSIGNED = "fit", "assigned"
ASSIGNED_PROBABILITY = 0.0  # an assigned document is no core member: evidence prefers fitted ones


@dataclass
class _Previous:
    """The last completed run and, where it has one, the reference fit it used."""

    run_id: str
    centroids: pd.DataFrame | None  # index lineage id: that run's centroids
    docs: dict[str, set[str]] | None  # lineage id → doc ids of that run
    doc_topics: pd.DataFrame  # doc_id, content_hash, topic_id, probability, assigned_by
    reference: refit.Reference | None
    fitted: pd.DataFrame  # the reference's topics: index topic_id; lineage_id, label, top_terms
    fitted_centroids: pd.DataFrame  # index topic_id
    fit_documents: set[tuple[str, str]]  # (doc_id, content_hash) the fit modelled


@dataclass
class _Topics:
    topics: np.ndarray
    probabilities: np.ndarray
    assigned_by: np.ndarray
    info: pd.DataFrame  # topic_id, label, top_terms, size, lineage_id
    events: pd.DataFrame  # lineage.EVENT_COLUMNS
    fit_run_id: str
    extra: dict[str, Any]


def topics(cfg: PipelineConfig, run_id: str) -> dict[str, Any]:
    """Assign or refit (see :mod:`s3text.refit`); store the run's topics and, after a refit, the new reference."""
    t = cfg.topics
    embedder = Embedder.from_config(cfg.embed)
    stops = stop_words(cfg.normalise.supported_languages)
    fingerprint = refit.fit_fingerprint(cfg, embedder.model_id)
    with Store(cfg.store) as store:
        docs = usable_documents(store)
        vectors = store.get_embeddings(embedder.model_id, docs["content_hash"].tolist())
        prev = _previous(store)
    reasons = refit.schedule_reasons(t, prev.reference if prev else None, fingerprint)
    drift: refit.Drift | None = None
    assigned: _Topics | None = None
    if not reasons and prev is not None:  # no reasons implies a usable reference
        assigned, drift = _assign(cfg, docs, vectors, prev)
        reasons = refit.drift_reasons(t, drift)
    result = _fit(cfg, run_id, docs, vectors, prev, stops) if reasons or assigned is None else assigned
    mode = "refit" if result.fit_run_id == run_id else "assign"
    centroids = lineage.topic_centroids(result.topics, vectors)
    terms = quality.topic_terms_from_info(result.info)
    lemmas = docs["lemmas"].tolist()
    coherence = quality.topic_coherence(terms, lemmas, top_n=t.coherence_top_n, stop_words=stops)
    report = quality.quality_report(terms, lemmas, result.topics, stop_words=stops,
                                    coherence_top_n=t.coherence_top_n, diversity_top_n=t.diversity_top_n)
    info = result.info.assign(coherence=result.info["topic_id"].map(coherence))
    counts = em.year_counts(pd.DataFrame({"topic_id": result.topics, "year": docs["year"]}))
    periods = counts.stack().rename("count").reset_index()
    periods.columns = ["topic_id", "period", "count"]
    lineage_of = dict(zip(info["topic_id"].astype(int), info["lineage_id"], strict=True))
    with Store(cfg.store) as store:
        store.replace_run_table("doc_topics", run_id, pd.DataFrame({
            "doc_id": docs["doc_id"], "topic_id": result.topics, "probability": result.probabilities,
            "content_hash": docs["content_hash"], "assigned_by": result.assigned_by}))
        store.replace_run_table("topics", run_id, info)
        store.replace_run_table("topic_periods", run_id, periods[periods["count"] > 0])
        store.replace_run_table("topic_lineage", run_id,
                                result.events.assign(parents=result.events["parents"].map(json.dumps)))
        store.replace_run_table("topic_centroids", run_id, pd.DataFrame({
            "topic_id": centroids.index.astype(int), "lineage_id": centroids.index.map(lineage_of),
            "vector": list(centroids.to_numpy(dtype=np.float32))}))
        if mode == "refit":  # the fitted centroids become the reference of the next refreshes
            store.replace_run_table("topic_reference", run_id, info[["topic_id", "lineage_id", "label", "top_terms"]]
                                    .assign(vector=list(centroids.loc[info["topic_id"]].to_numpy(dtype=np.float32))))
        store.replace_run_table("topic_runs", run_id, pd.DataFrame([{
            "fit_run_id": result.fit_run_id, "fingerprint": fingerprint, "mode": mode, "reasons": json.dumps(reasons),
            "drift": json.dumps(drift.as_dict()) if drift else None}]))
    by_event = result.events["event"].value_counts().to_dict()
    by_origin = pd.Series(result.assigned_by).value_counts().to_dict()
    return {"mode": mode, "reasons": reasons, "fit_run_id": result.fit_run_id,
            "drift": drift.as_dict() if drift else None,
            "documents_modelled": len(docs), "documents_by_origin": {str(k): int(v) for k, v in by_origin.items()},
            "topics": len(info), "outlier_share": round(float(np.mean(result.topics == lineage.OUTLIER)), 4),
            **result.extra,
            "lineage": {str(k): int(v) for k, v in by_event.items()},
            "quality": {k: round(float(v), 4) for k, v in report.items()}}


def _fit(cfg: PipelineConfig, run_id: str, docs: pd.DataFrame, vectors: np.ndarray, prev: _Previous | None,
         stops: frozenset[str]) -> _Topics:
    """Refit on every modelled document; lineage continues from the last completed run (match_lineage)."""
    t = cfg.topics
    modeler = TopicModeler.from_config(t, stop_words=stops).fit(docs["lemmas"].tolist(), vectors)
    centroids = lineage.topic_centroids(modeler.topics_, vectors)
    previous = prev.centroids if prev else None
    matched = lineage.match_lineage(
        previous, centroids, members=lineage.topic_documents(modeler.topics_, docs["content_hash"].tolist()),
        min_similarity=t.lineage_min_similarity, previous_docs=prev.docs if prev else None,
        current_docs=lineage.topic_documents(modeler.topics_, docs["doc_id"].tolist()),
        min_jaccard=t.lineage_min_jaccard if previous is not None else None,
    )
    info = modeler.topic_info_.assign(lineage_id=modeler.topic_info_["topic_id"].map(matched.mapping))
    return _Topics(modeler.topics_, modeler.probabilities_, np.full(len(docs), FIT, dtype=object), info,
                   matched.events, run_id,
                   {"outlier_share_before_reduction": round(modeler.outlier_share_before_, 4)})


def _assign(cfg: PipelineConfig, docs: pd.DataFrame, vectors: np.ndarray, prev: _Previous
            ) -> tuple[_Topics, refit.Drift]:
    """Keep the previous run's topic of every unchanged earlier document; assign the others to the
    nearest fitted centroid; labels and lineage ids are the reference's."""
    assert prev.reference is not None
    t = cfg.topics
    kept, topics, probs = refit.carry_assignment(docs["doc_id"].tolist(), docs["content_hash"].tolist(),
                                                 prev.doc_topics)
    new_topics, _ = refit.assign_nearest(vectors[~kept], prev.fitted_centroids, t.assign_min_similarity)
    topics[~kept] = new_topics
    probs[~kept] = ASSIGNED_PROBABILITY
    before = prev.doc_topics.drop_duplicates("doc_id").set_index("doc_id")["assigned_by"].fillna(FIT)
    assigned_by = np.where(kept, before.reindex(docs["doc_id"]).fillna(FIT).to_numpy(dtype=object), ASSIGNED)
    keys = list(zip(docs["doc_id"], docs["content_hash"], strict=True))
    new_since_fit = np.array([k not in prev.fit_documents for k in keys], dtype=bool)
    lineage_ids = prev.fitted["lineage_id"].to_dict()
    drift = refit.measure_drift(topics, vectors, new_since_fit, len(prev.fit_documents - set(keys)),
                                prev.fitted_centroids, lineage_ids, t.refit_outlier_confidence)
    sizes = pd.Series(topics[topics != lineage.OUTLIER]).value_counts()
    info = prev.fitted.loc[prev.fitted.index.isin(sizes.index)].reset_index()
    info = info.assign(size=info["topic_id"].map(sizes).astype(int))[["topic_id", "label", "top_terms", "size",
                                                                       "lineage_id"]]
    current = lineage.topic_centroids(topics, vectors)
    events = refit.carried_events(
        lineage_ids, prev.centroids, current, prev.docs or {},
        lineage.topic_documents(topics, docs["doc_id"].tolist()))
    extra = {"documents_kept": int(kept.sum()), "documents_assigned": int((~kept).sum()),
             "assigned_outliers": int((new_topics == lineage.OUTLIER).sum())}
    return _Topics(topics, probs, assigned_by, info, events, prev.reference.fit_run_id, extra), drift


def _previous(store: Store) -> _Previous | None:
    run = store.latest_run()
    if run is None:
        return None
    centroids, docs = _previous_lineage(store, run)
    doc_topics = store.query("SELECT doc_id, content_hash, topic_id, probability, assigned_by FROM doc_topics "
                             "WHERE run_id = ?", [run])
    empty = pd.DataFrame()
    used = store.query("SELECT fit_run_id, fingerprint FROM topic_runs WHERE run_id = ?", [run])
    if used.empty:  # a run from before schema 6 left no reference: the next run refits
        return _Previous(run, centroids, docs, doc_topics, None, empty, empty, set())
    fit_run, fingerprint = str(used["fit_run_id"].iloc[0]), str(used["fingerprint"].iloc[0])
    ref = store.query("SELECT topic_id, lineage_id, label, top_terms, vector FROM topic_reference WHERE run_id = ? "
                      "ORDER BY topic_id", [fit_run])
    served = store.query(
        "SELECT min(r.started) FILTER (WHERE r.run_id = ?) AS fitted, count(*) AS n FROM topic_runs u "
        "JOIN runs r USING (run_id) WHERE u.fit_run_id = ? AND r.status = 'completed'", [fit_run, fit_run])
    fit_docs = store.query("SELECT doc_id, content_hash FROM doc_topics WHERE run_id = ?", [fit_run])
    if ref.empty or pd.isna(served["fitted"].iloc[0]):
        return _Previous(run, centroids, docs, doc_topics, None, empty, empty, set())
    fitted_at = pd.Timestamp(served["fitted"].iloc[0]).tz_localize(None)
    age = (pd.Timestamp(datetime.now(UTC).replace(tzinfo=None)) - fitted_at).total_seconds() / 86400
    reference = refit.Reference(fit_run, fingerprint, age, int(served["n"].iloc[0]))
    fitted = ref.set_index("topic_id")[["lineage_id", "label", "top_terms"]]
    fitted_centroids = pd.DataFrame(np.stack(ref["vector"].to_numpy()), index=pd.Index(ref["topic_id"].astype(int)))
    return _Previous(run, centroids, docs, doc_topics, reference, fitted, fitted_centroids,
                     set(zip(fit_docs["doc_id"], fit_docs["content_hash"], strict=True)))


def _previous_lineage(store: Store, run: str) -> tuple[pd.DataFrame | None, dict[str, set[str]] | None]:
    """Centroids (index lineage id) and documents per lineage of ``run``, if it has topics."""
    rows = store.query("SELECT topic_id, lineage_id, vector FROM topic_centroids WHERE run_id = ?", [run])
    if rows.empty:
        return None, None
    centroids = pd.DataFrame(np.stack(rows["vector"].to_numpy()), index=pd.Index(rows["lineage_id"]))
    members = store.query(
        "SELECT c.lineage_id, t.doc_id FROM doc_topics t JOIN topic_centroids c USING (run_id, topic_id) "
        "WHERE t.run_id = ?", [run])
    return centroids, {k: set(g["doc_id"]) for k, g in members.groupby("lineage_id")}
