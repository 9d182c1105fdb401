"""Backtest: would the emergence flags raised at year Y have pointed to the topics that grew next?

Everything that decides the flags is fitted on documents dated up to ``until`` only: the topic
model (clusters and c-TF-IDF vocabulary), the emergence windows (``end_year = until``) and the
assignment threshold. Later documents are then placed in those past topics by nearest centroid,
and each topic's realised growth is its share in the ``horizon`` years after ``until`` against
its share in the last ``recent_years`` up to ``until``, both measured by that same assignment.

The flags are compared with two baselines on the same topics: *naive* ranks topics by their raw
count growth (recent vs base window, no share, novelty or persistence), *random* is the expected
precision of a random ranking (k / number of topics) and a seeded permutation estimate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from s3text import emergence as em
from s3text.config import BacktestConfig, EmergenceConfig, TopicsConfig
from s3text.errors import ModelError
from s3text.refit import assign_nearest
from s3text.topics import OUTLIER, TopicModeler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BacktestResult:
    until: int
    topics: pd.DataFrame  # per past topic: score, emerging, naive, realised growth, ranks
    summary: dict[str, Any]


def _smoothed_share(c: np.ndarray, n: float) -> np.ndarray:
    return (c + 0.5) / (n + 1.0)


def precision_at_k(predicted: pd.Series, truth: pd.Series, k: int) -> float:
    """Share of the k highest ``predicted`` topics that are among the k highest ``truth`` topics.

    Ties are broken by topic id, so the measure is deterministic.
    """
    k = min(k, len(truth))
    if k == 0:
        return 0.0
    top = lambda s: set(s.sort_index().sort_values(ascending=False, kind="stable").index[:k])  # noqa: E731
    return len(top(predicted) & top(truth)) / k


def backtest(
    docs: pd.DataFrame,
    vectors: np.ndarray,
    *,
    until: int,
    topics_cfg: TopicsConfig,
    emergence_cfg: EmergenceConfig,
    cfg: BacktestConfig,
    stop_words: frozenset[str] | None = None,
) -> BacktestResult:
    """``docs``: doc_id, year, lemmas, in the row order of ``vectors`` (L2-normalised)."""
    years = docs["year"].to_numpy(dtype=int)
    past = years <= until
    future = (years > until) & (years <= until + cfg.horizon_years)
    if past.sum() == 0 or future.sum() == 0:
        raise ModelError(f"backtest until {until}: {past.sum()} documents before and {future.sum()} after; "
                         "need both")
    modeler = TopicModeler.from_config(topics_cfg, stop_words=stop_words)
    modeler.fit(docs.loc[past, "lemmas"].tolist(), vectors[past])
    past_years = years[past]
    counts = em.year_counts(pd.DataFrame({"topic_id": modeler.topics_, "year": past_years}))
    totals = em.year_totals(pd.Series(past_years))
    scores = em.score_emergence(counts, totals, emergence_cfg.model_copy(update={"end_year": until}))

    ids = np.array(sorted(set(modeler.topics_.tolist()) - {OUTLIER}))
    member_vecs = vectors[past]
    centroids = np.stack([member_vecs[modeler.topics_ == i].mean(axis=0) for i in ids])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    own = np.concatenate([member_vecs[modeler.topics_ == i] @ centroids[j] for j, i in enumerate(ids)])
    threshold = float(np.quantile(own, cfg.assign_quantile))  # from past members only: no leakage

    recent = (years > until - emergence_cfg.recent_years) & past
    window = recent | future
    placed = np.full(len(docs), OUTLIER)
    placed[window] = assign_nearest(vectors[window], pd.DataFrame(centroids, index=ids), threshold)[0]
    c_recent = np.array([(placed[recent] == i).sum() for i in ids])
    c_future = np.array([(placed[future] == i).sum() for i in ids])
    realised = np.log2(_smoothed_share(c_future, float(future.sum())) / _smoothed_share(c_recent, float(recent.sum())))

    table = scores.loc[ids, ["score", "emerging", "recent_count", "base_count", "growth", "growth_raw"]].copy()
    table["naive"] = (table["recent_count"] + 1) / (table["base_count"] + 1)
    table["escore"] = em.porter_escore(counts, totals, end_year=until).loc[ids, "escore"]
    table["recent_assigned"], table["future_assigned"] = c_recent, c_future
    table["realised_growth"] = realised
    table.insert(0, "label", modeler.topic_info_.set_index("topic_id").loc[ids, "label"])
    summary = _summary(table, cfg, until=until, n_past=int(past.sum()), n_future=int(future.sum()),
                       threshold=threshold, outliers=modeler.outlier_share_)
    return BacktestResult(until=until, topics=table, summary=summary)


def _summary(table: pd.DataFrame, cfg: BacktestConfig, **context: Any) -> dict[str, Any]:
    truth = table["realised_growth"]
    k = min(cfg.k, len(table))
    rng = np.random.default_rng(cfg.seed)
    random_p = [precision_at_k(pd.Series(rng.permutation(len(table)), index=table.index), truth, k)
                for _ in range(cfg.random_trials)]
    flagged = table.index[table["emerging"].astype(bool)]
    grew = truth > 0
    naive_top = table["naive"].sort_index().sort_values(ascending=False, kind="stable").index[: len(flagged)]
    return {
        **context, "topics": len(table), "flagged": len(flagged), "k": k,
        "precision_at_k": {"ours": precision_at_k(table["score"], truth, k),
                           "naive": precision_at_k(table["naive"], truth, k),
                           "porter": precision_at_k(table["escore"], truth, k),
                           "random_expected": k / len(table) if len(table) else 0.0,
                           "random_mean": float(np.mean(random_p)) if random_p else 0.0},
        "flags_that_grew": {"ours": float(grew[flagged].mean()) if len(flagged) else None,
                            "naive": float(grew[naive_top].mean()) if len(flagged) else None,
                            "base_rate": float(grew.mean())},
        "spearman": {"ours": float(table["score"].corr(truth, method="spearman")),
                     "naive": float(table["naive"].corr(truth, method="spearman")),
                     "porter": float(table["escore"].corr(truth, method="spearman"))},
    }


def to_markdown(results: list[BacktestResult], *, command: str, sources: list[str] | None) -> str:
    """The table docs/BACKTEST.md shows, one row per `until` year, then each year's flagged topics."""
    lines = [
        "| until | docs ≤ until | docs after (horizon) | topics | flagged | k | P@k ours | P@k Porter | P@k naive | "
        "P@k random | flags that grew: ours / naive / base rate | Spearman ours / Porter / naive |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        s = r.summary
        p, g, rho = s["precision_at_k"], s["flags_that_grew"], s["spearman"]
        fmt = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
        lines.append(
            f"| {r.until} | {s['n_past']} | {s['n_future']} | {s['topics']} | {s['flagged']} | {s['k']} | "
            f"{p['ours']:.2f} | {p['porter']:.2f} | {p['naive']:.2f} | {p['random_expected']:.2f} | "
            f"{fmt(g['ours'])} / {fmt(g['naive'])} / {g['base_rate']:.2f} | "
            f"{rho['ours']:.2f} / {rho['porter']:.2f} / {rho['naive']:.2f} |"
        )
    scope = ", ".join(sources) if sources else "all sources of the config"
    out = [f"Command: `{command}`", "", f"Documents: {scope}.", "", *lines, ""]
    for r in results:
        flagged = r.topics[r.topics["emerging"].astype(bool)].sort_values("score", ascending=False)
        out += [f"Flagged at {r.until}: " + ("; ".join(
            f"{row.label} (realised growth {row.realised_growth:+.2f})" for row in flagged.itertuples()) or "none"),
            ""]
    return "\n".join(out)
