from pathlib import Path

import pytest

from s3text.errors import ReviewError
from s3text.review import audit_log, current_decisions, decide, fingerprint, with_review_state
from s3text.store import Store

RECORD = {"candidate_key": "k1", "kind": "diversify", "score": 0.61234,
          "evidence": [{"doc_id": "d2"}, {"doc_id": "d1"}]}


def test_decisions_are_upserted_and_every_change_is_logged(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        decide(store, candidate_key="k1", status="watch", reviewer="ana", note="check partners", record=RECORD)
        decide(store, candidate_key="k1", status="accepted", reviewer="ben", note="strong <b>fit</b>",
               record=RECORD, run_id="r2")
        now = current_decisions(store)
        log = audit_log(store, "k1")
    assert now[["candidate_key", "status", "reviewer", "note", "run_id"]].values.tolist() == [
        ["k1", "accepted", "ben", "strong <b>fit</b>", "r2"]]
    assert log[["from_status", "to_status", "reviewer"]].values.tolist() == [
        ["new", "watch", "ana"], ["watch", "accepted", "ben"]]
    assert log["changed_at"].is_monotonic_increasing


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"status": "maybe", "reviewer": "ana"}, "status must be one of"),
    ({"status": "accepted", "reviewer": "  "}, "reviewer"),
    ({"status": "accepted", "reviewer": "ana", "note": "x" * 5001}, "at most 5000"),
])
def test_invalid_decisions_are_refused_and_leave_nothing(tmp_path: Path, kwargs: dict[str, str],
                                                         message: str) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        with pytest.raises(ReviewError, match=message):
            decide(store, candidate_key="k1", **kwargs)
        assert store.count("decisions") == store.count("decision_log") == 0


def test_review_state_marks_changed_candidates(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        decide(store, candidate_key="k1", status="accepted", reviewer="ana", record=RECORD)
        decisions = current_decisions(store)
    same = {**RECORD, "score": 0.6149, "evidence": [{"doc_id": "d1"}, {"doc_id": "d2"}]}  # jitter, reordered
    new_evidence = {**RECORD, "evidence": [{"doc_id": "d1"}, {"doc_id": "d9"}]}
    other = {**RECORD, "candidate_key": "k2"}
    states = with_review_state([same, new_evidence, other], decisions)
    assert [(s["status"], s["changed_since_review"]) for s in states] == [
        ("accepted", False), ("accepted", True), ("new", False)]
    assert fingerprint(same) == fingerprint(RECORD) != fingerprint({**RECORD, "kind": "strengthen"})
