"""Pictures of results: free functions that take result tables, like bertopic/plotting."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def plot_topic_trends(topics: pd.DataFrame, periods: pd.DataFrame, totals: pd.DataFrame, path: Path,
                      *, top: int = 8) -> None:
    """Share of documents per year for the most emerging topics (emerging ones drawn solid)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = topics.sort_values("emergence_score", ascending=False).head(top)
    share = periods.pivot_table(index="period", columns="topic_id", values="count", fill_value=0)
    share = share.div(totals.set_index("period")["n"].reindex(share.index).clip(lower=1), axis=0)
    fig, ax = plt.subplots(figsize=(10, 5.5))
    for row in shown.itertuples(index=False):
        if row.topic_id in share.columns:
            ax.plot(share.index, 100 * share[row.topic_id], linestyle="-" if row.emerging else "--",
                    marker="o", markersize=3, label=f"{row.topic_id}: {row.label}")
    ax.set_xlabel("year")
    ax.set_ylabel("share of documents (%)")
    ax.set_title("Topics with the highest emergence scores (solid = flagged emerging)")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
