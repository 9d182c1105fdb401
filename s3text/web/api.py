"""The read-only JSON API under ``/api/v1`` for the portal (documented in ``docs/API.md``).

Candidates: without a reviewer's identity only ``public_statuses`` (default: accepted) are listed
or found, and reviewer names and notes are left out; asking for another status without identity
is a 401. A reviewer gets the same default list, may ask for any status with ``?status=``, and sees
names and notes. Every response carries ``schema_version``, an ETag and Last-Modified, and
answers 304 to a matching ``If-None-Match`` (or ``If-Modified-Since``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from s3text.store import Store
from s3text.web import caching, catalog, queries
from s3text.web.context import WebContext, context
from s3text.web.filters import REGION_PATTERN, ApiCandidateQuery, CandidateQuery, Status
from s3text.web.queries import RunState
from s3text.web.schemas import (
    CandidateDetail,
    CandidatePage,
    ErrorOut,
    RegionDetail,
    RegionList,
    RunOut,
    TopicDetail,
    TopicList,
)
from s3text.web.security import Reviewer, unauthorized

KEY_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (401, 404, 422, 429, 503)}
_ERRORS[304] = {"description": "Not modified: the ETag in If-None-Match still holds"}

router = APIRouter(prefix="/api/v1", tags=["portal"], responses=_ERRORS)
Ctx = Annotated[WebContext, Depends(context)]
StatusParam = Annotated[list[Status], Query(description="reviewers only beyond the public statuses")]


def _statuses(ctx: WebContext, reviewer: Reviewer | None, requested: Sequence[str]) -> list[str]:
    public: list[str] = list(ctx.cfg.public_statuses)
    if not requested:
        return public
    if reviewer is None and not set(requested) <= set(public):
        raise unauthorized(f"Only {', '.join(public) or 'no'} candidates are public; other statuses need a "
                           "reviewer's identity.")
    return list(dict.fromkeys(requested))


def _shape(record: dict[str, Any], reviewer: Reviewer | None) -> dict[str, Any]:
    return record if reviewer is not None else {**record, "reviewer": None, "note": None}


def _respond(request: Request, ctx: WebContext, reviewer: Reviewer | None, model: type[BaseModel],
             build: Callable[[Store, RunState], dict[str, Any]]) -> Response:
    with ctx.gate.read() as store:
        state = queries.run_state(store)
        tag = caching.etag(state, request, "reviewer" if reviewer else "public")
        headers = caching.headers(tag, state.last_modified, private=reviewer is not None)
        if caching.not_modified(request, tag, state.last_modified):
            return Response(status_code=304, headers=headers)
        body = build(store, state)
    payload = model.model_validate({"run_id": state.run_id, **body}).model_dump(mode="json")
    return JSONResponse(payload, headers=headers)


def _run(state: RunState, what: str) -> str:
    if state.run_id is None:
        raise HTTPException(status_code=404, detail=f"No completed run yet: no {what}.")
    return state.run_id


@router.get("/candidates", response_model=CandidatePage, summary="Candidates, filtered and paginated")
def candidates(request: Request, ctx: Ctx, query: Annotated[ApiCandidateQuery, Query()]) -> Response:
    reviewer = ctx.guard.identify(request)
    statuses = _statuses(ctx, reviewer, query.status)
    size, offset = query.limit or ctx.cfg.page_size, query.offset

    def build(store: Store, state: RunState) -> dict[str, Any]:
        total, items = 0, list[dict[str, Any]]()
        if state.run_id is not None:
            total, items = queries.list_candidates(store, state.run_id, query, statuses=statuses, limit=size,
                                                   offset=offset, groupings=ctx.groupings)
            docs = {d["doc_id"]: d for d in queries.evidence_documents(
                store, [e["doc_id"] for c in items for e in c["evidence"]])}
            for c in items:  # date, kind and link of each evidence document; its actors in the detail only
                c["evidence"] = [{**e, **{k: v for k, v in docs.get(e["doc_id"], {}).items()
                                          if k not in ("actors", "actors_total")}} for e in c["evidence"]]
        return {"total": total, "limit": size, "offset": offset, "statuses": statuses,
                "items": [_shape(c, reviewer) for c in items]}

    return _respond(request, ctx, reviewer, CandidatePage, build)


@router.get("/candidates/{key}", response_model=CandidateDetail, summary="One candidate with its evidence")
def candidate(request: Request, ctx: Ctx, key: Annotated[str, Path(pattern=KEY_PATTERN)]) -> Response:
    reviewer = ctx.guard.identify(request)

    def build(store: Store, state: RunState) -> dict[str, Any]:
        found = queries.candidate(store, _run(state, "candidates"), key)
        if found is None or (reviewer is None and found["status"] not in ctx.cfg.public_statuses):
            raise HTTPException(status_code=404, detail="No candidate with this key in the latest run.")
        found["evidence"] = queries.evidence_items(store, found["evidence"])
        return {"candidate": _shape(found, reviewer)}

    return _respond(request, ctx, reviewer, CandidateDetail, build)


@router.get("/topics", response_model=TopicList, summary="Topics with yearly counts and emergence")
def topics(request: Request, ctx: Ctx) -> Response:
    def build(store: Store, state: RunState) -> dict[str, Any]:
        return {"items": catalog.topic_list(store, state.run_id) if state.run_id else []}

    return _respond(request, ctx, ctx.guard.identify(request), TopicList, build)


@router.get("/topics/{ref}", response_model=TopicDetail, summary="One topic: series, related topics, regions")
def topic(request: Request, ctx: Ctx,
          ref: Annotated[str, Path(pattern=r"^[0-9a-f]{1,16}$", description="topic id or lineage id")]) -> Response:
    def build(store: Store, state: RunState) -> dict[str, Any]:
        run_id = _run(state, "topics")
        topic_id = catalog.resolve_topic(store, run_id, ref)
        detail = catalog.topic_detail(store, run_id, topic_id) if topic_id is not None else None
        if detail is None:
            raise HTTPException(status_code=404, detail="No such topic in the latest run.")
        return {"topic": detail}

    return _respond(request, ctx, ctx.guard.identify(request), TopicDetail, build)


@router.get("/regions", response_model=RegionList, summary="Regions with their specialisations")
def regions(request: Request, ctx: Ctx) -> Response:
    reviewer = ctx.guard.identify(request)
    statuses = _statuses(ctx, reviewer, [])

    def build(store: Store, state: RunState) -> dict[str, Any]:
        rows = catalog.region_list(store, state.run_id, statuses) if state.run_id else []
        return {"items": [{**r, "name": ctx.region_name(r["region"])} for r in rows]}

    return _respond(request, ctx, reviewer, RegionList, build)


@router.get("/regions/{code}", response_model=RegionDetail, summary="A region's metrics in every topic")
def region(request: Request, ctx: Ctx, code: Annotated[str, Path(pattern=REGION_PATTERN)],
           status: StatusParam = []) -> Response:  # noqa: B006 (FastAPI copies defaults)
    reviewer = ctx.guard.identify(request)
    statuses = _statuses(ctx, reviewer, status)

    def build(store: Store, state: RunState) -> dict[str, Any]:
        run_id = _run(state, "regions")
        if not catalog.region_exists(store, run_id, code):
            raise HTTPException(status_code=404, detail="No such region in the latest run.")
        _, items = queries.list_candidates(store, run_id, CandidateQuery(region=code), statuses=statuses,
                                           limit=10_000, offset=0)
        return {"region": code, "name": ctx.region_name(code), "topics": catalog.region_topics(store, run_id, code),
                "candidates": [_shape(c, reviewer) for c in items]}

    return _respond(request, ctx, reviewer, RegionDetail, build)


@router.get("/runs/latest", response_model=RunOut, summary="The run shown: ids, versions, stage counts")
def latest_run(request: Request, ctx: Ctx) -> Response:
    def build(store: Store, state: RunState) -> dict[str, Any]:
        return {"run": queries.run_summary(store, _run(state, "run"))}

    return _respond(request, ctx, ctx.guard.identify(request), RunOut, build)
