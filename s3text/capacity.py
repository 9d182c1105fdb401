"""Regional capacity: location quotients, specialisation, relatedness and relatedness density.

Pure functions on labelled pandas frames (rows = regions or entities, columns = topics). They
follow EconGeo (Balland, R) and ``ecomplexity`` (Harvard Growth Lab, Python); formulas and the
differences between the two are in ``docs/METHODS.md`` (section "Capacity"). Wherever a formula
divides by zero (an empty region, topic or co-occurrence row) the result is 0, never NaN or inf.
The one deliberate exception is the masked densities (:func:`relatedness_density_ext` and
:func:`relatedness_density_int`), where NaN marks the cells outside the variant (EconGeo's NA).
Knowledge complexity (ECI/PCI, KCI/TCI) is in :mod:`s3text.complexity`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from s3text.config import CapacityConfig
from s3text.shrinkage import shrunk_rca

RelatednessMethod = Literal["association", "cosine", "jaccard", "prob"]
METHODS: tuple[str, ...] = ("association", "cosine", "jaccard", "prob")
OUTLIER = -1


def _div(num: np.ndarray, den: np.ndarray | float) -> np.ndarray:
    """num / den, 0 where the quotient is undefined (0/0, x/0): EconGeo turns NaN into 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(num, dtype=np.float64) / den
    return np.where(np.isfinite(out), out, 0.0)


def _frame(values: np.ndarray, like: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(values, index=like.index.copy(), columns=like.columns.copy())


def _square(mat: pd.DataFrame, what: str) -> np.ndarray:
    if mat.shape[0] != mat.shape[1] or not mat.index.equals(mat.columns):
        raise ValueError(f"{what} must be square with identical row and column labels")
    return np.array(mat.to_numpy(dtype=np.float64), dtype=np.float64)  # a copy: callers write into it


def region_topic_counts(doc_regions: pd.DataFrame, doc_topics: pd.DataFrame) -> pd.DataFrame:
    """Distinct documents per region (rows) and topic (columns); outliers (topic -1) excluded.

    A document linked to a region through several actors counts once for that region.
    """
    links = doc_regions[["doc_id", "region"]].drop_duplicates()
    topics = doc_topics.loc[doc_topics["topic_id"] != OUTLIER, ["doc_id", "topic_id"]].drop_duplicates()
    pairs = links.merge(topics, on="doc_id", how="inner")
    table = pd.crosstab(pairs["region"], pairs["topic_id"]) if len(pairs) else pd.DataFrame()
    regions = np.sort(links["region"].unique())
    ids = np.sort(topics["topic_id"].unique())
    table = table.reindex(index=regions, columns=ids, fill_value=0).astype(np.int64)
    table.index.name, table.columns.name = "region", "topic_id"
    return table


def location_quotient(mat: pd.DataFrame, *, smoothing: float = 0.0) -> pd.DataFrame:
    """LQ_{r,i} = (x_ri / sum_i x_ri) / (sum_r x_ri / sum_ri x_ri), EconGeo ``location_quotient``.

    Same arithmetic order as EconGeo and ecomplexity's ``calculate_rca`` so a cell exactly at the
    threshold lands on the same side. All-zero rows or columns give 0.

    ``smoothing`` (alpha >= 0) is an additive pseudo-count: every cell of a non-empty region and
    non-empty topic becomes x_ri + alpha before the LQ; empty regions and topics stay 0 (no evidence,
    LQ 0). It pulls the LQ of small cells toward 1 (alpha -> inf gives 1). alpha = 0 is EconGeo exactly.
    """
    x = mat.to_numpy(dtype=np.float64)
    if (x < 0).any():
        raise ValueError("location_quotient needs non-negative counts")
    if smoothing < 0 or not np.isfinite(smoothing):
        raise ValueError(f"smoothing must be a finite number >= 0, got {smoothing!r}")
    if smoothing > 0:
        active = (x.sum(axis=1, keepdims=True) > 0) & (x.sum(axis=0, keepdims=True) > 0)
        x = np.where(active, x + smoothing, 0.0)
    share_region = _div(x, x.sum(axis=1, keepdims=True))
    share_total = _div(x.sum(axis=0, keepdims=True), x.sum())
    return _frame(_div(share_region, share_total), mat)


def specialisation(mat: pd.DataFrame, lq: pd.DataFrame, *, threshold: float, min_count: int) -> pd.DataFrame:
    """M_ri = 1 if LQ_ri >= threshold and x_ri >= min_count, else 0 (int).

    ``>=`` keeps EconGeo's binary semantics (an LQ of exactly 1 stays 1) and ecomplexity's M_cp.
    The count floor guards against the unstable LQ of tiny cells.
    """
    if not (mat.index.equals(lq.index) and mat.columns.equals(lq.columns)):
        raise ValueError("mat and lq must carry the same labels")
    m = (lq.to_numpy(dtype=np.float64) >= threshold) & (mat.to_numpy(dtype=np.float64) >= min_count)
    return _frame(m.astype(np.int64), mat)


def co_occurrence(incidence: pd.DataFrame) -> pd.DataFrame:
    """C = B^T B with zero diagonal, B = (incidence > 0) as 0/1 (entity x topic -> topic x topic).

    EconGeo ``co_occurrence(t(B))``: c_ij = number of entities active in both topics i and j.
    Counts are binarised so an entity with many documents in two topics is one co-occurrence.
    """
    b = (incidence.to_numpy(dtype=np.float64) > 0).astype(np.int64)
    c = b.T @ b
    np.fill_diagonal(c, 0)
    return pd.DataFrame(c, index=incidence.columns.copy(), columns=incidence.columns.copy())


def relatedness(cooc: pd.DataFrame, method: RelatednessMethod) -> pd.DataFrame:
    """Normalised co-occurrence, EconGeo ``relatedness(mat, method)`` (van Eck & Waltman 2009).

    With the diagonal of C set to 0, s_i = sum_j c_ij (EconGeo: colSums) and T = sum_ij c_ij:

    - association: (c_ij / T) / ((s_i / T)(s_j / T))
    - cosine: c_ij / sqrt(s_i s_j)
    - jaccard: c_ij / (s_i + s_j - c_ij)
    - prob (Steijn 2017): c_ij / ([(s_i/T)(s_j/(T - s_i)) + (s_j/T)(s_i/(T - s_j))] T / 2)

    Undefined cells (a topic without co-occurrences) are 0; the diagonal is 0.
    """
    c = _square(cooc, "cooc")
    np.fill_diagonal(c, 0.0)
    s = c.sum(axis=0)
    si, sj = s[:, np.newaxis], s[np.newaxis, :]
    t = float(c.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "association":
            out = _div(c / t, (si / t) * (sj / t))
        elif method == "cosine":
            out = _div(c, np.sqrt(si * sj))
        elif method == "jaccard":
            out = _div(c, si + sj - c)
        elif method == "prob":
            out = _div(c, ((si / t) * (sj / (t - si)) + (sj / t) * (si / (t - sj))) * (t / 2))
        else:
            raise ValueError(f"unknown relatedness method {method!r}; expected one of {METHODS}")
    return _frame(out, cooc)  # diagonal 0 already: c_ii was zeroed above


def proximity(m: pd.DataFrame) -> pd.DataFrame:
    """Hidalgo et al. (2007) discrete proximity, as ecomplexity ``calc_discrete_proximity``.

    phi_ij = min(P(M_i = 1 | M_j = 1), P(M_j = 1 | M_i = 1)) = |i and j| / max(u_i, u_j), with
    u_i = sum_r M_ri (ubiquity) and M binarised (> 0). Like ecomplexity 0.5.3 the diagonal is
    kept (phi_ii = 1 where u_i > 0); a topic with u_i = 0 gets 0 everywhere (ecomplexity: NaN).
    """
    b = (m.to_numpy(dtype=np.float64) > 0).astype(np.float64)
    phi = _div(b.T @ b, b.sum(axis=0)[np.newaxis, :])
    return pd.DataFrame(np.minimum(phi, phi.T), index=m.columns.copy(), columns=m.columns.copy())


def relatedness_density(m: pd.DataFrame, phi: pd.DataFrame) -> pd.DataFrame:
    """omega_rk = sum_j M_rj phi_kj / sum_j phi_kj (ecomplexity ``calc_density``); 0 if the sum is 0.

    In [0, 1] for a 0/1 M and phi >= 0. EconGeo's ``relatedness_density`` is the same quantity
    times 100, rounded to 2 decimals. ``phi`` is reordered to M's columns and must label the same topics.
    """
    p = _square(phi, "phi")
    if set(phi.columns) != set(m.columns):
        raise ValueError("phi must label exactly the topics (columns) of M")
    order = phi.columns.get_indexer(m.columns)
    p = p[np.ix_(order, order)]
    x = m.to_numpy(dtype=np.float64)
    return _frame(_div(x @ p.T, p.sum(axis=1)[np.newaxis, :]), m)


def relatedness_density_ext(m: pd.DataFrame, phi: pd.DataFrame) -> pd.DataFrame:
    """:func:`relatedness_density` where the region is not yet specialised (M_rk = 0), NaN where it is.

    EconGeo ``relatedness_density_ext`` (the diversification view), which also scales by 100 and
    rounds to 0 decimals; ours is neither scaled nor rounded. M is read as presence (> 0).
    """
    density = relatedness_density(m, phi)
    return density.where(~(m.to_numpy(dtype=np.float64) > 0))


def relatedness_density_int(m: pd.DataFrame, phi: pd.DataFrame) -> pd.DataFrame:
    """:func:`relatedness_density` where the region is specialised (M_rk > 0), NaN elsewhere.

    EconGeo ``relatedness_density_int`` (×100 and rounded to 0 decimals there; not here).
    """
    density = relatedness_density(m, phi)
    return density.where(m.to_numpy(dtype=np.float64) > 0)


def embedding_relatedness(centroids: pd.DataFrame) -> pd.DataFrame:
    """Topic x topic cosine similarity of topic centroids (rows = topics, columns = dimensions).

    phi_ij = max(0, c_i . c_j / (|c_i| |c_j|)), diagonal 0 (as :func:`relatedness`); a zero centroid
    relates to nothing. Usable wherever a co-occurrence relatedness is, e.g. ``capacity_table(phi=...)``.
    """
    if not centroids.index.is_unique:
        raise ValueError("centroids must have one row per topic")
    v = centroids.to_numpy(dtype=np.float64)
    if not np.isfinite(v).all():
        raise ValueError("centroids must be finite")
    unit = _div(v, np.linalg.norm(v, axis=1, keepdims=True))
    phi = np.clip(unit @ unit.T, 0.0, 1.0)
    phi = np.maximum(phi, phi.T)  # exact symmetry despite floating-point rounding
    np.fill_diagonal(phi, 0.0)
    return pd.DataFrame(phi, index=centroids.index.copy(), columns=centroids.index.copy())


def continuous_proximity(rca: pd.DataFrame) -> pd.DataFrame:
    """ecomplexity ``calc_continuous_proximity``: phi = (1 + corr(RCA_i, RCA_j)) / 2 over regions.

    Pearson correlation of the topic columns; like ecomplexity 0.5.3 the diagonal is kept (phi_ii = 1).
    Regions whose RCA row is all 0 (no documents) are left out, as ecomplexity drops empty
    locations before computing. A topic with constant RCA has no defined correlation: its row and
    column are 0 (ecomplexity: NaN); fewer than two regions give all 0.
    """
    x = rca.to_numpy(dtype=np.float64)
    x = x[(x != 0).any(axis=1)]
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.atleast_2d(np.corrcoef(x.T)) if x.shape[0] >= 2 else np.full((x.shape[1],) * 2, np.nan)
    phi = (1.0 + corr) / 2.0
    phi = np.where(np.isfinite(phi), phi, 0.0)
    return pd.DataFrame(phi, index=rca.columns.copy(), columns=rca.columns.copy())


def continuous_density(rca: pd.DataFrame) -> pd.DataFrame:
    """ecomplexity ``continuous=True`` density: omega_rk = sum_j RCA_rj phi_kj / sum_j phi_kj.

    :func:`relatedness_density` with the RCA in place of M and phi = :func:`continuous_proximity`;
    a weighted mean of the region's RCAs, so not bounded by 1.
    """
    return relatedness_density(rca, continuous_proximity(rca))


def capacity_table(
    counts: pd.DataFrame,
    cfg: CapacityConfig,
    incidence: pd.DataFrame | None = None,
    *,
    smoothing: float | None = None,
    phi: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (region, topic_id): ``count``, ``rca`` (LQ), ``rca_shrunk`` and ``rca_lower`` (posterior
    mean and 5 % bound of :func:`s3text.shrinkage.shrunk_rca`, raw counts), ``specialised`` (0/1), ``density``,
    ``density_ext``. The prior's α is in ``attrs["rca_alpha"]``.

    Density is :func:`relatedness_density` of the specialisation matrix, with phi =
    ``relatedness(co_occurrence(incidence), cfg.relatedness)``; ``incidence`` is the entity x topic
    matrix named by ``cfg.cooccurrence_basis`` (actors or regions), built by the caller.
    Relatedness is normalised over all topics of ``incidence``; a topic of ``counts`` missing
    from it relates to nothing (phi row and column 0). ``phi``, if given, replaces that relatedness
    (e.g. :func:`embedding_relatedness`); its missing topics relate to nothing too. Give one of the two.

    ``density_ext`` is ``density`` where the region is not specialised and null (NaN) where it is
    (EconGeo ``relatedness_density_ext``). ``smoothing`` is the LQ pseudo-count of
    :func:`location_quotient`; None reads ``cfg.rca_smoothing``.
    The count floor ``cfg.min_count`` always applies to the raw counts.
    """
    alpha = cfg.rca_smoothing if smoothing is None else smoothing
    lq = location_quotient(counts, smoothing=alpha)
    spec = specialisation(counts, lq, threshold=cfg.rca_threshold, min_count=cfg.min_count)
    if phi is None:
        if incidence is None:
            raise ValueError("capacity_table needs an incidence matrix or a relatedness matrix phi")
        phi = relatedness(co_occurrence(incidence), cfg.relatedness)
    phi = phi.reindex(index=counts.columns, columns=counts.columns, fill_value=0.0)
    density = relatedness_density(spec, phi)
    regions = np.repeat(counts.index.to_numpy(), counts.shape[1])
    topics = np.tile(counts.columns.to_numpy(), counts.shape[0])
    specialised = spec.to_numpy().ravel()
    dens = density.to_numpy().ravel()
    shrunk = shrunk_rca(counts)
    table = pd.DataFrame(
        {
            "region": regions,
            "topic_id": topics,
            "count": counts.to_numpy().ravel().astype(np.int64),
            "rca": lq.to_numpy().ravel(),
            "rca_shrunk": shrunk.mean.to_numpy().ravel(),
            "rca_lower": shrunk.lower.to_numpy().ravel(),
            "specialised": specialised,
            "density": dens,
            "density_ext": np.where(specialised > 0, np.nan, dens),
        }
    )
    table.attrs["rca_alpha"] = shrunk.alpha
    return table
