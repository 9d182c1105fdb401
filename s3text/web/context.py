"""What every route needs: the store gate, the guard, the settings; and the helpers pages share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from s3text.web.config import WebConfig
from s3text.web.gate import StoreGate
from s3text.web.security import CSRF_COOKIE, Guard, Reviewer

MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 20


@dataclass
class WebContext:
    gate: StoreGate
    guard: Guard
    cfg: WebConfig
    templates: Jinja2Templates
    groupings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    region_name: Callable[[str], str | None] = lambda code: None


def context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.web
    return ctx


def page_reviewer(request: Request, ctx: WebContext) -> Reviewer | None:
    """The reviewer of a page view; a wrong Authorization header only makes the view anonymous."""
    try:
        return ctx.guard.identify(request)
    except HTTPException as exc:
        if exc.status_code == 401:
            return None
        raise


def render(request: Request, ctx: WebContext, template: str, values: dict[str, Any], *,
           reviewer: Reviewer | None, status: int = 200) -> HTMLResponse:
    """A page with the CSRF token its forms need (setting the nonce cookie on first visit)."""
    nonce, new = ctx.guard.csrf_nonce(request)
    body = {"reviewer": reviewer, "reviewers_configured": bool(ctx.guard.reviewers),
            "csrf_token": ctx.guard.csrf_token(nonce), "path": request.url.path, **values}
    response = ctx.templates.TemplateResponse(request, template, body, status_code=status)
    if new:
        response.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https")
    response.headers["Cache-Control"] = "no-store"
    return response


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form, at most 64 KiB and 20 fields, one value per field (the first)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise HTTPException(status_code=415, detail="Send the form as application/x-www-form-urlencoded.")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        raise HTTPException(status_code=413, detail="The form is too large.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(status_code=413, detail="The form is too large.")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(status_code=400, detail="The form could not be read.") from exc
    return {k: v[0] for k, v in fields.items()}
