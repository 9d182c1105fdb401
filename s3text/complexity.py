"""Knowledge complexity of regions and topics by the eigenvector method, and Balland's risk/reward grid.

Pure functions on a labelled presence matrix M (rows = regions, columns = topics), read as 0/1
(``M > 0``), typically :func:`s3text.capacity.specialisation`. Two conventions are implemented:

- ``ecomplexity`` 0.5.3 (Harvard Growth Lab): :func:`eci_pci`, z-scored on the ECI's mean and
  standard deviation, sign set so that the ECI correlates positively with diversity;
- EconGeo (Balland, R): :func:`kci`, :func:`tci` (eigenvector scaled to sum 1) and the method of
  reflections :func:`morc`, :func:`mort`.

Formulas, sign and normalisation choices: ``docs/METHODS.md``, section 2 ("Knowledge complexity").
Regions or topics with no presence (diversity or ubiquity 0) are left out of the computation, as
both packages do, and get NaN; so do results that are undefined (a matrix too small for a second
eigenvalue, a reflection step that cannot be rescaled).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

QUADRANTS: tuple[str, ...] = (
    "low risk, high reward",
    "high risk, high reward",
    "low risk, low reward",
    "high risk, low reward",
)


def _presence(m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(B, row mask, column mask): B = [M > 0] restricted to non-empty rows and columns."""
    x = m.to_numpy(dtype=np.float64)
    if np.isnan(x).any() or (x < 0).any():
        raise ValueError("the presence matrix must be non-negative and free of NaN")
    b = (x > 0).astype(np.float64)
    rows, cols = b.sum(axis=1) > 0, b.sum(axis=0) > 0
    return b[np.ix_(rows, cols)], rows, cols


def _expand(values: np.ndarray, mask: np.ndarray, labels: pd.Index, name: str) -> pd.Series:
    out = np.full(mask.shape[0], np.nan)
    out[mask] = values
    return pd.Series(out, index=labels.copy(), name=name)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 2 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def eci_pci(m: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """ECI (regions) and PCI (topics) exactly as ``ecomplexity`` 0.5.3 ``calc_eci_pci`` + normalisation.

    With k_c = diversity, k_p = ubiquity: M_pp = (M^T / k_p)(M / k_c); k_p-vector = eigenvector of
    its second-largest eigenvalue, k_c-vector = (M / k_c) k_p-vector; both multiplied by the sign of
    corr(k_c, k_c-vector); then ECI = (kc - mean(kc)) / std(kc) and PCI = (kp - mean(kc)) / std(kc)
    (population std; PCI is *not* centred on its own mean, which keeps ECI_c = mean of PCI over the
    topics of c). Solved as the symmetric eigenproblem D_p^-1/2 M^T D_c^-1 M D_p^-1/2 (same
    eigenvalues; real, sorted). Empty rows/columns: NaN. An undefined sign (constant diversity) is
    taken as +1 (ecomplexity: NaN everywhere).
    """
    b, rows, cols = _presence(m)
    nan_out = (
        _expand(np.full(rows.sum(), np.nan), rows, m.index, "eci"),
        _expand(np.full(cols.sum(), np.nan), cols, m.columns, "pci"),
    )
    if min(b.shape) < 2:
        return nan_out
    kc, kp = b.sum(axis=1), b.sum(axis=0)
    root = np.sqrt(kp)
    sym = (b / root).T @ (b / kc[:, np.newaxis]) / root[np.newaxis, :]
    _, vecs = np.linalg.eigh((sym + sym.T) / 2.0)
    kp_vec = vecs[:, -2] / root
    kc_vec = (b / kc[:, np.newaxis]) @ kp_vec
    sign = -1.0 if _pearson(kc, kc_vec) < 0 else 1.0
    eci, pci = sign * kc_vec, sign * kp_vec
    mean, std = eci.mean(), eci.std()
    if not std > 0:
        return nan_out
    return (_expand((eci - mean) / std, rows, m.index, "eci"), _expand((pci - mean) / std, cols, m.columns, "pci"))


def _rescale(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (x - np.nanmin(x)) / (np.nanmax(x) - np.nanmin(x)) * 100.0


def _reflections(b: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """EconGeo ``morc``/``mort`` loop: (region order, topic order) after ``steps`` reflections."""
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    kc, kp = b.sum(axis=1), b.sum(axis=0)
    city, tech = kc, kp
    for i in range(1, steps + 1):
        city, tech = (b @ tech) / kc, (b.T @ city) / kp
        if i >= 3:
            city, tech = _rescale(city), _rescale(tech)
    return city, tech


def morc(m: pd.DataFrame, steps: int = 20) -> pd.Series:
    """EconGeo ``morc(mat, steps)``: region complexity by the method of reflections.

    k_c,0 = diversity, k_p,0 = ubiquity; k_c,N = (1/k_c) sum_p M_cp k_p,N-1 and
    k_p,N = (1/k_p) sum_c M_cp k_c,N-1. From step 3 on both are rescaled to 0..100 at every step
    (min -> 0, max -> 100), as EconGeo does. Empty regions/topics are dropped first (NaN here).
    """
    b, rows, _ = _presence(m)
    return _expand(_reflections(b, steps)[0], rows, m.index, "morc")


def mort(m: pd.DataFrame, steps: int = 19) -> pd.Series:
    """EconGeo ``mort(mat, steps)``: topic complexity by the method of reflections (default 19 steps)."""
    b, _, cols = _presence(m)
    return _expand(_reflections(b, steps)[1], cols, m.columns, "mort")


def _second_eigenvector(mat: np.ndarray, digits: int | None) -> np.ndarray:
    """R ``eigen(round(mat, digits))$vec[, 2]``: eigenvalues ordered by decreasing modulus, real part."""
    if digits is not None:
        mat = np.round(mat, digits)
    vals, vecs = np.linalg.eig(mat)
    order = np.argsort(-np.abs(vals), kind="stable")
    return np.asarray(np.real(vecs[:, order[1]]), dtype=np.float64)


def kci(m: pd.DataFrame, *, digits: int | None = 4) -> pd.Series:
    """EconGeo ``kci(mat)``: second eigenvector of CC = (M / k_c)(M^T / k_p), scaled to sum 1.

    CC is rounded to ``digits`` decimals before the eigen decomposition, as EconGeo does (None: no
    rounding). The sign is flipped when the Pearson correlation with ``morc(M, steps=20)`` is
    negative. Empty regions/topics are dropped first (NaN here; EconGeo returns a shorter vector).
    """
    b, rows, _ = _presence(m)
    if min(b.shape) < 2:
        return _expand(np.full(rows.sum(), np.nan), rows, m.index, "kci")
    kc, kp = b.sum(axis=1), b.sum(axis=0)
    v = _second_eigenvector((b / kc[:, np.newaxis]) @ (b.T / kp[:, np.newaxis]), digits)
    out = v / v.sum()
    if _pearson(out, _reflections(b, 20)[0]) < 0:
        out = -out
    return _expand(out, rows, m.index, "kci")


def tci(m: pd.DataFrame, *, digits: int | None = 4) -> pd.Series:
    """EconGeo ``tci(mat)``: second eigenvector of TT = (M^T / k_p)(M / k_c), scaled to sum 1.

    Rounded like :func:`kci`. EconGeo's sign rule for TCI differs from KCI's: the vector is flipped
    when its Spearman correlation with ubiquity is positive (rare topics are the complex ones).
    """
    b, _, cols = _presence(m)
    if min(b.shape) < 2:
        return _expand(np.full(cols.sum(), np.nan), cols, m.columns, "tci")
    kc, kp = b.sum(axis=1), b.sum(axis=0)
    v = _second_eigenvector((b.T / kp[:, np.newaxis]) @ (b / kc[:, np.newaxis]), digits)
    out = v / v.sum()
    ranks = pd.Series(out).rank().to_numpy(), pd.Series(kp).rank().to_numpy()
    if _pearson(*ranks) > 0:
        out = -out
    return _expand(out, cols, m.columns, "tci")


def risk_reward(density_long: pd.DataFrame, complexity: pd.Series, *, density_col: str = "density") -> pd.DataFrame:
    """Balland et al. (2019) grid: relatedness density (risk) x topic complexity (reward), split at medians.

    ``density_long`` has columns region, topic_id and ``density_col`` (e.g. ``capacity_table``'s
    ``density`` or ``density_ext``); ``complexity`` is indexed by topic_id (e.g. PCI or TCI).
    High density = low risk. A value at or above its median is "high" (so ties go to low risk /
    high reward). The density median is over the (region, topic) rows classified; the complexity
    median over the distinct topics among them, each counted once. Rows whose density or
    complexity is missing (NaN, or a topic absent from ``complexity``) are dropped. Result columns:
    region, topic_id, density, complexity, quadrant; the medians are in ``.attrs``.
    """
    missing = {"region", "topic_id", density_col} - set(density_long.columns)
    if missing:
        raise ValueError(f"density_long lacks columns {sorted(missing)}")
    out = density_long[["region", "topic_id", density_col]].rename(columns={density_col: "density"})
    out = out.assign(complexity=out["topic_id"].map(complexity).astype(np.float64))
    out = out.dropna(subset=["density", "complexity"]).reset_index(drop=True)
    d_med = float(out["density"].median()) if len(out) else float("nan")
    c_med = float(out.drop_duplicates("topic_id")["complexity"].median()) if len(out) else float("nan")
    risk = np.where(out["density"] >= d_med, "low risk", "high risk")
    reward = np.where(out["complexity"] >= c_med, "high reward", "low reward")
    out["quadrant"] = pd.Series(risk, dtype=object) + ", " + pd.Series(reward, dtype=object)
    out.attrs.update(density_median=d_med, complexity_median=c_med)
    return out
