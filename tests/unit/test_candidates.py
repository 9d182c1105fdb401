"""Candidate flagging on small matrices whose outcome is worked out by hand here."""

from pathlib import Path

import pandas as pd
import pytest

from s3text.candidate_record import Candidate
from s3text.candidates import candidate_key, candidate_score, flag_candidates, select_evidence
from s3text.config import CandidatesConfig
from s3text.store import Store

# min_topic_documents=1: the hand-made topics have one to three documents each.
CFG = CandidatesConfig(min_topic_documents=1, min_actors=2, min_density=0.3, rca_cap=2.0, mass_target=4,
                       min_support_documents=1, min_support_organisations=1)


def _inputs() -> dict[str, object]:
    # Topics 0 and 1 emerge, 2 does not. Region A is specialised in 0; region B is not in 0 but
    # in 2, which is related to 0 (phi 0.6). Region C has nothing related.
    emergence = pd.DataFrame({"score": [3.0, 2.0, 1.0], "emerging": [True, True, False]}, index=[0, 1, 2])
    # rca_shrunk / rca_lower: the shrunk RCA's posterior mean and 5 % bound (s3text.shrinkage).
    capacity = pd.DataFrame([
        ("A", 0, 5, 1.8, 1.5, 1.4, 1, 0.2), ("A", 1, 1, 0.5, 0.9, 0.4, 0, 0.1), ("A", 2, 1, 0.4, 0.9, 0.4, 0, 0.0),
        ("B", 0, 1, 0.3, 0.9, 0.2, 0, 0.6), ("B", 1, 0, 0.0, 0.8, 0.3, 0, 0.0), ("B", 2, 6, 2.5, 1.9, 1.5, 1, 0.0),
        ("C", 0, 0, 0.0, 0.8, 0.3, 0, 0.0), ("C", 1, 2, 1.1, 1.0, 0.5, 1, 0.0), ("C", 2, 0, 0.0, 0.8, 0.3, 0, 0.0),
    ], columns=["region", "topic_id", "count", "rca", "rca_shrunk", "rca_lower", "specialised", "density"])
    phi = pd.DataFrame([[0, 0.1, 0.6], [0.1, 0, 0.0], [0.6, 0.0, 0]], index=[0, 1, 2], columns=[0, 1, 2])
    # Who worked on what: A's d1 has two organisations; B's b1 works in topics 0 and 2.
    links = pd.DataFrame([("A", "d1", "a1", 0), ("A", "d2", "a2", 0), ("A", "d1", "a3", 0), ("B", "d4", "b1", 2),
                          ("B", "d6", "b2", 2), ("B", "d3", "b1", 0), ("C", "d5", "c1", 1)],
                         columns=["region", "doc_id", "actor_id", "topic_id"])
    lineages = pd.Series({0: "L-hydrogen", 1: "L-biochar", 2: "L-electrolysis"})
    return {"emergence": emergence, "capacity": capacity, "relatedness": phi, "links": links,
            "lineage_ids": lineages}


def test_flags_strengthen_and_diversify_as_worked_out_by_hand() -> None:
    out = flag_candidates(**_inputs(), cfg=CFG)  # type: ignore[arg-type]
    got = {(r.region, r.topic_id): r for r in out.itertuples()}
    # A/0 strengthen; B/0 diversify (density 0.6 ≥ 0.3, actors b1,b2 via related topic 2);
    # C/1 is specialised but has 1 actor < min_actors; topic 2 is not emerging.
    assert set(got) == {("A", 0), ("B", 0)}
    a0, b0 = got[("A", 0)], got[("B", 0)]
    assert a0.kind == "strengthen" and b0.kind == "diversify"
    assert b0.related_topics == [2] and b0.actors == 2
    # Partners: regions specialised in the topic, then in its related topics by φ: for topic 0 that
    # is topic 2 (φ 0.6, B strong) before topic 1 (φ 0.1, C strong).
    assert a0.partners == [{"region": "B", "via_topic": 2, "rca": 2.5}, {"region": "C", "via_topic": 1, "rca": 1.1}]
    assert b0.partners == [{"region": "A", "via_topic": 0, "rca": 1.8}, {"region": "C", "via_topic": 1, "rca": 1.1}]
    assert a0.lineage_id == "L-hydrogen" and a0.actor_ids == ["a1", "a2", "a3"]
    # Components by hand: emergence rank of topic 0 among 3 scores = 1.0.
    # Specialisation from the 5 % bound of the shrunk RCA: 1.4 / 2 (the raw 1.8 would give 0.9).
    assert a0.emergence == 1.0 and a0.specialisation == pytest.approx(0.7) and a0.mass == pytest.approx(0.75)
    expected_a0 = 0.4 * 1.0 + 0.2 * 0.7 + 0.25 * 0.2 + 0.15 * 0.75
    assert a0.score == pytest.approx(expected_a0)
    assert b0.score == pytest.approx(0.4 * 1.0 + 0.2 * 0.1 + 0.25 * 0.6 + 0.15 * 0.5)
    assert (a0.rca, a0.rca_shrunk, a0.rca_lower) == (1.8, 1.5, 1.4)
    assert list(out["region"]) == ["A", "B"], "sorted by score"


def test_every_score_is_reproduced_by_its_components() -> None:
    out = flag_candidates(**_inputs(), cfg=CFG)  # type: ignore[arg-type]
    for row in out.to_dict(orient="records"):
        assert row["score"] == pytest.approx(candidate_score(row, CFG))


def test_a_topic_with_too_few_placed_documents_yields_nothing() -> None:
    # Topic 0 has three documents with a placed organisation (d1, d2, d3): enough at 3, not at 4.
    enough = CFG.model_copy(update={"min_topic_documents": 3})
    assert set(flag_candidates(**_inputs(), cfg=enough)["topic_id"]) == {0}  # type: ignore[arg-type]
    too_few = CFG.model_copy(update={"min_topic_documents": 4})
    assert flag_candidates(**_inputs(), cfg=too_few).empty  # type: ignore[arg-type]


def test_region_filter_and_thresholds() -> None:
    assert flag_candidates(**_inputs(), cfg=CFG, regions={"B"})["region"].tolist() == ["B"]  # type: ignore[arg-type]
    strict = CandidatesConfig(min_topic_documents=1, min_actors=3, min_density=0.7, rca_cap=2.0, mass_target=4)
    assert flag_candidates(**_inputs(), cfg=strict)["region"].tolist() == ["A"]  # type: ignore[arg-type]


def test_candidate_key_follows_region_and_lineage_not_run_numbers() -> None:
    inputs = _inputs()
    new = {0: 12, 1: 10, 2: 11}  # a refit numbers the same topics differently
    renumbered = {
        "emergence": inputs["emergence"].rename(index=new),  # type: ignore[attr-defined]
        "capacity": inputs["capacity"].assign(topic_id=inputs["capacity"]["topic_id"].map(new)),  # type: ignore[index]
        "relatedness": inputs["relatedness"].rename(index=new, columns=new),  # type: ignore[attr-defined]
        "links": inputs["links"].assign(  # type: ignore[attr-defined]
            topic_id=inputs["links"]["topic_id"].map(new)),  # type: ignore[index]
        "lineage_ids": inputs["lineage_ids"].rename(index=new),  # type: ignore[attr-defined]
    }
    first = flag_candidates(**inputs, cfg=CFG)  # type: ignore[arg-type]
    again = flag_candidates(**renumbered, cfg=CFG)  # type: ignore[arg-type]
    assert list(first["candidate_key"]) == list(again["candidate_key"])
    assert list(again["topic_id"]) == [12, 12]
    assert candidate_key("ITH2", "L1") != candidate_key("ITH1", "L1") != candidate_key("ITH2", "L2")


def test_evidence_prefers_topic_documents_then_related() -> None:
    out = flag_candidates(**_inputs(), cfg=CFG)  # type: ignore[arg-type]
    docs = pd.DataFrame([("d1", "A", 0, 0.9, "2019-01-01"), ("d2", "A", 0, 0.95, "2018-01-01"),
                         ("d3", "B", 0, 0.5, "2020-01-01"), ("d4", "B", 2, 0.99, "2020-01-01"),
                         ("d5", "B", 1, 0.99, "2020-01-01")],
                        columns=["doc_id", "region", "topic_id", "probability", "date"])
    evidence = select_evidence(out, docs, n=3)
    keys = dict(zip(out["region"], out["candidate_key"], strict=True))
    assert evidence[keys["A"]] == [("d2", None), ("d1", None)]
    assert evidence[keys["B"]] == [("d3", None), ("d4", 2)], "topic documents first, then related topic 2, never 1"


def test_evidence_lists_a_document_once_under_its_first_relation() -> None:
    out = flag_candidates(**_inputs(), cfg=CFG)  # type: ignore[arg-type]
    # d3 is in B's topic 0 and, through another organisation's link row, in related topic 2 as well;
    # d4 is listed twice in topic 2 (two organisations): each appears once.
    docs = pd.DataFrame([("d3", "B", 0, 0.5, "2020-01-01"), ("d3", "B", 2, 0.5, "2020-01-01"),
                         ("d4", "B", 2, 0.9, "2020-01-01"), ("d4", "B", 2, 0.9, "2020-01-01"),
                         ("d6", "B", 2, 0.8, "2020-01-01")],
                        columns=["doc_id", "region", "topic_id", "probability", "date"])
    key = out.loc[out["region"] == "B", "candidate_key"].iloc[0]
    assert select_evidence(out, docs, n=5)[key] == [("d3", None), ("d4", 2), ("d6", 2)]


def test_support_counts_and_minimums_by_hand() -> None:
    # A/0: documents d1, d2 (2) from a1, a2, a3 (3); B/0: d3 in the topic, d4, d6 in related topic 2
    # (3) from b1, b2 (2): the same set that its mass counts.
    loose = CandidatesConfig(min_topic_documents=1, min_actors=2, min_density=0.3, rca_cap=2.0, mass_target=4)
    out = flag_candidates(**_inputs(), cfg=loose)  # type: ignore[arg-type]
    got = {r.region: r for r in out.itertuples()}
    assert (got["A"].support_documents, got["A"].support_organisations) == (2, 3)
    assert (got["B"].support_documents, got["B"].support_organisations) == (3, 2)
    assert got["A"].below_minimum == ["2 supporting documents, fewer than the minimum 3"]
    assert got["B"].below_minimum == []
    strict = CandidatesConfig(min_topic_documents=1, min_actors=2, min_density=0.3, rca_cap=2.0, mass_target=4,
                              min_support_documents=2, min_support_organisations=3)
    got = {r.region: r.below_minimum for r in flag_candidates(**_inputs(), cfg=strict).itertuples()}  # type: ignore[arg-type]
    assert got == {"A": [], "B": ["2 supporting organisations, fewer than the minimum 3"]}


def test_explanation_states_the_components() -> None:
    from s3text.candidates import explain

    out = flag_candidates(**_inputs(), cfg=CFG)  # type: ignore[arg-type]
    a0, b0 = (out[out["region"] == r].iloc[0] for r in ("A", "B"))
    text = explain(a0, region_name="Alpha", topic_label="hydrogen", related_labels=[], min_count=2)
    assert text.startswith("A (Alpha) is already specialised in the emerging topic 'hydrogen' (RCA 1.80, shrunk "
                           "to 1.50 (5 % bound 1.40), 5 documents)")
    assert "rests on 2 documents from 3 organisations" in text
    assert "100th percentile" in text and f"{a0['score']:.3f}" in text
    text = explain(b0, region_name=None, topic_label="hydrogen", related_labels=["electrolysis"], min_count=2)
    assert "not yet specialised" in text and "relatedness density to it is 0.60" in text
    assert "related strengths: electrolysis" in text and "on 3 documents from 2 organisations" in text


@pytest.mark.slow
def test_small_store_evidence_and_support(small_run_store: tuple[Path, str]) -> None:
    """On the real small run: evidence without duplicates, the topic's own first, related items
    labelled; every flagged candidate reaches the minimums, every listed one falls short."""
    path, run_id = small_run_store
    cfg = CandidatesConfig()
    with Store(path, read_only=True) as store:
        flagged = [Candidate.model_validate_json(r) for r in store.query(
            "SELECT record FROM candidates WHERE run_id = ?", [run_id])["record"]]
        below = [Candidate.model_validate_json(r) for r in store.query(
            "SELECT record FROM candidates_below_minimum WHERE run_id = ?", [run_id])["record"]]
        labels = dict(store.con.execute("SELECT topic_id, label FROM topics WHERE run_id = ?", [run_id]).fetchall())
    assert flagged
    for c in flagged + below:
        ids = [e.doc_id for e in c.evidence]
        assert len(ids) == len(set(ids)), c.candidate_key
        relations = [e.relation for e in c.evidence]
        assert relations == sorted(relations, key=["topic", "related"].index), "the topic's own evidence first"
        for e in c.evidence:
            if e.relation == "related":
                assert e.related_topic_id in c.related_topics
                assert e.related_topic_label == labels[e.related_topic_id]
            else:
                assert e.related_topic_id is None and e.related_topic_label is None
        assert c.support_documents >= len(ids) and c.support_organisations == c.actors
        assert f"on {c.support_documents} document" in c.explanation
    assert all(c.support_documents >= cfg.min_support_documents and not c.below_minimum
               and c.support_organisations >= cfg.min_support_organisations for c in flagged)
    assert all(c.below_minimum and (c.support_documents < cfg.min_support_documents
                                    or c.support_organisations < cfg.min_support_organisations) for c in below)
    assert not {c.candidate_key for c in flagged} & {c.candidate_key for c in below}
