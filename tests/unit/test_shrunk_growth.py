"""Empirical-Bayes shrunk growth: hand-worked counts, its limits, the prior fit, and real FP7 counts."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy.stats import beta

from s3text.config import EmergenceConfig
from s3text.emergence import score_emergence, year_counts, year_totals
from s3text.shrunk_growth import KAPPA_MAX, fit_prior_strength, shrunk_growth


def one(
    c_recent: int, c_base: int, n_recent: float = 100, n_base: float = 100, kappa: float = 4.0
) -> tuple[float, float]:
    out = shrunk_growth(np.array([c_recent]), np.array([c_base]), n_recent, n_base, kappa=kappa, lower_quantile=0.05)
    return float(out.estimate[0]), float(out.lower[0])


def raw(c_recent: int, c_base: int, n_recent: float = 100, n_base: float = 100) -> float:
    return math.log2(((c_recent + 0.5) / (n_recent + 1)) / ((c_base + 0.5) / (n_base + 1)))


def test_one_recent_document_is_shrunk_toward_zero_by_hand() -> None:
    # m = 100 / 200 = 0.5, kappa = 4: the prior adds 2 documents to each window.
    estimate, lower = one(1, 0)
    assert estimate == pytest.approx(math.log2((1 + 2) / (0 + 2)))  # 0.58, where raw says log2(3) = 1.58
    assert raw(1, 0) == pytest.approx(math.log2(3))
    # Lower bound: the 5 % quantile q of Beta(3, 2), as log2 of its odds over the prior odds 1.
    q = beta.ppf(0.05, 3, 2)
    assert lower == pytest.approx(math.log2(q / (1 - q))) and lower < 0  # 1 document is no evidence of growth
    # Unequal windows: m = 300 / 400, so the prior adds 3 recent and 1 base document.
    estimate, _ = one(1, 0, n_recent=300, n_base=100)
    assert estimate == pytest.approx(math.log2(((1 + 3) / 300) / ((0 + 1) / 100)))
    # A topic without documents has exactly the corpus's growth: 0.
    assert one(0, 0)[0] == 0.0
    assert one(0, 0, n_recent=126, n_base=116, kappa=0.37)[0] == 0.0


def test_large_topic_keeps_its_raw_growth() -> None:
    # shrunk - raw = log2((c_R + k m)/(c_R + .5)) - log2((c_B + k(1-m))/(c_B + .5)) + log2((N_R+1) N_B / (N_R (N_B+1))).
    # |ln((c + a)/(c + .5))| <= |a - .5| / min(c + a, c + .5), so with a <= k every term is below
    # k / c, and the last one below 1/N_R + 1/N_B: |shrunk - raw| <= (k/c_R + k/c_B + 1/N_R + 1/N_B) / ln 2.
    kappa, c_recent, c_base, n_recent, n_base = 4.0, 900, 400, 5000, 4000
    tolerance = (kappa / c_recent + kappa / c_base + 1 / n_recent + 1 / n_base) / math.log(2)
    assert tolerance < 0.025
    estimate, lower = one(c_recent, c_base, n_recent, n_base, kappa)
    assert abs(estimate - raw(c_recent, c_base, n_recent, n_base)) <= tolerance
    # The 5 % bound sits about 1.645 standard errors below: sqrt(1/c_R + 1/c_B) / ln 2 on the log2 scale.
    se = math.sqrt(1 / c_recent + 1 / c_base) / math.log(2)
    assert estimate - lower == pytest.approx(1.645 * se, rel=0.05)


def test_monotonic_in_counts() -> None:
    grid = range(0, 30)
    for c_base in (0, 1, 5, 20):
        rising = [one(c, c_base)[0] for c in grid]
        assert all(b > a for a, b in itertools.pairwise(rising))
        lowers = [one(c, c_base)[1] for c in grid]
        assert all(b > a for a, b in itertools.pairwise(lowers))
    for c_recent in (0, 1, 5, 20):
        falling = [one(c_recent, c)[0] for c in grid]
        assert all(b < a for a, b in itertools.pairwise(falling))
    # Stronger prior, stronger pull toward 0; a weaker one lets the count speak.
    assert one(3, 0, kappa=20)[0] < one(3, 0, kappa=4)[0] < one(3, 0, kappa=1)[0]


def test_prior_strength_is_recovered_from_a_simulated_poisson_gamma_sample() -> None:
    # The model of s3text.shrunk_growth, simulated in its Poisson-Gamma form with topic sizes that
    # vary 20-fold: the size must drop out of the estimate.
    kappa, m, topics = 8.0, 0.4, 300
    estimates = []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        size = rng.lognormal(2.0, 1.0, size=topics)
        u, v = rng.gamma(kappa * m, 1.0, size=topics), rng.gamma(kappa * (1 - m), 1.0, size=topics)
        estimates.append(fit_prior_strength(rng.poisson(size * u), rng.poisson(size * v), m))
    assert all(abs(math.log(e / kappa)) < 0.35 for e in estimates)
    assert abs(math.log(float(np.exp(np.mean(np.log(estimates)))) / kappa)) < 0.1


def test_prior_strength_at_its_limits() -> None:
    # No topic with 2 documents: nothing to learn about dispersion, every growth shrinks to 0.
    assert fit_prior_strength(np.array([1, 0, 0]), np.array([0, 1, 0]), 0.5) == KAPPA_MAX
    # Shares that barely move (all topics on the corpus's own growth) call for a very strong prior.
    flat = np.full(20, 50)
    assert fit_prior_strength(flat, flat, 0.5) > 1e4
    # A window without documents leaves no ratio: 0 everywhere, never NaN.
    out = shrunk_growth(np.array([3, 0]), np.array([0, 0]), 10, 0, kappa=None, lower_quantile=0.05)
    assert out.estimate.tolist() == [0.0, 0.0] and out.lower.tolist() == [0.0, 0.0] and out.kappa == 0.0
    with pytest.raises(ValueError):
        fit_prior_strength(np.array([1]), np.array([1]), 1.0)


def fp7_counts(root: Path, column: str) -> tuple[pd.DataFrame, pd.Series]:
    """Real bundled FP7 projects, their CORDIS ``column`` (e.g. legal basis) standing in for topics."""
    projects = pd.read_csv(root / "data/cordis_fp7/projects.csv", usecols=[column, "startDate"])
    codes = {code: i for i, code in enumerate(sorted(projects[column].astype(str).unique()))}
    docs = pd.DataFrame({"topic_id": projects[column].astype(str).map(codes),
                         "year": pd.to_datetime(projects["startDate"]).dt.year})
    return year_counts(docs), year_totals(docs["year"])


@pytest.mark.parametrize("column", ["legalBasis", "fundingScheme"])
def test_top_topics_on_real_fp7_counts_rest_on_enough_documents(root: Path, column: str) -> None:
    counts, totals = fp7_counts(root, column)
    cfg = EmergenceConfig()
    shrunk = score_emergence(counts, totals, cfg).sort_values("score", ascending=False, kind="stable")
    raw = score_emergence(counts, totals, cfg.model_copy(update={"growth_estimate": "raw"}))
    raw = raw.sort_values("score", ascending=False, kind="stable")
    kappa = float(shrunk["growth_prior"].iloc[0])
    assert 1 < kappa < 10  # categories differ a lot between the windows, but not all-or-nothing
    # Raw growth puts a category with fewer than min_recent_docs recent projects in its top two
    # (1 project and none before, or 4 and none); the shrunk score's top two rest on enough.
    assert (raw["recent_count"].iloc[:2] < cfg.min_recent_docs).any()
    assert (shrunk["recent_count"].iloc[:2] >= cfg.min_recent_docs).all()
    assert bool(shrunk["emerging"].iloc[0])
    # Every category without base projects and below the minimum is pulled toward 0.
    few = (shrunk["base_count"] == 0) & (shrunk["recent_count"].between(1, cfg.min_recent_docs - 1))
    assert few.any() and (shrunk.loc[few, "growth"] < shrunk.loc[few, "growth_raw"]).all()
    # Categories with both counts well above kappa keep their raw growth, within the bound derived in
    # test_large_topic_keeps_its_raw_growth, with max(kappa, 1/2) for the pseudo-count gap.
    both = shrunk[(shrunk["recent_count"] >= 5) & (shrunk["base_count"] >= 5)]
    end = int(shrunk["end_year"].iloc[0])  # 2014: the last year with min_year_docs projects
    n_recent = float(totals.loc[end - cfg.recent_years + 1:end].sum())
    n_base = float(totals.loc[end - cfg.recent_years - cfg.base_years + 1:end - cfg.recent_years].sum())
    gap = max(kappa, 0.5)
    bound = (gap / both["recent_count"] + gap / both["base_count"] + 1 / n_recent + 1 / n_base) / math.log(2)
    assert len(both) and ((both["growth"] - both["growth_raw"]).abs() <= bound).all()


def test_window_specific_categories_weaken_the_prior_below_one_document(root: Path) -> None:
    # CORDIS call codes (FP7-PEOPLE-2012-CIG, ...) exist for one year: nearly every code is all
    # recent or all base, so the fitted prior is U-shaped (kappa < 1) and a code without base
    # projects gets a shrunk growth above its raw one (docs/METHODS.md 1.3, limitations), while
    # its lower bound stays below the raw growth.
    counts, totals = fp7_counts(root, "topics")
    out = score_emergence(counts, totals, EmergenceConfig())
    assert float(out["growth_prior"].iloc[0]) < 1
    new = out[(out["base_count"] == 0) & (out["recent_count"] >= 1)]
    assert len(new) and (new["growth_shrunk"] > new["growth_raw"]).all()
    assert (new["growth_lower"] < new["growth_raw"]).all()


def test_bad_growth_settings_fail_when_the_config_loads() -> None:
    for bad in ({"growth_estimate": "mean"}, {"growth_lower_quantile": 0.5}, {"growth_lower_quantile": 0.0},
                {"growth_prior_documents": 0.0}):
        with pytest.raises(ValidationError):
            EmergenceConfig(**bad)
    fixed = EmergenceConfig(growth_prior_documents=2.5)
    counts = pd.DataFrame([[0, 0, 0, 1, 2, 3]], columns=list(range(2019, 2025))).rename_axis("topic_id")
    out = score_emergence(counts, pd.Series([20] * 6, index=list(range(2019, 2025))), fixed)
    assert out["growth_prior"].tolist() == [2.5]
