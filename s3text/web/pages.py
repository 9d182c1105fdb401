"""The review pages: the queue, a candidate with its evidence, and the decision form behind it."""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from s3text.review import DECIDABLE, MAX_NOTE, decide
from s3text.store import Store
from s3text.web import catalog, charts, queries
from s3text.web.api import KEY_PATTERN
from s3text.web.context import WebContext, context, page_reviewer, read_form, render
from s3text.web.filters import KINDS, SORT_SQL, STATUSES, QueueQuery
from s3text.web.security import CSRF_FIELD, Reviewer, unauthorized

router = APIRouter()
Ctx = Annotated[WebContext, Depends(context)]
Key = Annotated[str, Path(pattern=KEY_PATTERN)]
CSRF_MESSAGE = "This form has expired or did not come from this site. Reload the page and try again."


@router.get("/", response_class=HTMLResponse)
def queue(request: Request, ctx: Ctx, query: Annotated[QueueQuery, Query()]) -> Response:
    reviewer = page_reviewer(request, ctx)
    size, page = ctx.cfg.page_size, query.page
    with ctx.gate.read() as store:
        state = queries.run_state(store)
        total, items = 0, list[dict[str, Any]]()
        options: dict[str, Any] = {"regions": [], "topics": []}
        if state.run_id is not None:
            total, items = queries.list_candidates(store, state.run_id, query, statuses=query.status, limit=size,
                                                   offset=(page - 1) * size, groupings=ctx.groupings)
            options = queries.queue_options(store, state.run_id)
    pages = max(1, math.ceil(total / size))
    params = query.as_params()

    def link(**changes: Any) -> str:
        return "/?" + urlencode({**params, **{k: str(v) for k, v in changes.items()}})

    groups = sorted(ctx.groupings) + sorted({r["code"][:2] for r in options["regions"]} - set(ctx.groupings))
    return render(request, ctx, "queue.html", {
        "run_id": state.run_id, "items": items, "total": total, "page": page, "pages": pages, "query": query,
        "options": options, "groups": groups, "kinds": KINDS, "statuses": STATUSES, "sorts": list(SORT_SQL),
        "prev_link": link(page=page - 1) if page > 1 else None,
        "next_link": link(page=page + 1) if page < pages else None,
        "sort_link": {k: link(sort=("-" if query.sort != f"-{k}" else "") + k) for k in SORT_SQL},
    }, reviewer=reviewer)


def candidate_values(store: Store, key: str) -> dict[str, Any]:
    """Everything the candidate page shows; 404 when the latest run has no such candidate."""
    run_id = store.latest_run()
    found = queries.candidate(store, run_id, key) if run_id else None
    if run_id is None or found is None:
        raise HTTPException(status_code=404, detail="No candidate with this key in the latest run.")
    topic_id, region = int(found["topic_id"]), str(found["region"])
    labels = catalog.topic_labels(store, run_id)
    series = catalog.topic_series(store, run_id, topic_id, region=region)
    peers = charts.peer_rows(catalog.topic_regions(store, run_id, topic_id), region)
    own = {int(r["topic_id"]): r for r in catalog.region_topics(store, run_id, region)}
    related = [{"topic_id": int(t), "label": labels.get(int(t), str(t)), "metrics": own.get(int(t))}
               for t in found.get("related_topics", [])]
    partners = [{**p, "via_label": labels.get(int(p["via_topic"]), "")} for p in found.get("partners", [])]
    return {
        "run_id": run_id, "c": found, "related": related, "partners": partners, "peers": peers,
        "evidence": queries.evidence_items(store, found.get("evidence", [])),
        "history": queries.decision_history(store, key), "seen": f"{run_id}:{queries.last_log_id(store, key)}",
        "trend_chart": charts.trend_figure(series, catalog.end_year(store, run_id, topic_id)),
        "peers_chart": charts.peers_figure(peers, region), "decidable": DECIDABLE, "max_note": MAX_NOTE,
    }


def _candidate_page(request: Request, ctx: WebContext, key: str, reviewer: Reviewer | None, *,
                    form: dict[str, str] | None = None, message: str | None = None, status: int = 200,
                    saved: bool = False) -> Response:
    with ctx.gate.read() as store:
        values = candidate_values(store, key)
    form = form or {"status": values["c"]["status"] if values["c"]["status"] in DECIDABLE else "", "note": ""}
    return render(request, ctx, "candidate.html", {**values, "form": form, "form_error": message, "saved": saved},
                  reviewer=reviewer, status=status)


@router.get("/candidates/{key}", response_class=HTMLResponse)
def candidate(request: Request, ctx: Ctx, key: Key, saved: bool = False) -> Response:
    return _candidate_page(request, ctx, key, page_reviewer(request, ctx), saved=saved)


def _problems(status: str, note: str) -> list[str]:
    problems = []
    if status not in DECIDABLE:
        problems.append(f"Choose one of: {', '.join(DECIDABLE)}.")
    if len(note) > MAX_NOTE:
        problems.append(f"The note has {len(note)} characters; at most {MAX_NOTE}.")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in note):
        problems.append("The note holds control characters.")
    return problems


def _write(ctx: WebContext, key: str, reviewer: Reviewer, status: str, note: str, seen: str) -> str | None:
    """Record the decision; a message instead when the candidate moved on since the form was shown."""
    with ctx.gate.write() as store:
        run_id = store.latest_run()
        record = queries.candidate_record(store, run_id, key) if run_id else None
        if run_id is None or record is None:
            raise HTTPException(status_code=404, detail="No candidate with this key in the latest run.")
        if seen != f"{run_id}:{queries.last_log_id(store, key)}":
            return ("The candidate changed while you were reviewing it (a new decision or a refresh). "
                    "Check it again and resubmit.")
        decide(store, candidate_key=key, status=status, reviewer=reviewer.name, note=note, record=record,
               run_id=run_id)
    return None


@router.post("/candidates/{key}/decision")
async def decision(request: Request, ctx: Ctx, key: Key) -> Response:
    reviewer = ctx.guard.identify(request)
    if reviewer is None:
        raise unauthorized("Sign in as a reviewer to record a decision.")
    form = await read_form(request)
    if not ctx.guard.csrf_ok(request, form.get(CSRF_FIELD)):
        raise HTTPException(status_code=403, detail=CSRF_MESSAGE)
    status = form.get("status", "").strip()
    note = form.get("note", "").replace("\r\n", "\n").strip()
    kept = {"status": status, "note": note}
    if problems := _problems(status, note):
        return await run_in_threadpool(_candidate_page, request, ctx, key, reviewer, form=kept,
                                       message=" ".join(problems), status=422)
    conflict = await run_in_threadpool(_write, ctx, key, reviewer, status, note, form.get("seen", ""))
    if conflict is not None:
        return await run_in_threadpool(_candidate_page, request, ctx, key, reviewer, form=kept, message=conflict,
                                       status=409)
    return RedirectResponse(f"/candidates/{key}?saved=true#decision", status_code=303)
