"""Emergence lenses: Kleinberg bursts, Nesta's magnitude-vs-growth quadrant, Porter/Carley
community and cross-source diffusion.

Pure functions on pandas/numpy; the formulas and their sources are in ``docs/METHODS.md``
(section "Emergence lenses"). Conventions follow :mod:`s3text.emergence`: ``counts`` is topic x
year (index ``topic_id``), ``totals`` is all documents per year, years missing from an input count
as 0 documents, and everything after the end year is dropped before anything is computed. Every
output is indexed by ``topic_id`` (sorted). Years and lags that do not exist are pandas' nullable
``Int64`` (``<NA>``); every other number is finite.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from s3text.config import LensesConfig
from s3text.emergence import OUTLIER

P1_CAP = 0.99999  # burst-state probability cap (PyPI burst_detection uses the same value)
SOURCE_KINDS = ("project", "patent", "website")  # the research -> patent -> company order
QUADRANTS = ("Emerging", "Hot", "Stabilising", "Dormant")
COUNT_SMOOTHING = 0.5  # add-half, as the shares of s3text.emergence


# --------------------------------------------------------------------------- shared helpers


def _data_years(counts: pd.DataFrame, totals: pd.Series) -> list[int]:
    return [int(y) for y in counts.columns] + [int(y) for y in totals.index]


def _resolve_end(counts: pd.DataFrame, totals: pd.Series, end_year: int | None) -> int:
    if end_year is not None:
        return int(end_year)
    years = _data_years(counts, totals)
    if not years:
        raise ValueError("no end_year given and neither counts nor totals has a year")
    return max(years)


def _grid(counts: pd.DataFrame, totals: pd.Series, lo: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Topic and all-document counts on the years lo..end (topics x years, years); gaps are 0."""
    years = pd.Index(np.arange(lo, end + 1, dtype=np.int64))
    c = counts.reindex(columns=years, fill_value=0).to_numpy(dtype=np.float64)
    n = totals.reindex(years, fill_value=0).to_numpy(dtype=np.float64)
    if (c < 0).any() or (n < 0).any() or not (np.isfinite(c).all() and np.isfinite(n).all()):
        raise ValueError("counts and totals must be finite and non-negative")
    if c.size and (c > n[np.newaxis, :]).any():
        raise ValueError("a topic has more documents in a year than the year's total")
    return c, n


def _topic_index(ids: Iterable[int]) -> pd.Index:
    return pd.Index(np.sort(np.asarray(list(ids), dtype=np.int64)), name="topic_id")


def _long(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Check a long table's columns and years, drop outlier documents (topic_id = -1)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"missing columns: {missing}")
    if frame["year"].isna().any():
        raise ValueError("every document needs a year")
    out = frame.loc[frame["topic_id"] != OUTLIER, list(columns)].copy()
    out["topic_id"] = out["topic_id"].astype(np.int64)
    out["year"] = out["year"].astype(np.int64)
    return out


# --------------------------------------------------------------------------- 1. Kleinberg bursts


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x * ln(y), with 0 where x == 0 (so 0 * ln 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.log(y), 0.0)


def _lgamma(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.lgamma, otypes=[np.float64])(x) if x.size else np.zeros(x.shape)


def _fit_costs(r: np.ndarray, d: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-period cost -ln[C(d, r) p^r (1 - p)^(d - r)] in state 0 and 1; r topics x periods, d periods."""
    d = np.broadcast_to(d, r.shape)
    sum_r, sum_d = r.sum(axis=1, keepdims=True), d.sum(axis=1, keepdims=True)
    p0 = np.divide(sum_r, sum_d, out=np.zeros_like(sum_r), where=sum_d > 0)
    p1 = np.maximum(np.minimum(s * p0, P1_CAP), p0)  # capped below 1, never below p0
    ln_binom = _lgamma(d + 1.0) - _lgamma(r + 1.0) - _lgamma(d - r + 1.0)

    def cost(p: np.ndarray) -> np.ndarray:
        return -(ln_binom + _xlogy(r, p) + _xlogy(d - r, 1.0 - p))

    return cost(p0), cost(p1)


def _viterbi(f0: np.ndarray, f1: np.ndarray, enter: float) -> np.ndarray:
    """Cheapest 0/1 state path per row; starts in state 0, 0 -> 1 costs ``enter``, ties go to 0."""
    k, n = f0.shape
    back = np.zeros((k, n, 2), dtype=bool)  # back[:, t, j]: the state before t was 1
    c0, c1 = np.zeros(k), np.full(k, np.inf)
    for t in range(n):
        back[:, t, 0], back[:, t, 1] = c1 < c0, c1 < c0 + enter
        c0, c1 = np.minimum(c0, c1) + f0[:, t], np.minimum(c0 + enter, c1) + f1[:, t]
    states = np.zeros((k, n), dtype=np.int64)
    state = c1 < c0
    for t in range(n - 1, -1, -1):
        states[:, t] = state
        state = np.where(state, back[:, t, 1], back[:, t, 0])
    return states


def _check_rd(r: np.ndarray | pd.Series, d: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    ra, da = np.asarray(r, dtype=np.float64), np.asarray(d, dtype=np.float64)
    if ra.ndim != 1 or ra.shape != da.shape:
        raise ValueError("r and d must be 1-d and of equal length")
    if not (np.isfinite(ra).all() and np.isfinite(da).all()) or (ra < 0).any() or (ra > da).any():
        raise ValueError("need finite 0 <= r_t <= d_t in every period")
    return ra, da


def burst_costs(r: np.ndarray | pd.Series, d: np.ndarray | pd.Series, *, s: float = 2.0) -> np.ndarray:
    """Per-period costs, shape (periods, 2): column i is -ln[C(d_t, r_t) p_i^r_t (1 - p_i)^(d_t - r_t)],
    with p0 = sum(r) / sum(d) and p1 = s * p0 capped below 1. A period with d_t = 0 costs 0."""
    ra, da = _check_rd(r, d)
    f0, f1 = _fit_costs(ra[np.newaxis, :], da, s)
    return np.stack([f0[0], f1[0]], axis=1)


def burst_states(
    r: np.ndarray | pd.Series, d: np.ndarray | pd.Series, *, s: float = 2.0, gamma: float = 1.0
) -> np.ndarray:
    """Kleinberg's two-state batched burst model: the 0/1 state of each period (Viterbi).

    r_t topic documents and d_t all documents in period t. Entering the burst state costs
    gamma * ln(n) (n periods, the path starts in state 0); leaving costs 0.
    """
    ra, da = _check_rd(r, d)
    f0, f1 = _fit_costs(ra[np.newaxis, :], da, s)
    return _viterbi(f0, f1, gamma * math.log(ra.size) if ra.size else 0.0)[0]


def _burst_panel(
    counts: pd.DataFrame, totals: pd.Series, cfg: LensesConfig, end_year: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Years, states (topics x years) and per-period weight cost0 - cost1, on years <= end."""
    end = _resolve_end(counts, totals, end_year)
    lo = min([y for y in _data_years(counts, totals) if y <= end], default=end)
    c, n = _grid(counts, totals, lo, end)
    f0, f1 = _fit_costs(c, n, cfg.burst_s)
    states = _viterbi(f0, f1, cfg.burst_gamma * math.log(n.size))
    return np.arange(lo, end + 1, dtype=np.int64), states, f0 - f1, end


def _intervals(years: np.ndarray, states: np.ndarray, gain: np.ndarray, ids: pd.Index) -> pd.DataFrame:
    rows: list[tuple[int, int, int, float]] = []
    for i, topic in enumerate(ids):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], states[i], [0]])))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            rows.append((int(topic), int(years[a]), int(years[b - 1]), float(gain[i, a:b].sum())))
    out = pd.DataFrame(rows, columns=["topic_id", "start", "end", "weight"])
    out = out.astype({"topic_id": np.int64, "start": np.int64, "end": np.int64, "weight": np.float64})
    return out.set_index("topic_id")


def bursts(counts: pd.DataFrame, totals: pd.Series, cfg: LensesConfig, *, end_year: int | None = None) -> pd.DataFrame:
    """One row per burst (index ``topic_id``, not unique): ``start``, ``end`` (years, inclusive) and
    ``weight`` = sum over the burst's periods of cost(state 0) - cost(state 1) (Kleinberg's weight).

    ``end_year`` defaults to the last year of the inputs; later years are ignored, p0 included.
    """
    counts = counts.sort_index(kind="stable")
    years, states, gain, _ = _burst_panel(counts, totals, cfg, end_year)
    return _intervals(years, states, gain, counts.index)


def burst_summary(
    counts: pd.DataFrame, totals: pd.Series, cfg: LensesConfig, *, end_year: int | None = None
) -> pd.DataFrame:
    """Per topic: ``in_burst_at_end``, ``last_burst_start`` (Int64, <NA> without a burst),
    ``burst_weight`` (of the latest burst, 0 without one), ``n_bursts`` and ``end_year``."""
    counts = counts.sort_index(kind="stable")
    years, states, gain, end = _burst_panel(counts, totals, cfg, end_year)
    ids = pd.Index(np.asarray(counts.index, dtype=np.int64), name="topic_id")
    found = _intervals(years, states, gain, ids)
    last = found.groupby(level=0).last()
    return pd.DataFrame(
        {
            "in_burst_at_end": states[:, -1].astype(bool) if years.size else np.zeros(len(ids), dtype=bool),
            "last_burst_start": last["start"].reindex(ids).astype("Int64"),
            "burst_weight": last["weight"].reindex(ids, fill_value=0.0).astype(np.float64),
            "n_bursts": found.groupby(level=0).size().reindex(ids, fill_value=0).astype(np.int64),
            "end_year": np.full(len(ids), end, dtype=np.int64),
        },
        index=ids,
    )


# --------------------------------------------------------------------------- 2. Nesta quadrant


def quadrant(counts: pd.DataFrame, totals: pd.Series, *, start: int, end: int, cfg: LensesConfig) -> pd.DataFrame:
    """Magnitude vs growth quadrant (Nesta Innovation Sweet Spots) over the years [start, end].

    v_t = 100 * c_t / N_t (0 when N_t = 0); magnitude = mean of v_t over [start, end];
    MA_t = mean of v over [t - w + 1, t] (w = growth_window, cut at the first year of the data);
    growth_pct = 100 * (MA_end - MA_start) / MA_start, = max_growth_pct when MA_start = 0 < MA_end,
    0 when both are 0, and never above max_growth_pct. Split at the median magnitude of all topics
    (high: >=) and 0 growth (up: > 0). ``ambiguous``: |magnitude - median| < tol * median or
    |growth_pct| < 100 * tol.
    """
    if start > end:
        raise ValueError(f"quadrant needs start <= end, got {start} > {end}")
    lo = min([start, *(y for y in _data_years(counts, totals) if y <= end)])
    c, n = _grid(counts, totals, lo, end)
    v = 100.0 * np.divide(c, n[np.newaxis, :], out=np.zeros_like(c), where=n[np.newaxis, :] > 0)
    w = cfg.growth_window

    def moving_average(t: int) -> np.ndarray:
        return v[:, max(t - w + 1, lo) - lo : t - lo + 1].mean(axis=1)

    magnitude = v[:, start - lo :].mean(axis=1)
    ma0, ma1 = moving_average(start), moving_average(end)
    safe = np.where(ma0 > 0, ma0, 1.0)
    growth = np.where(ma0 > 0, 100.0 * (ma1 - ma0) / safe, np.where(ma1 > 0, cfg.max_growth_pct, 0.0))
    growth = np.minimum(growth, cfg.max_growth_pct)
    median = float(np.median(magnitude)) if magnitude.size else 0.0
    high, up = magnitude >= median, growth > 0
    label = np.select([up & ~high, up & high, ~up & high], list(QUADRANTS[:3]), default=QUADRANTS[3])
    tol = cfg.ambiguity_tolerance
    ambiguous = (np.abs(magnitude - median) < tol * median) | (np.abs(growth) < 100.0 * tol)
    out = pd.DataFrame(
        {"magnitude": magnitude, "growth_pct": growth, "quadrant": label, "ambiguous": ambiguous.astype(bool)},
        index=pd.Index(np.asarray(counts.index, dtype=np.int64), name="topic_id"),
    )
    return out.sort_index(kind="stable")


# --------------------------------------------------------------------------- 3. community


def community(
    doc_entities: pd.DataFrame, *, end_year: int, recent_years: int, base_years: int, cfg: LensesConfig
) -> pd.DataFrame:
    """Distinct actors and regions per topic in the recent and base windows (Porter/Carley community).

    Windows as in s3text.emergence: recent [S, E] with S = E - recent_years + 1, base
    [S - base_years, S - 1]. Missing actor_id or region values are not counted. Growth is
    log2((recent + 0.5) / (base + 0.5)); ``multiple_communities``: actors_recent >= min_actors.
    Every topic of the input (outliers excepted) gets a row, even one seen only after E.
    """
    if recent_years < 1 or base_years < 1:
        raise ValueError("recent_years and base_years must be >= 1")
    df = _long(doc_entities, ("doc_id", "topic_id", "year", "actor_id", "region"))
    ids = _topic_index(df["topic_id"].unique())
    start = end_year - recent_years + 1
    windows = {"recent": df["year"].between(start, end_year), "base": df["year"].between(start - base_years, start - 1)}
    cols: dict[str, pd.Series] = {}
    for entity, plural in (("actor_id", "actors"), ("region", "regions")):
        for name, mask in windows.items():
            distinct = df.loc[mask].groupby("topic_id")[entity].nunique()
            cols[f"{plural}_{name}"] = distinct.reindex(ids, fill_value=0).astype(np.int64)
        recent, base = cols[f"{plural}_recent"], cols[f"{plural}_base"]
        cols[f"{plural[:-1]}_growth"] = np.log2((recent + COUNT_SMOOTHING) / (base + COUNT_SMOOTHING))
    out = pd.DataFrame(cols, index=ids)
    out["multiple_communities"] = out["actors_recent"] >= cfg.min_actors
    out["end_year"] = np.int64(end_year)
    return out


# --------------------------------------------------------------------------- 4. diffusion


def diffusion(doc_kinds: pd.DataFrame, *, end_year: int, cfg: LensesConfig | None = None) -> pd.DataFrame:
    """First year per source kind, lags, and a diffusion score in [0, 1] per topic.

    first_<kind>: earliest year <= end_year of a document of that kind (Int64, <NA> if none).
    lag_patent_project = first_patent - first_project, lag_website_patent, lag_website_project
    (Int64, <NA> if either is missing). With k kinds present, P the pairs of present kinds and
    B those whose first years break project <= patent <= website:
    diffusion = k / 3 * (1 - order_penalty * |B| / |P|)   (the bracket is 1 when |P| = 0).
    """
    cfg = cfg if cfg is not None else LensesConfig()
    df = _long(doc_kinds, ("doc_id", "topic_id", "year", "source_kind"))
    unknown = sorted(set(df["source_kind"].astype(str)) - set(SOURCE_KINDS))
    if unknown:
        raise ValueError(f"unknown source_kind {unknown}; expected one of {SOURCE_KINDS}")
    ids = _topic_index(df["topic_id"].unique())
    seen = df.loc[df["year"] <= end_year]
    first = seen.groupby(["topic_id", "source_kind"])["year"].min().unstack()
    first = first.reindex(index=ids, columns=list(SOURCE_KINDS)).astype("Int64")
    years = first.to_numpy(dtype=np.float64, na_value=np.nan)
    present = ~np.isnan(years)
    pairs, broken = np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=np.int64)
    for i, j in ((0, 1), (1, 2), (0, 2)):
        both = present[:, i] & present[:, j]
        pairs += both
        broken += both & (np.nan_to_num(years[:, i]) > np.nan_to_num(years[:, j]))
    kinds = present.sum(axis=1).astype(np.int64)
    order = 1.0 - cfg.order_penalty * broken / np.maximum(pairs, 1)
    out = pd.DataFrame({f"first_{k}": first[k] for k in SOURCE_KINDS}, index=ids)
    out["lag_patent_project"] = out["first_patent"] - out["first_project"]
    out["lag_website_patent"] = out["first_website"] - out["first_patent"]
    out["lag_website_project"] = out["first_website"] - out["first_project"]
    out["n_kinds"] = kinds
    out["out_of_order"] = broken
    out["diffusion"] = kinds / len(SOURCE_KINDS) * order
    out["end_year"] = np.int64(end_year)
    return out
