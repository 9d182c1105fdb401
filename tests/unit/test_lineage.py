"""Topic lineage across refits: synthetic clusters whose fate (continue, split, merge, new, end) is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from s3text.lineage import (
    EVENT_COLUMNS,
    fresh_lineage_id,
    lineage_centroids,
    match_lineage,
    topic_centroids,
    topic_documents,
)

DIM = 16


def unit(*pairs: tuple[int, float]) -> np.ndarray:
    v = np.zeros(DIM)
    for axis, weight in pairs:
        v[axis] += weight
    return v / np.linalg.norm(v)


def cluster(direction: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return direction + rng.normal(scale=0.01, size=(n, DIM))


# Directions. Old A splits into A1 (30 docs) and A2 (10 docs): cos(A1, A2) = 0.72, both ≥ 0.8 to
# the old centroid, A1 nearer because it has more documents. Old B1 (30) and B2 (15) merge into C:
# cos(B1, B2) = 0.66; C leans to B1, cos(C, B2) ≈ 0.84. E is unchanged; D ends; N is new.
A1, A2 = unit((0, 1), (3, 0.4)), unit((0, 1), (3, -0.4))
B1, B2 = unit((1, 1), (5, 0.45)), unit((1, 1), (5, -0.45))
E, D, N = unit((2, 1)), unit((8, 1)), unit((7, 1))


def founders(centroids: pd.DataFrame) -> dict[int, list[str]]:
    """Stand-in content hashes of each topic's documents: derived from the topic's centroid, so a
    renumbering keeps them (the pipeline passes the topic's real ``documents.content_hash`` values)."""
    return {int(t): [f"h{k}-{np.round(row.to_numpy(), 3).tobytes().hex()[:12]}" for k in range(3)]
            for t, row in centroids.iterrows()}


def scenario(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Old centroids indexed by lineage ids "A", "B1", "B2", "D", "E"; new centroids indexed by
    this run's topic ids; and which new topic id holds which cluster."""
    rng = np.random.default_rng(seed)
    a1, a2, b1, b2 = cluster(A1, 30, rng), cluster(A2, 10, rng), cluster(B1, 30, rng), cluster(B2, 15, rng)
    e, d, n = cluster(E, 20, rng), cluster(D, 20, rng), cluster(N, 20, rng)

    old_emb = np.vstack([a1, a2, b1, b2, d, e])
    old_topics = np.repeat([0, 1, 2, 3, 4], [40, 30, 15, 20, 20])
    old = topic_centroids(old_topics, old_emb)
    old.index = pd.Index(["A", "B1", "B2", "D", "E"], name="lineage_id")

    new_emb = np.vstack([e, n, b1, b2, a2, a1, rng.normal(size=(5, DIM))])
    new_topics = np.repeat([0, 1, 2, 3, 4, -1], [20, 20, 45, 10, 30, 5])  # 5 outliers
    return old, topic_centroids(new_topics, new_emb), {"E": 0, "N": 1, "C": 2, "A2": 3, "A1": 4}


def event_of(result_events: pd.DataFrame, topic_id: int) -> pd.Series:
    rows = result_events[result_events["topic_id"] == topic_id]
    assert len(rows) == 1
    return rows.iloc[0]


def test_centroids_mean_direction_outliers_excluded() -> None:
    emb = np.array([[3.0, 0.0], [0.0, 2.0], [1.0, 1.0], [5.0, 5.0]])
    cents = topic_centroids(np.array([0, 0, -1, 1]), emb)
    assert list(cents.index) == [0, 1]
    np.testing.assert_allclose(cents.loc[0], [np.sqrt(0.5), np.sqrt(0.5)])  # mean of unit rows (1,0), (0,1)
    np.testing.assert_allclose(cents.loc[1], [np.sqrt(0.5), np.sqrt(0.5)])
    np.testing.assert_allclose(np.linalg.norm(cents.to_numpy(), axis=1), 1.0)


def test_first_run_all_new_and_unchanged_refit_keeps_every_id() -> None:
    _, current, _ = scenario()
    first = match_lineage(None, current, members=founders(current))
    assert set(first.events["event"]) == {"new"}
    assert first.events["parents"].map(len).eq(0).all()
    assert first.events["similarity"].isna().all()
    assert sorted(first.mapping) == [0, 1, 2, 3, 4]  # no outlier mapped
    assert len(set(first.mapping.values())) == 5

    second = match_lineage(lineage_centroids(current, first), current, members=founders(current))
    assert second.mapping == first.mapping
    assert set(second.events["event"]) == {"continued"}
    np.testing.assert_allclose(second.events["similarity"], 1.0)
    assert (second.events["parents"].map(lambda p: p[0]) == second.events["lineage_id"]).all()


def test_split_merge_new_ended_continued() -> None:
    old, current, where = scenario()
    result = match_lineage(old, current, members=founders(current))
    ev = result.events
    assert list(ev.columns) == EVENT_COLUMNS

    e = event_of(ev, where["E"])
    assert (e["lineage_id"], e["event"], e["parents"]) == ("E", "continued", ["E"])
    assert e["similarity"] > 0.99

    # A split: the bigger half (A1) continues "A", the smaller (A2) gets a fresh id with parent A.
    a1, a2 = event_of(ev, where["A1"]), event_of(ev, where["A2"])
    assert (a1["lineage_id"], a1["event"]) == ("A", "continued")
    assert a2["event"] == "split" and a2["parents"] == ["A"] and a2["lineage_id"] not in {"A", "B1", "B2", "D", "E"}
    assert 0.8 <= a2["similarity"] < a1["similarity"]

    # B1 and B2 merge into C, which continues the more similar B1 and lists B2 as merged parent.
    c = event_of(ev, where["C"])
    assert (c["lineage_id"], c["event"], c["parents"]) == ("B1", "merged", ["B1", "B2"])

    n = event_of(ev, where["N"])
    assert n["event"] == "new" and n["parents"] == [] and n["similarity"] < 0.8

    ended = ev[ev["event"] == "ended"]
    assert ended["lineage_id"].tolist() == ["D"] and ended["topic_id"].isna().all()

    assert result.mapping == {where["E"]: "E", where["A1"]: "A", where["C"]: "B1",
                              where["A2"]: a2["lineage_id"], where["N"]: n["lineage_id"]}
    # Every old lineage is accounted for exactly once: continued, absorbed in a merge, or ended.
    carried = ev.loc[ev["event"].isin(["continued", "merged"]), "lineage_id"].tolist()
    absorbed = [p for ps in ev.loc[ev["event"] == "merged", "parents"] for p in ps[1:]]
    assert sorted(carried + absorbed + ended["lineage_id"].tolist()) == sorted(old.index)


def test_renumbering_the_new_topics_changes_no_lineage_id() -> None:
    old, current, _ = scenario()
    base = match_lineage(old, current, members=founders(current))
    perm = {0: 17, 1: 3, 2: 0, 3: 9, 4: 1}
    shuffled = current.rename(index=perm).sample(frac=1.0, random_state=7)
    moved = match_lineage(old, shuffled, members=founders(shuffled))
    assert moved.mapping == {perm[t]: lid for t, lid in base.mapping.items()}
    by_lineage = moved.events.set_index("lineage_id").sort_index()
    expected = base.events.set_index("lineage_id").sort_index()
    assert by_lineage["event"].tolist() == expected["event"].tolist()
    assert by_lineage["parents"].tolist() == expected["parents"].tolist()


def test_fresh_ids_come_from_founding_content_not_from_the_run() -> None:
    old, current, where = scenario()
    members = founders(current)
    one = match_lineage(old, current, members=members)
    again = match_lineage(old, current.copy(), members=dict(reversed(list(members.items()))))
    assert one.mapping == again.mapping
    # The founding documents, not the centroid floats, make the id: other content, other id.
    other = {t: [*hashes, "extra-doc"] if t == where["N"] else hashes for t, hashes in members.items()}
    changed = match_lineage(old, current, members=other)
    assert changed.mapping[where["N"]] != one.mapping[where["N"]]
    assert changed.mapping[where["A2"]] == one.mapping[where["A2"]]
    assert one.mapping[where["E"]] == "E"  # continued ids are the old ones
    assert one.mapping[where["N"]] == fresh_lineage_id(members[where["N"]])
    assert fresh_lineage_id(["b", "a", "a"]) == fresh_lineage_id(["a", "b"])  # a set of documents
    assert len(one.mapping[where["N"]]) == 16
    with pytest.raises(ValueError, match="no members"):
        match_lineage(old, current, members={t: h for t, h in members.items() if t != where["N"]})


def test_a_fresh_id_never_takes_an_id_in_use() -> None:
    """Tie-break: a fresh id equal to an old lineage id (here: the old lineage "D" was born with the
    same documents as the new topic N) moves to the next occurrence, so two rows never share an id."""
    old, current, where = scenario()
    members = founders(current)
    born_like_n = fresh_lineage_id(members[where["N"]])
    old = old.rename(index={"D": born_like_n})
    result = match_lineage(old, current, members=members)
    assert result.mapping[where["N"]] == fresh_lineage_id(members[where["N"]], 1) != born_like_n
    assert result.events["lineage_id"].is_unique
    assert born_like_n in set(result.events.loc[result.events["event"] == "ended", "lineage_id"])


def test_hungarian_pairs_a_chain_instead_of_declaring_split_and_merge() -> None:
    # cos(A, X) = 0.958, cos(A, Y) = 0.912, cos(B, X) = 0.904, cos(B, Y) = 0.40. Mutual-best
    # matching would continue A as X, merge B into X and split Y from A; the one-to-one assignment
    # of greatest total similarity keeps both lineages: A → Y, B → X.
    old = pd.DataFrame([unit((0, 1)), unit((0, 1), (1, 0.9))], index=["A", "B"])
    new = pd.DataFrame([unit((0, 1), (1, 0.3)), unit((0, 1), (1, -0.45))], index=[0, 1])  # X, Y
    result = match_lineage(old, new, members=founders(new))
    assert result.mapping == {0: "B", 1: "A"}
    assert set(result.events["event"]) == {"continued"}


def test_threshold_and_jaccard() -> None:
    old = pd.DataFrame([unit((0, 1))], index=["A"])
    new = pd.DataFrame([unit((0, 1), (1, 0.6))], index=[5])  # cos = 1 / sqrt(1.36) = 0.857
    assert match_lineage(old, new, members=founders(new)).mapping == {5: "A"}
    strict = match_lineage(old, new, members=founders(new), min_similarity=0.9)
    assert strict.events["event"].tolist() == ["new", "ended"]
    assert strict.events["similarity"].tolist() == pytest.approx([1 / np.sqrt(1.36)] * 2)

    linked = match_lineage(old, new, members=founders(new), previous_docs={"A": {"x"}}, current_docs={5: {"x"}},
                           min_jaccard=0.9)
    assert linked.mapping == {5: "A"}
    kept = match_lineage(old, new, members=founders(new), previous_docs={"A": {"x", "y"}},
                         current_docs={5: {"x", "y2"}}, min_jaccard=0.9)  # y, y2 in one run only: 1 over {x}
    assert kept.mapping == {5: "A"}
    unmeasured = match_lineage(old, new, members=founders(new), previous_docs={"A": {"y"}}, current_docs={5: {"y2"}},
                               min_jaccard=0.9)  # no document in both runs: no evidence, no veto
    assert unmeasured.mapping == {5: "A"} and np.isnan(unmeasured.events["jaccard"].iloc[0])


def test_jaccard_counts_documents_of_both_runs_only() -> None:
    old = pd.DataFrame([unit((0, 1)), unit((1, 1))], index=["A", "B"])
    new = pd.DataFrame([unit((0, 1), (2, 0.1)), unit((1, 1), (2, 0.1))], index=[5, 6])
    docs_new = topic_documents(np.array([5, 5, 5, 5, 6, 6, -1]), ["d1", "d2", "d4", "d7", "d5", "d3", "d9"])
    assert docs_new == {5: frozenset({"d1", "d2", "d4", "d7"}), 6: frozenset({"d3", "d5"})}
    docs_old = {"A": {"d1", "d2", "d3", "d9"}, "B": {"d4", "d5"}}
    result = match_lineage(old, new, members=founders(new), previous_docs=docs_old, current_docs=docs_new)
    # In a topic in both runs: d1..d5 (d9 is an outlier now, d7 is new). A vs 5: {d1, d2} of
    # {d1, d2, d3, d4}; B vs 6: {d5} of {d3, d4, d5}.
    assert result.mapping == {5: "A", 6: "B"}
    assert result.events["jaccard"].tolist() == [pytest.approx(2 / 4), pytest.approx(1 / 3)]
    gated = match_lineage(old, new, members=founders(new), previous_docs=docs_old, current_docs=docs_new,
                          min_jaccard=0.4)
    assert gated.mapping[5] == "A"
    assert gated.events["event"].tolist() == ["continued", "new", "ended"]  # B vs 6 shares too little
    assert gated.events["lineage_id"].iloc[2] == "B"
    with pytest.raises(ValueError, match="min_jaccard"):
        match_lineage(old, new, members=founders(new), min_jaccard=0.1)


def test_bad_inputs() -> None:
    old = pd.DataFrame([unit((0, 1))], index=["A"])
    with pytest.raises(ValueError, match="dimensions"):
        match_lineage(old, pd.DataFrame([[1.0, 0.0]], index=[0]), members={0: ["h"]})
    with pytest.raises(ValueError, match="min_similarity"):
        match_lineage(old, old.set_axis([0]), members=founders(old.set_axis([0])), min_similarity=0)
    empty = match_lineage(old, pd.DataFrame(columns=range(DIM), dtype=float), members={})
    assert empty.mapping == {} and empty.events["event"].tolist() == ["ended"]
