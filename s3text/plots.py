"""Pictures of results: free functions that take result tables, like bertopic/plotting."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def plot_topic_trends(topics: pd.DataFrame, periods: pd.DataFrame, totals: pd.DataFrame, path: Path,
                      *, top: int = 8, end_year: int | None = None, recent_years: int | None = None) -> None:
    """Share of documents per year for the most emerging topics (emerging ones drawn solid).

    The recent window that emergence scores is shaded; years after ``end_year`` are greyed, since
    they were too thin to score.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = topics.sort_values("emergence_score", ascending=False).head(top)
    share = periods.pivot_table(index="period", columns="topic_id", values="count", fill_value=0)
    share = share.div(totals.set_index("period")["n"].reindex(share.index).clip(lower=1), axis=0)
    present = share[[t for t in shown["topic_id"] if t in share.columns]]
    active = present.index[(present > 0).any(axis=1)]
    if len(active):  # decades of zeros before the shown topics start say nothing
        share = share.loc[max(int(active.min()) - 2, int(share.index.min())):]
    fig, ax = plt.subplots(figsize=(10, 5.5))
    for row in shown.itertuples(index=False):
        if row.topic_id in share.columns:
            ax.plot(share.index, 100 * share[row.topic_id], linestyle="-" if row.emerging else "--",
                    marker="o", markersize=3, label=f"{row.topic_id}: {row.label}")
    if end_year is not None and recent_years:
        ax.axvspan(end_year - recent_years + 0.5, end_year + 0.5, color="tab:green", alpha=0.08,
                   label="recent window (scored)")
        ax.axvspan(end_year + 0.5, float(share.index.max()) + 0.5, color="grey", alpha=0.15,
                   label="too few documents to score")
    ax.set_xlabel("year")
    ax.set_ylabel("share of documents (%)")
    ax.set_title("Topics with the highest emergence scores (solid = flagged emerging)")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
