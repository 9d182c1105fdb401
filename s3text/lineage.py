"""Topic lineage: topics that keep their identity when BERTopic is refitted.

A refit renumbers topics (BERTopic's ids are cluster order, not identity), so anything that hangs
on a topic across runs (an analyst's decision, a trend line) needs an id of its own: the
*lineage id*. Each run's topics are matched to the previous run's lineages by the cosine
similarity of their centroids (mean document embedding, L2-normalised):

- **continued**: a one-to-one pairing of old lineages and new topics, found with the Hungarian
  algorithm (``scipy.optimize.linear_sum_assignment``) on the similarity matrix with every entry
  below ``min_similarity`` set to 0: it maximises the total similarity of the pairs kept (and,
  with a threshold ≥ 0.5, their number). In a plain split or merge it pairs the mutual best
  matches; where best matches form a chain (A's best is X and X's best is A, but A also fits Y,
  and B fits X only) it pairs A–Y and B–X, keeping both lineages instead of declaring a merge and
  a split. Rows and columns are put in an order that does not depend on the run's numbering
  first, so the result is deterministic and invariant to renumbering.
- **split**: a new topic left unpaired whose best old match (≥ threshold) was continued by another
  new topic; it gets a fresh id with that old lineage as parent.
- **merged**: the new topic that continues a lineage and is also the best match (≥ threshold) of
  old lineages left unpaired; it keeps the continued id and lists every old lineage as a parent.
- **new**: a new topic with no old topic ≥ threshold; **ended**: an old lineage with no new topic.

A fresh id (split or new) is derived from what the topic is: a hash of the sorted content hashes
of its founding documents (:func:`fresh_lineage_id`), never from the run id or from float
centroids, so two stores built from scratch from the same data and config give the same ids (and
the same candidate keys). Founding sets of one run's topics are disjoint, so they differ; should a
fresh id still equal one already taken (an old lineage id of the previous run, or an earlier
fresh id in the order of the ids), the next ``occurrence`` is taken until it is free.

Pure functions, no I/O: the caller stores centroids per lineage and feeds them to the next run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment

from s3text.records import stable_id

OUTLIER = -1
EVENTS = ("continued", "split", "merged", "new", "ended")
EVENT_COLUMNS = ["lineage_id", "topic_id", "event", "parents", "similarity", "jaccard"]


@dataclass(frozen=True)
class LineageResult:
    """``mapping``: new topic_id → lineage id (outliers are never mapped).

    ``events``: one row per new topic and one per ended old lineage, columns ``EVENT_COLUMNS``.
    ``similarity`` and ``jaccard`` compare the row's topic with its reference counterpart: the
    first parent for continued, merged and split rows; the most similar old lineage for a new
    topic; the most similar new topic for an ended lineage (NaN when there is none, and
    ``jaccard`` is NaN unless document sets were given).
    """

    mapping: dict[int, str]
    events: pd.DataFrame


def topic_centroids(topics: np.ndarray, embeddings: np.ndarray) -> pd.DataFrame:
    """Mean embedding of each topic's documents, L2-normalised; outliers (-1) are left out.

    Rows are normalised before averaging (a no-op for the store's normalised embeddings), so a
    centroid is the spherical mean direction and cosine similarities compare like with like.
    Index ``topic_id`` (ascending), columns 0..dim-1.
    """
    topics = np.asarray(topics)
    emb = np.asarray(embeddings, dtype=np.float64)
    if emb.ndim != 2 or len(topics) != len(emb):
        raise ValueError(f"{len(topics)} topics but embeddings of shape {emb.shape}")
    emb = unit_rows(emb)
    ids = sorted(int(t) for t in np.unique(topics) if int(t) != OUTLIER)
    rows = np.vstack([emb[topics == t].mean(axis=0) for t in ids]) if ids else np.empty((0, emb.shape[1]))
    return pd.DataFrame(unit_rows(rows), index=pd.Index(ids, name="topic_id"), columns=range(emb.shape[1]))


def topic_documents(topics: np.ndarray, doc_ids: Sequence[str]) -> dict[int, frozenset[str]]:
    """Document ids per topic (outliers left out), for the Jaccard column of the event table."""
    if len(topics) != len(doc_ids):
        raise ValueError(f"{len(topics)} topics but {len(doc_ids)} document ids")
    out: dict[int, set[str]] = {}
    for topic, doc in zip(np.asarray(topics).tolist(), doc_ids, strict=True):
        if int(topic) != OUTLIER:
            out.setdefault(int(topic), set()).add(str(doc))
    return {t: frozenset(d) for t, d in sorted(out.items())}


def fresh_lineage_id(content_hashes: Collection[str], occurrence: int = 0) -> str:
    """Id of a lineage born with the documents of ``content_hashes`` (``documents.content_hash`` of
    its founding members): a hash of the sorted distinct hashes, so it depends on what the topic is,
    not on the run, its numbering or float rounding. ``occurrence`` > 0 only breaks a collision
    with an id already taken (see :func:`match_lineage`)."""
    founders = sorted({str(h) for h in content_hashes})
    if not founders:
        raise ValueError("a lineage needs at least one founding document")
    return stable_id("lineage", *founders, str(occurrence))


def match_lineage(
    previous: pd.DataFrame | None,
    current: pd.DataFrame,
    *,
    members: Mapping[int, Collection[str]],
    min_similarity: float = 0.8,
    previous_docs: Mapping[str, Collection[str]] | None = None,
    current_docs: Mapping[int, Collection[str]] | None = None,
    min_jaccard: float | None = None,
) -> LineageResult:
    """Give each topic of ``current`` (index topic_id) a lineage id from ``previous`` (index
    lineage id) or a fresh one. Both hold L2-normalised centroids (:func:`topic_centroids`) with
    the same number of columns; they are renormalised here all the same. ``members``: topic_id →
    content hashes of the topic's documents in this run, from which a fresh id is derived.

    ``min_similarity`` (default 0.8) is stricter than ``BERTopic.merge_models``' 0.7 on purpose: a
    false continuation silently moves analyst decisions onto a different topic, while a missed one
    only shows the topic again as new. Centroid cosines between *distinct* topics of one corpus are
    inflated by the corpus' common direction (on the bundled data the median topic's nearest
    neighbour in the same fit is at 0.75, one in ten is above 0.85), so 0.7 links neighbours.

    ``previous_docs`` (lineage id → doc ids) and ``current_docs`` (topic_id → doc ids) fill the
    ``jaccard`` column: shared documents over all documents of the pair, counting only documents
    that sit in some topic in both runs, so documents new to this run do not dilute it. With
    ``min_jaccard`` set, a pair whose overlap is measurable must also reach it to be linked at all:
    where topics crowd together, centroids alone link different topics above any useful threshold.
    """
    if not 0 < min_similarity <= 1:
        raise ValueError(f"min_similarity must be in (0, 1], got {min_similarity}")
    if min_jaccard is not None and (previous_docs is None or current_docs is None):
        raise ValueError("min_jaccard needs previous_docs and current_docs")
    if previous is not None and len(previous.columns) != len(current.columns):
        raise ValueError(
            f"previous centroids have {len(previous.columns)} dimensions, current {len(current.columns)}: "
            "lineage needs the same embedding model in both runs"
        )
    if not current.index.is_unique or (previous is not None and not previous.index.is_unique):
        raise ValueError("centroid indexes must be unique")

    # Canonical orders independent of the run's numbering: old by lineage id, new by centroid.
    new_vecs = unit_rows(current.to_numpy(dtype=np.float64))
    order = np.lexsort(np.round(new_vecs, 6).T[::-1]) if len(new_vecs) else np.array([], dtype=int)
    new_ids = [int(current.index[k]) for k in order]
    new_vecs = new_vecs[order]
    missing = [t for t in new_ids if not members.get(t)]
    if missing:
        raise ValueError(f"topics {missing} have no members: a fresh lineage id is derived from them")

    if previous is None or previous.empty:
        old_ids: list[str] = []
        old_vecs = np.empty((0, new_vecs.shape[1]))
    else:
        prev = previous.sort_index()
        old_ids = [str(i) for i in prev.index]
        old_vecs = unit_rows(prev.to_numpy(dtype=np.float64))
    sim = old_vecs @ new_vecs.T  # (n_old, n_new)
    jac = _jaccard_matrix(previous_docs, old_ids, current_docs, new_ids)
    linked = sim >= min_similarity
    if min_jaccard is not None:
        linked &= ~(jac < min_jaccard)  # NaN (no document of the pair in both runs) vetoes nothing
    linked_sim = np.where(linked, sim, -np.inf)  # best matches are taken among linked pairs only

    pair_of_new: dict[int, int] = {}  # new position → old position, the one-to-one continuations
    if sim.size:
        rows, cols = linear_sum_assignment(np.where(linked, sim, 0.0), maximize=True)
        pair_of_new = {int(c): int(r) for r, c in zip(rows, cols, strict=True) if linked[r, c]}
    paired_old = set(pair_of_new.values())

    absorbed: dict[int, list[int]] = {}  # new position → unpaired old positions whose best match it is
    for i in range(len(old_ids)):
        if i not in paired_old and linked[i].any():  # its best match is paired: else they would be
            absorbed.setdefault(int(np.argmax(linked_sim[i])), []).append(i)

    # Old ids are all taken (an ended lineage keeps its row): a fresh id must differ from each.
    fresh = _fresh_ids({t: members[t] for j, t in enumerate(new_ids) if j not in pair_of_new}, taken=set(old_ids))
    mapping: dict[int, str] = {}
    rows_out: list[dict[str, object]] = []
    for j, topic_id in enumerate(new_ids):
        ref: int | None  # the old lineage the row's similarity and jaccard refer to
        if j in pair_of_new:
            i = pair_of_new[j]
            merged_in = sorted(absorbed.get(j, []), key=lambda k: (-sim[k, j], old_ids[k]))
            lineage, ref = old_ids[i], i
            event = "merged" if merged_in else "continued"
            parents = [old_ids[i]] + [old_ids[k] for k in merged_in]
        elif linked[:, j].any():
            ref = int(np.argmax(linked_sim[:, j]))
            lineage, event, parents = fresh[topic_id], "split", [old_ids[ref]]
        else:
            ref = int(np.argmax(sim[:, j])) if old_ids else None
            lineage, event, parents = fresh[topic_id], "new", []
        mapping[topic_id] = lineage
        rows_out.append(_row(lineage, topic_id, event, parents, sim, jac, ref, j))

    absorbed_old = {i for group in absorbed.values() for i in group}
    for i, lineage in enumerate(old_ids):
        if i not in paired_old and i not in absorbed_old:
            nearest = int(np.argmax(sim[i])) if new_ids else None
            rows_out.append(_row(lineage, None, "ended", [], sim, jac, i, nearest))

    events = pd.DataFrame(rows_out, columns=EVENT_COLUMNS)
    events["topic_id"] = events["topic_id"].astype("Int64")
    events["similarity"] = events["similarity"].astype(float)
    events["jaccard"] = events["jaccard"].astype(float)
    events = events.sort_values(["topic_id", "lineage_id"], na_position="last", ignore_index=True)
    return LineageResult(mapping=dict(sorted(mapping.items())), events=events)


def lineage_centroids(current: pd.DataFrame, result: LineageResult) -> pd.DataFrame:
    """``current`` re-indexed by lineage id: the ``previous`` argument of the next run."""
    out = current.rename(index=result.mapping)
    out.index = pd.Index([str(i) for i in out.index], name="lineage_id")
    return out


def _row(lineage: str, topic_id: int | None, event: str, parents: list[str], sim: np.ndarray, jac: np.ndarray,
         i: int | None, j: int | None) -> dict[str, object]:
    """One event row; ``i``, ``j`` are the old and new positions its figures refer to (None: no partner)."""
    has_pair = i is not None and j is not None
    return {"lineage_id": lineage, "topic_id": topic_id, "event": event, "parents": parents,
            "similarity": float(sim[i, j]) if has_pair else float("nan"),
            "jaccard": float(jac[i, j]) if has_pair else float("nan")}


def _fresh_ids(members: Mapping[int, Collection[str]], taken: set[str]) -> dict[int, str]:
    """Fresh ids of the topics in ``members``, none in ``taken`` nor shared: topics are visited in
    the order of their occurrence-0 ids (then topic id, never reached: founding sets are disjoint)
    and a taken id moves to the next occurrence, so the outcome does not depend on the numbering."""
    base = {t: fresh_lineage_id(hashes) for t, hashes in members.items()}
    used = set(taken)
    out: dict[int, str] = {}
    for topic in sorted(base, key=lambda t: (base[t], t)):
        occurrence, lineage_id = 0, base[topic]
        while lineage_id in used:
            occurrence += 1
            lineage_id = fresh_lineage_id(members[topic], occurrence)
        used.add(lineage_id)
        out[topic] = lineage_id
    return out


def _jaccard_matrix(previous_docs: Mapping[str, Collection[str]] | None, old_ids: list[str],
                    current_docs: Mapping[int, Collection[str]] | None, new_ids: list[int]) -> np.ndarray:
    """Jaccard of each (old, new) pair over the documents in a topic in both runs; NaN without doc sets."""
    if previous_docs is None or current_docs is None:
        return np.full((len(old_ids), len(new_ids)), np.nan)
    old_sets = [{str(d) for d in previous_docs.get(k, ())} for k in old_ids]
    new_sets = [{str(d) for d in current_docs.get(k, ())} for k in new_ids]
    common = set().union(*old_sets) & set().union(*new_sets)
    docs = {d: n for n, d in enumerate(sorted(common))}

    def incidence(sets: list[set[str]]) -> sparse.csr_matrix:
        cells = np.array([(r, docs[d]) for r, s in enumerate(sets) for d in s if d in docs], dtype=int).reshape(-1, 2)
        values = np.ones(len(cells))
        return sparse.csr_matrix((values, (cells[:, 0], cells[:, 1])), shape=(len(sets), len(docs)))

    a, b = incidence(old_sets), incidence(new_sets)
    shared = (a @ b.T).toarray()
    union = np.asarray(a.sum(axis=1)) + np.asarray(b.sum(axis=1)).T - shared
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, shared / np.where(union > 0, union, 1.0), np.nan)


def unit_rows(mat: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows left as they are)."""
    norms = np.linalg.norm(mat, axis=1, keepdims=True)
    return mat / np.where(norms > 0, norms, 1.0)
