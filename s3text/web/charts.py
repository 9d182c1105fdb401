"""Plotly figure specs (plain dicts) for the pages; ``static/app.js`` draws them with plotly.js.

Plotly reads a few HTML-like tags in its text, so every label passes through :func:`_text`, which
turns ``&``, ``<`` and ``>`` into entities that plotly shows literally.
"""

from __future__ import annotations

from typing import Any

PEERS_SHOWN = 15
REGIONS_SHOWN = 20
_COLOURS = ("#1f6f8b", "#e07a1f", "#6a994e", "#8e5572", "#5c677d")
_HIGHLIGHT = "#c1121f"
_BASE_LAYOUT: dict[str, Any] = {"margin": {"l": 60, "r": 20, "t": 30, "b": 50}, "height": 340,
                                "font": {"family": "system-ui, sans-serif", "size": 12},
                                "legend": {"orientation": "h", "y": -0.2}}


def _text(value: Any) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def trend_figure(series: dict[str, Any], end_year: int | None = None) -> dict[str, Any]:
    """Documents per year, stacked per source kind, with the region's own documents as a line."""
    data: list[dict[str, Any]] = []
    for i, (source, points) in enumerate(sorted(series["by_source"].items())):
        data.append({"type": "bar", "name": _text(source), "x": [p["year"] for p in points],
                     "y": [p["count"] for p in points], "marker": {"color": _COLOURS[i % len(_COLOURS)]}})
    if not data:  # no per-source series stored: the totals alone
        data.append({"type": "bar", "name": "documents", "x": [p["year"] for p in series["total"]],
                     "y": [p["count"] for p in series["total"]], "marker": {"color": _COLOURS[0]}})
    region = series.get("region")
    if region is not None and region["points"]:
        data.append({"type": "scatter", "mode": "lines+markers", "name": _text(f"in {region['code']}"),
                     "x": [p["year"] for p in region["points"]], "y": [p["count"] for p in region["points"]],
                     "line": {"color": _HIGHLIGHT}})
    layout = {**_BASE_LAYOUT, "barmode": "stack", "xaxis": {"title": {"text": "year"}, "dtick": 1},
              "yaxis": {"title": {"text": "documents"}}}
    if end_year is not None:
        layout["shapes"] = [{"type": "line", "x0": end_year + 0.5, "x1": end_year + 0.5, "yref": "paper",
                             "y0": 0, "y1": 1, "line": {"dash": "dot", "color": "#888"}}]
    return {"data": data, "layout": layout}


def peers_figure(rows: list[dict[str, Any]], region: str) -> dict[str, Any]:
    """Specialisation (RCA) against relatedness density of the regions in a topic; ``region`` marked."""
    own = [r for r in rows if r["region"] == region]
    others = [r for r in rows if r["region"] != region]

    def trace(points: list[dict[str, Any]], name: str, colour: str, size: int) -> dict[str, Any]:
        return {"type": "scatter", "mode": "markers+text" if size > 10 else "markers", "name": _text(name),
                "x": [p["rca"] for p in points], "y": [p["density"] for p in points],
                "text": [_text(p["region"]) for p in points], "textposition": "top center",
                "hovertemplate": "%{text}<br>RCA %{x:.2f}<br>density %{y:.2f}<extra></extra>",
                "marker": {"color": colour, "size": size, "opacity": 0.85}}

    data = [trace(others, "other regions", _COLOURS[0], 8)]
    if own:
        data.append(trace(own, region, _HIGHLIGHT, 14))
    layout = {**_BASE_LAYOUT, "xaxis": {"title": {"text": "specialisation (RCA)"}},
              "yaxis": {"title": {"text": "relatedness density"}, "range": [0, 1.05]},
              "shapes": [{"type": "line", "x0": 1, "x1": 1, "yref": "paper", "y0": 0, "y1": 1,
                          "line": {"dash": "dot", "color": "#888"}}]}
    return {"data": data, "layout": layout}


def regions_figure(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The regions most specialised in a topic (RCA), as a ranked bar chart."""
    top = sorted((r for r in rows if r["count"] > 0), key=lambda r: (-r["rca"], r["region"]))[:REGIONS_SHOWN]
    top.reverse()  # plotly draws horizontal bars bottom-up
    data = [{"type": "bar", "orientation": "h", "name": "RCA", "x": [r["rca"] for r in top],
             "y": [_text(r["region"]) for r in top],
             "marker": {"color": [_HIGHLIGHT if r["specialised"] else _COLOURS[0] for r in top]}}]
    layout = {**_BASE_LAYOUT, "height": max(240, 22 * len(top) + 80), "showlegend": False,
              "xaxis": {"title": {"text": "specialisation (RCA); red: specialised"}},
              "yaxis": {"automargin": True, "type": "category"}}
    return {"data": data, "layout": layout}


def peer_rows(rows: list[dict[str, Any]], region: str) -> list[dict[str, Any]]:
    """The region and its densest peers in the topic (rows come densest first)."""
    shown = rows[:PEERS_SHOWN]
    if region not in {r["region"] for r in shown}:
        shown += [r for r in rows if r["region"] == region]
    return shown
