"""Candidate flagging on small matrices whose outcome is worked out by hand here."""

import pandas as pd
import pytest

from s3text.candidates import candidate_key, candidate_score, flag_candidates, select_evidence
from s3text.config import CandidatesConfig

CFG = CandidatesConfig(min_actors=2, min_density=0.3, rca_cap=2.0, mass_target=4)


def _inputs() -> dict[str, object]:
    # Topics 0 and 1 emerge, 2 does not. Region A is specialised in 0; region B is not in 0 but
    # in 2, which is related to 0 (phi 0.6). Region C has nothing related.
    emergence = pd.DataFrame({"score": [3.0, 2.0, 1.0], "emerging": [True, True, False]}, index=[0, 1, 2])
    capacity = pd.DataFrame([
        ("A", 0, 5, 1.8, 1, 0.2), ("A", 1, 1, 0.5, 0, 0.1), ("A", 2, 1, 0.4, 0, 0.0),
        ("B", 0, 1, 0.3, 0, 0.6), ("B", 1, 0, 0.0, 0, 0.0), ("B", 2, 6, 2.5, 1, 0.0),
        ("C", 0, 0, 0.0, 0, 0.0), ("C", 1, 2, 1.1, 1, 0.0), ("C", 2, 0, 0.0, 0, 0.0),
    ], columns=["region", "topic_id", "count", "rca", "specialised", "density"])
    phi = pd.DataFrame([[0, 0.1, 0.6], [0.1, 0, 0.0], [0.6, 0.0, 0]], index=[0, 1, 2], columns=[0, 1, 2])
    actors = pd.DataFrame([("A", "a1", 0), ("A", "a2", 0), ("A", "a3", 0), ("B", "b1", 2), ("B", "b2", 2),
                           ("B", "b1", 0), ("C", "c1", 1)], columns=["region", "actor_id", "topic_id"])
    lineages = pd.Series({0: "L-hydrogen", 1: "L-biochar", 2: "L-electrolysis"})
    return {"emergence": emergence, "capacity": capacity, "relatedness": phi, "actor_topics": actors,
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
    assert a0.emergence == 1.0 and a0.specialisation == pytest.approx(0.9) and a0.mass == pytest.approx(0.75)
    expected_a0 = 0.4 * 1.0 + 0.2 * 0.9 + 0.25 * 0.2 + 0.15 * 0.75
    assert a0.score == pytest.approx(expected_a0)
    assert b0.score == pytest.approx(0.4 * 1.0 + 0.2 * 0.15 + 0.25 * 0.6 + 0.15 * 0.5)
    assert list(out["region"]) == ["A", "B"], "sorted by score"


def test_every_score_is_reproduced_by_its_components() -> None:
    out = flag_candidates(**_inputs(), cfg=CFG)  # type: ignore[arg-type]
    for row in out.to_dict(orient="records"):
        assert row["score"] == pytest.approx(candidate_score(row, CFG))


def test_region_filter_and_thresholds() -> None:
    assert flag_candidates(**_inputs(), cfg=CFG, regions={"B"})["region"].tolist() == ["B"]  # type: ignore[arg-type]
    strict = CandidatesConfig(min_actors=3, min_density=0.7, rca_cap=2.0, mass_target=4)
    assert flag_candidates(**_inputs(), cfg=strict)["region"].tolist() == ["A"]  # type: ignore[arg-type]


def test_candidate_key_follows_region_and_lineage_not_run_numbers() -> None:
    inputs = _inputs()
    new = {0: 12, 1: 10, 2: 11}  # a refit numbers the same topics differently
    renumbered = {
        "emergence": inputs["emergence"].rename(index=new),  # type: ignore[attr-defined]
        "capacity": inputs["capacity"].assign(topic_id=inputs["capacity"]["topic_id"].map(new)),  # type: ignore[index]
        "relatedness": inputs["relatedness"].rename(index=new, columns=new),  # type: ignore[attr-defined]
        "actor_topics": inputs["actor_topics"].assign(  # type: ignore[attr-defined]
            topic_id=inputs["actor_topics"]["topic_id"].map(new)),  # type: ignore[index]
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
    assert evidence[keys["A"]] == ["d2", "d1"]
    assert evidence[keys["B"]] == ["d3", "d4"], "topic documents first, then related topic 2, never topic 1"


def test_explanation_states_the_components() -> None:
    from s3text.candidates import explain

    out = flag_candidates(**_inputs(), cfg=CFG)  # type: ignore[arg-type]
    a0, b0 = (out[out["region"] == r].iloc[0] for r in ("A", "B"))
    text = explain(a0, region_name="Alpha", topic_label="hydrogen", related_labels=[], min_count=2)
    assert text.startswith("A (Alpha) is already specialised in the emerging topic 'hydrogen' (RCA 1.80, 5 documents)")
    assert "100th percentile" in text and f"{a0['score']:.3f}" in text
    text = explain(b0, region_name=None, topic_label="hydrogen", related_labels=["electrolysis"], min_count=2)
    assert "not yet specialised" in text and "relatedness density to it is 0.60" in text
    assert "related strengths: electrolysis" in text and "2 actors" in text
