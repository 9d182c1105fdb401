"""Empirical-Bayes Poisson–Gamma shrinkage of the RCA, on matrices worked out by hand here and on
the real small store (tests/conftest.py ``small_run_store``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from s3text.capacity import location_quotient
from s3text.config import CandidatesConfig
from s3text.shrinkage import ALPHA_BOUNDS, _neg_log_marginal, estimate_alpha, expected_counts, shrunk_rca
from s3text.store import Store


def _counts() -> pd.DataFrame:
    # R1 and R2 hold most documents; R3 has a single document, in the small topic T3.
    return pd.DataFrame([[40, 30, 0], [35, 45, 0], [0, 0, 1]], index=["R1", "R2", "R3"], columns=["T1", "T2", "T3"])


def test_posterior_mean_and_bound_by_hand() -> None:
    counts = _counts()
    # x·· = 151; R3 row 1, T3 column 1: E = 1·1/151. R1/T3: E = 70·1/151, x = 0.
    e = expected_counts(counts)
    assert e[2, 2] == pytest.approx(1 / 151) and e[0, 2] == pytest.approx(70 / 151)
    out = shrunk_rca(counts, alpha=1.0)
    assert out.alpha == 1.0
    # Posterior Gamma(x + α, E + α): mean (1 + 1)/(1/151 + 1); with x = 0 and α = 1 it is exponential,
    # so the 5 % quantile is −ln(0.95)/(E + 1).
    assert out.mean.loc["R3", "T3"] == pytest.approx(2 / (1 / 151 + 1))
    assert out.lower.loc["R1", "T3"] == pytest.approx(-math.log(0.95) / (70 / 151 + 1))
    assert out.mean.loc["R1", "T3"] == pytest.approx(1 / (70 / 151 + 1))
    # The raw RCA of the one document is x·· / x·t = 151: the shrunk one stays near the prior's 1.
    assert location_quotient(counts).loc["R3", "T3"] == pytest.approx(151)
    assert (out.lower.to_numpy() < out.mean.to_numpy()).all()


def test_one_document_shrinks_to_about_one_with_the_estimated_alpha() -> None:
    rng = np.random.default_rng(7)
    base = rng.poisson(np.outer([30, 20, 25, 40, 35], [3, 2, 1, 4]))  # little overdispersion
    counts = pd.DataFrame(np.vstack([base, [[0, 0, 1, 0]]]), index=[f"R{i}" for i in range(6)],
                          columns=["A", "B", "C", "D"])
    out = shrunk_rca(counts)
    raw = location_quotient(counts).loc["R5", "C"]
    assert raw > 9
    assert 1.0 < out.mean.loc["R5", "C"] < 1.1 and out.lower.loc["R5", "C"] < 1.0
    # Well-supported cells keep (nearly) their raw RCA.
    big = location_quotient(counts).loc["R3", "D"]
    assert out.mean.loc["R3", "D"] == pytest.approx(big, rel=0.05)


def test_alpha_is_the_marginal_likelihood_maximum() -> None:
    rng = np.random.default_rng(3)
    theta = rng.gamma(2.0, 0.5, size=(30, 8))  # true α = 2
    counts = pd.DataFrame(rng.poisson(theta * np.outer(rng.integers(5, 40, 30), np.ones(8))))
    alpha = estimate_alpha(counts)
    x, e = counts.to_numpy(dtype=float), expected_counts(counts)
    nll = _neg_log_marginal(math.log(alpha), x, e)
    assert nll <= _neg_log_marginal(math.log(alpha * 1.2), x, e)
    assert nll <= _neg_log_marginal(math.log(alpha / 1.2), x, e)
    assert 1.0 < alpha < 4.0
    # Exactly proportional counts show no overdispersion: α at its upper bound, every θ ≈ 1.
    flat = pd.DataFrame(np.outer([2, 4, 6], [1, 3]))
    assert estimate_alpha(flat) == pytest.approx(ALPHA_BOUNDS[1], rel=1e-3)
    assert np.allclose(shrunk_rca(flat).mean.to_numpy(), 1.0, atol=1e-4)


def test_empty_regions_stay_zero_and_bad_input_fails() -> None:
    counts = pd.DataFrame([[3, 1], [0, 0]], index=["R1", "R2"], columns=["T1", "T2"])
    out = shrunk_rca(counts, alpha=2.0)
    assert (out.mean.loc["R2"] == 0).all() and (out.lower.loc["R2"] == 0).all()
    with pytest.raises(ValueError, match="non-negative"):
        shrunk_rca(-counts)
    with pytest.raises(ValueError, match="alpha"):
        shrunk_rca(counts, alpha=0.0)


@pytest.mark.slow
def test_small_store_single_documents_cannot_carry_specialisation(small_run_store: tuple[Path, str]) -> None:
    path, run_id = small_run_store
    with Store(path, read_only=True) as store:
        cells = store.query("SELECT * FROM region_topics WHERE run_id = ?", [run_id])
        records = [json.loads(r) for r in store.query("SELECT record FROM candidates WHERE run_id = ?",
                                                      [run_id])["record"]]
        alpha = json.loads(store.query("SELECT manifest FROM runs WHERE run_id = ?", [run_id])["manifest"][0])[
            "stages"]["capacity"]["rca_prior_alpha"]
    single = cells[cells["count"] == 1]
    assert len(single) and (single["rca"] > 3).any(), "the raw RCA of one document is often large"
    assert (single["rca_shrunk"] < 1 + 1 / alpha + 1e-9).all() and (single["rca_lower"] < 1).all()
    assert (cells["rca_lower"] <= cells["rca_shrunk"]).all()
    cap = CandidatesConfig().rca_cap  # tests/e2e/config_small.yaml keeps the default
    assert records and all(r["specialisation"] == pytest.approx(min(r["rca_lower"], cap) / cap) for r in records)
    assert any(r["count"] <= 1 for r in records), "candidates resting on at most one document in the topic"
    assert all(r["specialisation"] < 0.5 for r in records if r["count"] <= 1)
