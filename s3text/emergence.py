"""Topic emergence: yearly counts, a smoothed growth/novelty/persistence score, Porter's EScore.

Pure functions on pandas/numpy. The formulas, with references, are in ``docs/METHODS.md``
(section "Emergence"); the docstrings below repeat them in short.

Conventions: ``counts`` is topic x year (index ``topic_id``, integer year columns), ``totals`` is
all documents per year (outliers included, since they are documents of the corpus too). Every
year after ``end_year`` is dropped before anything is computed, so a score never depends on data
from its own future. Years missing from an input count as zero documents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from s3text.config import EmergenceConfig
from s3text.errors import ModelError
from s3text.shrunk_growth import shrunk_growth

OUTLIER = -1  # topic_id of documents the topic model left unassigned
NEVER = -1  # first_year / last_year of a topic with no document up to end_year

SCORE_COLUMNS = (
    "first_year",
    "last_year",
    "total",
    "base_count",
    "recent_count",
    "base_share",
    "recent_share",
    "growth",
    "growth_raw",
    "growth_shrunk",
    "growth_lower",
    "growth_prior",
    "novelty",
    "persistence",
    "score",
    "emerging",
    "end_year",
)
PORTER_COLUMNS = ("active_trend", "recent_trend", "slope", "escore", "end_year")


def _years(lo: int, hi: int) -> pd.Index:
    return pd.Index(np.arange(lo, hi + 1, dtype=np.int64), name="year")


def year_counts(doc_topics: pd.DataFrame) -> pd.DataFrame:
    """Documents per topic and year: index ``topic_id``, one int column per year, min..max.

    The year range spans every input row, outliers (``topic_id == -1``) included, so it equals the
    range of :func:`year_totals` on the same documents; outliers themselves are not counted.
    """
    topics = doc_topics["topic_id"].to_numpy(dtype=np.int64)
    years = doc_topics["year"].to_numpy(dtype=np.int64)
    keep = topics != OUTLIER
    ids = np.unique(topics[keep])
    if years.size == 0:
        return pd.DataFrame(
            np.zeros((0, 0), dtype=np.int64),
            index=pd.Index(ids, name="topic_id"),
            columns=_years(0, -1),
        )
    lo, hi = int(years.min()), int(years.max())
    mat = np.zeros((ids.size, hi - lo + 1), dtype=np.int64)
    np.add.at(mat, (np.searchsorted(ids, topics[keep]), years[keep] - lo), 1)
    return pd.DataFrame(mat, index=pd.Index(ids, name="topic_id"), columns=_years(lo, hi))


def year_totals(doc_years: pd.Series) -> pd.Series:
    """All documents per year (outliers included), every year from min to max, gaps = 0."""
    years = doc_years.to_numpy(dtype=np.int64)
    if years.size == 0:
        return pd.Series(np.zeros(0, dtype=np.int64), index=_years(0, -1), name="documents")
    lo = int(years.min())
    values = np.bincount(years - lo).astype(np.int64)
    return pd.Series(values, index=_years(lo, lo + values.size - 1), name="documents")


def resolve_end_year(totals: pd.Series, cfg: EmergenceConfig) -> int:
    """``cfg.end_year`` if set, else the latest year holding >= ``cfg.min_year_docs`` documents.

    The latest year of a corpus is usually incomplete (records arrive late), so it is only used
    once it holds enough documents; otherwise an almost empty year would read as a collapse.
    """
    if cfg.end_year is not None:
        return int(cfg.end_year)
    ok = totals[totals >= cfg.min_year_docs]
    if ok.empty:
        best = int(totals.max()) if len(totals) else 0
        raise ModelError(
            f"no year holds at least emergence.min_year_docs={cfg.min_year_docs} documents "
            f"(largest yearly total: {best}); set emergence.end_year or lower min_year_docs"
        )
    return int(ok.index.max())


def _window(counts: pd.DataFrame, totals: pd.Series, lo: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts and totals on the year axis lo..end; years outside the inputs are zeros."""
    years = _years(lo, end)
    c = counts.reindex(columns=years, fill_value=0).to_numpy(dtype=np.float64)
    n = totals.reindex(years, fill_value=0).to_numpy(dtype=np.float64)
    if c.size and (c > n[np.newaxis, :]).any():
        raise ValueError("a topic has more documents in a year than the year's total")
    return c, n


def _share(c: np.ndarray, n: float) -> np.ndarray:
    # Add-half smoothing: finite for empty windows, and (c + .5)/(n + 1) rises with every document
    # added to both c and n, because c + .5 < n + 1 whenever c <= n.
    return (c + 0.5) / (n + 1.0)


def score_emergence(counts: pd.DataFrame, totals: pd.Series, cfg: EmergenceConfig) -> pd.DataFrame:
    """Growth / novelty / persistence emergence score per topic (docs/METHODS.md, "Emergence").

    With E = end_year, R = recent_years, B = base_years, n = novelty_years, S = E - R + 1:

    - recent window [S, E], base window [S - B, S - 1]; c_w topic documents, N_w all documents;
    - share_w = (c_w + 0.5) / (N_w + 1); growth_raw = log2(share_recent / share_base);
    - growth_shrunk, growth_lower: the empirical-Bayes posterior growth and its
      ``growth_lower_quantile`` bound (:mod:`s3text.shrunk_growth`), with prior weight
      growth_prior = kappa documents (``growth_prior_documents``, or estimated from all topics);
    - growth: the one of the three that ``growth_estimate`` names; the score and flag use it;
    - novelty = clip(1 - (S - first_year) / n, 0, 1): 1 when first seen in the recent window,
      0 when first seen n or more years before S; 0 for a topic with no document up to E;
    - persistence = (years in [S, E] with >= 1 document) / R;
    - score = w_g * growth + w_n * novelty + w_p * persistence;
    - emerging = c_recent >= min_recent_docs and growth >= min_growth and persistence >= min_persistence.

    first_year, last_year and total only look at years <= E; ``NEVER`` (-1) marks no document.
    """
    end = resolve_end_year(totals, cfg)
    start = end - cfg.recent_years + 1
    base_start = start - cfg.base_years
    # Start early enough for the base window and for first_year; _window cuts everything after end.
    lo = min([base_start, *(int(y) for y in counts.columns), *(int(y) for y in totals.index)])
    c, n = _window(counts, totals, lo, end)
    years = np.arange(lo, end + 1)
    recent = years >= start
    base = (years >= base_start) & ~recent

    seen = c > 0
    any_seen = seen.any(axis=1)
    first = np.where(any_seen, years[np.argmax(seen, axis=1)], NEVER)
    last = np.where(any_seen, years[years.size - 1 - np.argmax(seen[:, ::-1], axis=1)], NEVER)
    recent_count, base_count = c[:, recent].sum(axis=1), c[:, base].sum(axis=1)
    recent_share = _share(recent_count, float(n[recent].sum()))
    base_share = _share(base_count, float(n[base].sum()))
    growth_raw = np.log2(recent_share / base_share)
    shrunk = shrunk_growth(recent_count, base_count, float(n[recent].sum()), float(n[base].sum()),
                           kappa=cfg.growth_prior_documents, lower_quantile=cfg.growth_lower_quantile)
    growth = {"raw": growth_raw, "shrunk": shrunk.estimate, "lower": shrunk.lower}[cfg.growth_estimate]
    novelty = np.where(any_seen, np.clip(1.0 - (start - first) / cfg.novelty_years, 0.0, 1.0), 0.0)
    persistence = seen[:, recent].sum(axis=1) / cfg.recent_years
    score = cfg.weight_growth * growth + cfg.weight_novelty * novelty + cfg.weight_persistence * persistence
    emerging = (
        (recent_count >= cfg.min_recent_docs)
        & (growth >= cfg.min_growth)
        & (persistence >= cfg.min_persistence)
    )
    out = pd.DataFrame(
        {
            "first_year": first.astype(np.int64),
            "last_year": last.astype(np.int64),
            "total": c.sum(axis=1).astype(np.int64),
            "base_count": base_count.astype(np.int64),
            "recent_count": recent_count.astype(np.int64),
            "base_share": base_share,
            "recent_share": recent_share,
            "growth": growth,
            "growth_raw": growth_raw,
            "growth_shrunk": shrunk.estimate,
            "growth_lower": shrunk.lower,
            "growth_prior": np.full(len(counts), shrunk.kappa),
            "novelty": novelty,
            "persistence": persistence,
            "score": score,
            "emerging": emerging.astype(bool),
            "end_year": np.full(len(counts), end, dtype=np.int64),
        },
        index=pd.Index(counts.index, name="topic_id"),
    )
    return out


def porter_escore(
    counts: pd.DataFrame,
    totals: pd.Series,
    *,
    base: int = 3,
    active: int = 7,
    end_year: int | None = None,
) -> pd.DataFrame:
    """Porter/Carley EScore per topic, as pyGrams ``Emergence.calculate_escore`` ("Porter 2018").

    The window is the ``base + active`` periods ending at ``end_year`` (default: the last year of
    ``totals``). With t_k, N_k the topic and all-document counts in active period k = 0..a-1
    (a = active; pyGrams fixes a = 7) and r(K) = sum_K t_k / sum_K sqrt(N_k), 0 when sum_K sqrt(N_k) = 0:

    - active_trend = r({a-3, a-2, a-1}) - r({0, 1, 2})
    - recent_trend = 10 * (r({a-2, a-1}) - r({a-4, a-3}))
    - slope = 10 * (r({a-1}) - r({a-4})) / 3
    - escore = 2 * active_trend + recent_trend + slope

    The base periods do not enter the score; pyGrams uses them only for its candidate filters,
    which are not reproduced here.
    """
    if active < 4 or base < 0:
        raise ValueError(f"porter_escore needs active >= 4 and base >= 0, got active={active}, base={base}")
    if end_year is None:
        if len(totals) == 0:
            raise ValueError("porter_escore: no end_year given and totals is empty")
        end_year = int(totals.index.max())
    c, n = _window(counts, totals, end_year - active + 1, end_year)
    root = np.sqrt(n)
    a = active

    def r(periods: list[int]) -> np.ndarray:
        den = float(root[periods].sum())
        # A window without any document has no trend: 0, not 0/0.
        return c[:, periods].sum(axis=1) / den if den > 0 else np.zeros(c.shape[0])

    active_trend = r([a - 3, a - 2, a - 1]) - r([0, 1, 2])
    recent_trend = 10.0 * (r([a - 2, a - 1]) - r([a - 4, a - 3]))
    slope = 10.0 * (r([a - 1]) - r([a - 4])) / 3.0
    return pd.DataFrame(
        {
            "active_trend": active_trend,
            "recent_trend": recent_trend,
            "slope": slope,
            "escore": 2.0 * active_trend + recent_trend + slope,
            "end_year": np.full(c.shape[0], end_year, dtype=np.int64),
        },
        index=pd.Index(counts.index, name="topic_id"),
    )


def porter_filters(
    counts: pd.DataFrame,
    totals: pd.Series,
    cfg: EmergenceConfig,
    *,
    end_year: int,
    base: int = 3,
    active: int = 7,
) -> pd.DataFrame:
    """Porter et al. (2018) candidate filters on the same ``base + active`` window as the EScore.

    - novelty: base-window share of documents below ``porter_max_base_share`` (0.15): the topic was
      not already common;
    - persistence: documents in at least ``porter_min_periods`` (3) periods of the window;
    - records: at least ``porter_min_records`` (7) documents in the window;
    - growth: documents per active period over documents per base period above
      ``porter_min_growth_ratio`` (2); a topic absent from the base window passes when present;
    - ``porter_emerging``: all four and EScore ≥ ``porter_min_escore`` (1.77). The community filter
      (more than one actor) is added by the caller, which knows the actors.
    """
    c, n = _window(counts, totals, end_year - base - active + 1, end_year)
    c_base, c_active = c[:, :base].sum(axis=1), c[:, base:].sum(axis=1)
    n_base = float(n[:base].sum())
    base_share = c_base / n_base if n_base > 0 else np.zeros(len(c))
    rate_base, rate_active = c_base / max(base, 1), c_active / active
    grows = np.where(c_base > 0, rate_active > cfg.porter_min_growth_ratio * rate_base, c_active > 0)
    escore = porter_escore(counts, totals, base=base, active=active, end_year=end_year)["escore"].to_numpy()
    out = pd.DataFrame(
        {
            "porter_novel": base_share < cfg.porter_max_base_share,
            "porter_persistent": (c > 0).sum(axis=1) >= cfg.porter_min_periods,
            "porter_records": c.sum(axis=1) >= cfg.porter_min_records,
            "porter_growth": grows,
        },
        index=pd.Index(counts.index, name="topic_id"),
    )
    out["porter_emerging"] = out.all(axis=1) & (escore >= cfg.porter_min_escore)
    return out
