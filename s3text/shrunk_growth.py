"""Small-count-robust growth: empirical-Bayes shrinkage of each topic's recent/base share ratio.

The model (docs/METHODS.md 1.3, "Shrunk growth"), per topic i with c_R, c_B documents in the
recent and base windows and N_R, N_B all documents there, m = N_R / (N_R + N_B):

    c_R ~ Poisson(lambda_i * u_i),  c_B ~ Poisson(lambda_i * v_i),
    u_i ~ Gamma(kappa * m, 1),      v_i ~ Gamma(kappa * (1 - m), 1),

with lambda_i the topic's size, left free. Given the topic's documents in both windows
n_i = c_R + c_B, c_R ~ Binomial(n_i, pi_i) with pi_i = u_i / (u_i + v_i) ~ Beta(kappa m, kappa (1 - m)):
the size drops out, and the prior says "the topic's share is unchanged" (E pi = m) with the weight
of kappa documents. kappa is estimated from all topics by maximising the beta-binomial marginal
likelihood. The posterior is pi_i | c ~ Beta(c_R + kappa m, c_B + kappa (1 - m)), and

    growth_shrunk = log2( ((c_R + kappa m) / N_R) / ((c_B + kappa (1 - m)) / N_B) )

(the ratio of the posterior mean rates; 0 for a topic without documents, the raw log ratio once
both counts dwarf kappa), growth_lower the same transform of the posterior q-quantile of pi_i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln
from scipy.stats import beta

from s3text.shrinkage import max_marginal_likelihood

# Search range of kappa (in prior documents). Not thresholds: the likelihood decides inside it.
# The top stands for "no over-dispersion at all" (every topic's share unchanged up to Poisson
# noise), which shrinks every growth to ~0, as it should.
KAPPA_MIN, KAPPA_MAX = 1e-3, 1e6


@dataclass(frozen=True)
class ShrunkGrowth:
    """Per-topic shrunk growth (log2), its lower bound, and the prior weight kappa used."""

    estimate: np.ndarray
    lower: np.ndarray
    kappa: float


def _log_marginal(kappa: float, c_recent: np.ndarray, c_base: np.ndarray, m: float) -> float:
    # Beta-binomial log-likelihood without the binomial coefficients (constant in kappa).
    a, b = kappa * m, kappa * (1.0 - m)
    return float((betaln(c_recent + a, c_base + b) - betaln(a, b)).sum())


def fit_prior_strength(c_recent: np.ndarray, c_base: np.ndarray, m: float) -> float:
    """Maximum marginal-likelihood kappa of the Beta(kappa m, kappa (1 - m)) prior on pi_i.

    Only topics with at least 2 documents in the two windows carry information on kappa (a
    topic with 1 document contributes log m or log(1 - m) whatever kappa is); without any, the
    corpus says nothing about how much topics differ and ``KAPPA_MAX`` is returned (no growth).
    """
    if not 0.0 < m < 1.0:
        raise ValueError(f"recent share of the corpus must lie in (0, 1), got {m}")
    c_recent, c_base = np.asarray(c_recent, dtype=np.float64), np.asarray(c_base, dtype=np.float64)
    if not ((c_recent + c_base) >= 2).any():
        return KAPPA_MAX
    return max_marginal_likelihood(lambda log_kappa: -_log_marginal(float(np.exp(log_kappa)), c_recent, c_base, m),
                                   (KAPPA_MIN, KAPPA_MAX))


def shrunk_growth(
    c_recent: np.ndarray,
    c_base: np.ndarray,
    n_recent: float,
    n_base: float,
    *,
    kappa: float | None,
    lower_quantile: float,
) -> ShrunkGrowth:
    """Posterior growth and its ``lower_quantile`` bound for every topic (module docstring).

    ``kappa=None`` estimates it with :func:`fit_prior_strength`. A window without any document
    (one-year data, an empty base) leaves no ratio to estimate: every growth is 0 and kappa 0.
    """
    c_recent, c_base = np.asarray(c_recent, dtype=np.float64), np.asarray(c_base, dtype=np.float64)
    if n_recent <= 0 or n_base <= 0:
        zeros = np.zeros(c_recent.shape)
        return ShrunkGrowth(estimate=zeros, lower=zeros.copy(), kappa=0.0)
    m = n_recent / (n_recent + n_base)
    k = fit_prior_strength(c_recent, c_base, m) if kappa is None else float(kappa)
    a, b = c_recent + k * m, c_base + k * (1.0 - m)
    prior_odds = m / (1.0 - m)
    # (a / b) / prior_odds, written so that a topic without documents gets exactly kappa / kappa = 1.
    estimate = np.log2((c_recent / m + k) / (c_base / (1.0 - m) + k))
    q = beta.ppf(lower_quantile, a, b)
    # q is in (0, 1) for a, b > 0; the clip only guards the log against a quantile rounded to 0 or 1.
    q = np.clip(q, np.finfo(np.float64).tiny, 1.0 - np.finfo(np.float64).eps)
    lower = np.log2(q / (1.0 - q) / prior_odds)
    return ShrunkGrowth(estimate=estimate, lower=lower, kappa=k)
