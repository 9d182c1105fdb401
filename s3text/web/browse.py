"""Topic and region pages: topics over time, a topic's regions, a region's portfolio."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response

from s3text.web import catalog, charts, queries
from s3text.web.context import WebContext, context, page_reviewer, render
from s3text.web.filters import REGION_PATTERN, CandidateQuery

router = APIRouter()
Ctx = Annotated[WebContext, Depends(context)]
ALL = 100_000  # "every candidate" of a topic or region on its page
RANKED = 25


def _no_run() -> HTTPException:
    return HTTPException(status_code=404, detail="No completed run yet: run `s3text run` first.")


@router.get("/topics", response_class=HTMLResponse)
def topics(request: Request, ctx: Ctx) -> Response:
    with ctx.gate.read() as store:
        run_id = store.latest_run()
        rows = catalog.topic_list(store, run_id) if run_id else []
        counts = dict(store.con.execute("SELECT topic_id, count(*) FROM candidates WHERE run_id = ? GROUP BY 1",
                                        [run_id]).fetchall()) if run_id else {}
    rows.sort(key=lambda t: (-(t["emergence_score"] if t["emergence_score"] is not None else -1e9), t["topic_id"]))
    return render(request, ctx, "topics.html", {"run_id": run_id, "topics": rows, "counts": counts},
                  reviewer=page_reviewer(request, ctx))


@router.get("/topics/{ref}", response_class=HTMLResponse)
def topic(request: Request, ctx: Ctx, ref: Annotated[str, Path(pattern=r"^[0-9a-f]{1,16}$")]) -> Response:
    with ctx.gate.read() as store:
        run_id = store.latest_run()
        if run_id is None:
            raise _no_run()
        topic_id = catalog.resolve_topic(store, run_id, ref)
        detail = catalog.topic_detail(store, run_id, topic_id) if topic_id is not None else None
        if topic_id is None or detail is None:
            raise HTTPException(status_code=404, detail="No such topic in the latest run.")
        _, candidates = queries.list_candidates(store, run_id, CandidateQuery(topic=topic_id), statuses=[],
                                                limit=ALL, offset=0)
        below = queries.below_minimum(store, run_id, topic_id)
        end = catalog.end_year(store, run_id, topic_id)
    regions = detail["regions"]
    by_rca = sorted((r for r in regions if r["count"] > 0), key=lambda r: (-r["rca"], r["region"]))[:RANKED]
    return render(request, ctx, "topic.html", {
        "run_id": run_id, "t": detail, "candidates": candidates, "below_minimum": below, "by_rca": by_rca,
        "by_density": regions[:RANKED],
        "trend_chart": charts.trend_figure(detail["series"], end), "regions_chart": charts.regions_figure(regions),
        "region_name": ctx.region_name,
    }, reviewer=page_reviewer(request, ctx))


@router.get("/regions", response_class=HTMLResponse)
def regions(request: Request, ctx: Ctx) -> Response:
    with ctx.gate.read() as store:
        run_id = store.latest_run()
        rows = catalog.region_list(store, run_id, []) if run_id else []
    return render(request, ctx, "regions.html", {"run_id": run_id, "regions": rows, "region_name": ctx.region_name},
                  reviewer=page_reviewer(request, ctx))


@router.get("/regions/{code}", response_class=HTMLResponse)
def region(request: Request, ctx: Ctx, code: Annotated[str, Path(pattern=REGION_PATTERN)]) -> Response:
    with ctx.gate.read() as store:
        run_id = store.latest_run()
        if run_id is None:
            raise _no_run()
        if not catalog.region_exists(store, run_id, code):
            raise HTTPException(status_code=404, detail="No such region in the latest run.")
        rows = catalog.region_topics(store, run_id, code)
        _, candidates = queries.list_candidates(store, run_id, CandidateQuery(region=code), statuses=[],
                                                limit=ALL, offset=0)
    name = ctx.region_name(code) or next((c.get("region_name") for c in candidates if c.get("region_name")), None)
    return render(request, ctx, "region.html", {
        "run_id": run_id, "code": code, "name": name, "candidates": candidates,
        "specialised": [r for r in rows if r["specialised"]], "present": [r for r in rows if not r["specialised"]],
    }, reviewer=page_reviewer(request, ctx))
