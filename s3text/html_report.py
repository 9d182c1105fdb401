"""A static HTML report of one run (``s3text report``) for people without the review server.

One self-contained file: a summary of the run, the emerging topics with trend charts, and the top
candidates of each region with their explanation, review status and evidence links. Nothing is
fetched: the CSS is inline, the charts are inline SVG drawn by matplotlib, there is no script, and a
Content-Security-Policy forbids loading anything. Every text from the store (titles, labels, notes)
goes through Jinja2's autoescaping, so a hostile document title shows as text.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections import Counter
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import IO, Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from s3text.diagnosis import recorded_reasons
from s3text.exports import SCHEMA_VERSION, Rows, load_tables, resolve_run, run_info
from s3text.store import Store
from s3text.writers import atomic_write

TEMPLATES = Path(__file__).parent / "templates"
TOP_TOPICS = 8  # topics drawn in the trend charts
EVIDENCE_SHOWN = 3
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.DOTALL)  # RDF naming matplotlib: not needed inline


def _inline(svg: str) -> Markup:
    """matplotlib's SVG (text drawn as paths, so no font is needed) without its XML prologue and
    doctype, to embed in the page. matplotlib escapes the labels it writes into the SVG."""
    return Markup(_METADATA.sub("", svg[svg.index("<svg"):]))


def trend_chart(topics: Rows, years: Rows, totals: pd.DataFrame, *, end_year: int | None,
                recent_years: int | None) -> Markup | None:
    """The share-of-documents chart of :func:`s3text.plots.plot_topic_trends`, as inline SVG."""
    from s3text.plots import plot_topic_trends

    if not topics or not years:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trends.svg"
        plot_topic_trends(pd.DataFrame(topics), pd.DataFrame(years).rename(columns={"year": "period"}), totals,
                          path, top=TOP_TOPICS, end_year=end_year, recent_years=recent_years)
        return _inline(path.read_text(encoding="utf-8"))


def source_charts(shown: Rows, series: pd.DataFrame) -> Markup | None:
    """Small multiples: documents per year of each shown topic, stacked by kind of source."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    if not shown or series.empty:
        return None
    cols = 2
    rows = (len(shown) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(10, 2.4 * rows), squeeze=False)
    kinds = sorted(series["value"].unique())
    for ax, topic in zip(axes.flat, shown, strict=False):
        table = series[series["topic_id"] == topic["topic_id"]].pivot_table(
            index="period", columns="value", values="count", aggfunc="sum", fill_value=0)
        bottom = None
        for kind in kinds:
            if kind in table.columns:
                ax.bar(table.index, table[kind], bottom=bottom, width=0.8, color=f"C{kinds.index(kind)}")
                bottom = table[kind] if bottom is None else bottom + table[kind]
        ax.set_title(f"{topic['topic_id']}: {topic['label']}", fontsize=9)
        ax.set_xlim(series["period"].min() - 0.6, series["period"].max() + 0.6)
        ax.tick_params(labelsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3, axis="y")
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    fig.legend(handles=[Patch(color=f"C{i}", label=k) for i, k in enumerate(kinds)], loc="upper right", fontsize=8)
    fig.supylabel("documents per year", fontsize=9)
    fig.tight_layout(rect=(0, 0, 0.92, 1))
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    return _inline(buffer.getvalue())


def _regions(candidates: Rows, evidence: Rows, per_region: int) -> list[dict[str, Any]]:
    """Regions ordered by their best candidate, each with its top ``per_region`` candidates."""
    links: dict[str, Rows] = {}
    for e in evidence:
        links.setdefault(e["candidate_key"], []).append(e)
    ordered = sorted(candidates, key=lambda c: (c["region"], -(c["score"] or 0.0)))
    regions = []
    for region, group in groupby(ordered, key=lambda c: c["region"]):
        items = list(group)
        top = [{**c, "evidence": links.get(c["candidate_key"], [])[:EVIDENCE_SHOWN]} for c in items[:per_region]]
        regions.append({"code": region, "name": items[0]["region_name"] or region, "total": len(items),
                        "anchor": "region-" + re.sub(r"[^A-Za-z0-9_-]", "-", region),
                        "best": items[0]["score"] or 0.0, "candidates": top})
    return sorted(regions, key=lambda r: (-r["best"], r["code"]))


def build_context(store: Store, run_id: str, *, per_region: int = 3) -> dict[str, Any]:
    info = run_info(store, run_id)
    tables = load_tables(store, run_id)
    by_source = store.query("SELECT source, count(*) AS n FROM documents GROUP BY source ORDER BY source")
    totals = store.query("SELECT d.year AS period, count(*) AS n FROM doc_topics t JOIN documents d USING (doc_id) "
                         "WHERE t.run_id = ? GROUP BY d.year ORDER BY d.year", [run_id])
    series = store.query("SELECT topic_id, period, value, count FROM topic_series WHERE run_id = ? "
                         "AND dimension = 'source'", [run_id])
    manifest = info["manifest"]
    candidates, topics = tables["candidates"], tables["topics"]
    ranked = sorted(topics, key=lambda t: (not t["emerging"], -(t["emergence_score"] or float("-inf"))))
    reasons = recorded_reasons(manifest)
    emerging = [{**t, "no_candidate": reasons.get(int(t["topic_id"]), {}).get("text")} for t in ranked if t["emerging"]]
    end_year = manifest.get("stages", {}).get("emergence", {}).get("end_year")
    recent = manifest.get("config", {}).get("emergence", {}).get("recent_years")
    chart_topics = [{**t, "emergence_score": t["emergence_score"] or 0.0} for t in topics]
    return {
        "run": info, "git_sha": manifest.get("git_sha"), "schema_version": SCHEMA_VERSION,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": list(zip(by_source["source"], by_source["n"].astype(int), strict=True)),
        "documents_modelled": int(totals["n"].sum()) if not totals.empty else 0,
        "n_topics": len(topics), "emerging": emerging, "end_year": end_year,
        "kinds": Counter(c["kind"] for c in candidates), "statuses": Counter(c["status"] for c in candidates),
        "changed": sum(bool(c["changed_since_review"]) for c in candidates), "n_candidates": len(candidates),
        "n_below_minimum": len(tables["candidates_below_minimum"]),
        "why_no_candidates": manifest.get("stages", {}).get("candidates", {}).get("why_no_candidates"),
        "regions": _regions(candidates, tables["evidence"], per_region), "per_region": per_region,
        "trend_chart": trend_chart(chart_topics, tables["topic_years"], totals, end_year=end_year,
                                   recent_years=recent),
        "source_chart": source_charts((emerging or ranked)[:TOP_TOPICS], series),
    }


def _number(value: Any, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def render(context: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _number
    return env.get_template("report.html.j2").render(**context)


def write_report(store_path: Path | str, path: Path | str, *, run_id: str | None = None,
                 per_region: int = 3) -> Path:
    """Write the report of a run (the latest completed one by default) to ``path``, atomically."""
    with Store(store_path, read_only=True) as store:
        run_id = resolve_run(store, run_id)
        html = render(build_context(store, run_id, per_region=per_region))
    target = Path(path)

    def emit(handle: IO[str]) -> None:
        handle.write(html)

    atomic_write(target, emit)
    os.chmod(target, 0o644)  # the temporary file was private; the report is meant to be shared
    return target
