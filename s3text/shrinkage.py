"""Small-count-robust specialisation: empirical-Bayes Poisson–Gamma shrinkage of the RCA.

The raw location quotient of a cell with one or two documents is mostly noise (one project of a
region with one project gives RCA = x_·· / x_·t, easily 30). Following Clayton & Kaldor (1987),
each cell's count is Poisson around its expectation under no specialisation,

    x_rt ~ Poisson(E_rt θ_rt),   E_rt = x_r· x_·t / x_··,   θ_rt ~ Gamma(α, α)   (mean 1, variance 1/α),

so θ_rt is the cell's relative risk — the RCA, since x_rt / E_rt is exactly the LQ. The posterior
of θ_rt is Gamma(x_rt + α, E_rt + α): its mean (x_rt + α) / (E_rt + α) pulls a cell with little
evidence (small E and x) toward 1 and leaves a well-supported cell near its raw RCA; its 5 %
quantile is a lower bound that a single document cannot lift far above 1. α is estimated from all
cells of non-empty regions and topics by maximising the marginal (negative-binomial) likelihood.
See docs/METHODS.md, section 2.15.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

ALPHA_BOUNDS = (1e-3, 1e6)  # beyond these the likelihood is flat for any count table of this size
LOWER_QUANTILE = 0.05


@dataclass(frozen=True)
class ShrunkRca:
    """Posterior mean and lower bound of each cell's RCA, with the prior's α."""

    mean: pd.DataFrame
    lower: pd.DataFrame
    alpha: float


def expected_counts(counts: pd.DataFrame) -> np.ndarray:
    """E_rt = x_r· x_·t / x_··, the count a region would have in a topic without specialisation."""
    x = counts.to_numpy(dtype=np.float64)
    total = x.sum()
    if total <= 0:
        return np.zeros_like(x)
    return x.sum(axis=1, keepdims=True) * x.sum(axis=0, keepdims=True) / total


def _neg_log_marginal(log_alpha: float, x: np.ndarray, e: np.ndarray) -> float:
    """−log Π NB(x | size α, mean E): the Poisson–Gamma marginal of every cell."""
    a = float(np.exp(log_alpha))
    ll = (special.gammaln(x + a) - special.gammaln(a) - special.gammaln(x + 1)
          + a * np.log(a / (a + e)) + x * np.log(e / (a + e)))
    return float(-ll.sum())


def max_marginal_likelihood(neg_log_marginal: Callable[[float], float], bounds: tuple[float, float] = ALPHA_BOUNDS
                            ) -> float:
    """The prior weight (α of the RCA prior, κ of the growth prior) that minimises ``neg_log_marginal``
    of its log, searched on the log scale within ``bounds``. Bounded Brent never evaluates the ends,
    and the optimum may sit there (no, or extreme, dispersion), so the ends are compared too."""
    lo, hi = np.log(bounds[0]), np.log(bounds[1])
    found = optimize.minimize_scalar(neg_log_marginal, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(min((float(found.x), lo, hi), key=neg_log_marginal)))


def estimate_alpha(counts: pd.DataFrame) -> float:
    """α of the Gamma(α, α) prior by marginal likelihood over the cells with E_rt > 0 (cells of an
    empty region or topic carry no information). Without overdispersion the bound 1e6 (θ ≡ 1)."""
    x = counts.to_numpy(dtype=np.float64)
    e = expected_counts(counts)
    keep = e > 0
    if not keep.any():
        return ALPHA_BOUNDS[1]
    x, e = x[keep], e[keep]
    return max_marginal_likelihood(lambda log_alpha: _neg_log_marginal(log_alpha, x, e))


def shrunk_rca(counts: pd.DataFrame, *, alpha: float | None = None, quantile: float = LOWER_QUANTILE) -> ShrunkRca:
    """Posterior mean (x + α)/(E + α) and ``quantile`` of Gamma(x + α, rate E + α) per cell.

    ``alpha`` None estimates it (:func:`estimate_alpha`). Cells of an empty region or topic (E = 0
    and x = 0) are 0, as the raw RCA is there (no evidence at all, not "average")."""
    x = counts.to_numpy(dtype=np.float64)
    if (x < 0).any():
        raise ValueError("shrunk_rca needs non-negative counts")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be in (0, 1), got {quantile!r}")
    a = estimate_alpha(counts) if alpha is None else float(alpha)
    if not (a > 0 and np.isfinite(a)):
        raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}")
    e = expected_counts(counts)
    active = e > 0
    mean = np.where(active, (x + a) / (e + a), 0.0)
    lower = np.where(active, stats.gamma.ppf(quantile, x + a, scale=1.0 / (e + a)), 0.0)
    frame = {"index": counts.index.copy(), "columns": counts.columns.copy()}
    return ShrunkRca(pd.DataFrame(mean, **frame), pd.DataFrame(lower, **frame), a)
