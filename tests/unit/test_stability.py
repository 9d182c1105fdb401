"""Stability figures of a run against the previous one (pure functions)."""

from __future__ import annotations

import pytest

from s3text.stability import jaccard, kept_lineage, stability


def test_kept_share_counts_outlier_to_outlier_and_missing_as_not_kept() -> None:
    previous = {"a": "L1", "b": "L1", "c": None, "d": "L2", "e": "L2"}
    current = {"a": "L1", "b": "L3", "c": None, "d": None, "f": "L2"}  # e deleted, f new (not counted)
    assert kept_lineage(previous, current) == (5, 2, 1)
    figures = stability(previous, current, ["k1", "k2", "k3"], ["k2", "k3", "k4"])
    assert figures.kept_share == pytest.approx(0.4)
    assert (figures.candidates, figures.previous_candidates, figures.shared_candidates) == (3, 3, 2)
    assert figures.candidate_jaccard == pytest.approx(0.5)
    assert figures.as_dict()["kept_share"] == 0.4


def test_no_earlier_documents_or_candidates_is_undefined_not_perfect() -> None:
    figures = stability({}, {"a": "L1"}, [], [])
    assert figures.kept_share is None and figures.candidate_jaccard is None
    assert jaccard(["a"], []) == 0.0 and jaccard(["a", "a"], ["a"]) == 1.0


def test_a_first_run_has_no_jaccard_but_a_run_after_an_empty_one_has_zero() -> None:
    assert stability({}, {"a": "L1"}, None, ["k1", "k2"]).candidate_jaccard is None
    assert stability({}, {"a": "L1"}, [], ["k1", "k2"]).candidate_jaccard == 0.0
