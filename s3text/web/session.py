"""Signing in and out with a reviewer's name and token (a session cookie for the browser)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from s3text.web.context import WebContext, context, page_reviewer, read_form, render
from s3text.web.security import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, SESSION_SECONDS, safe_next

router = APIRouter()
Ctx = Annotated[WebContext, Depends(context)]
CSRF_MESSAGE = "This form has expired or did not come from this site. Reload the page and try again."


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, ctx: Ctx, next: Annotated[str, Query(max_length=500)] = "/") -> Response:
    return render(request, ctx, "login.html", {"next": safe_next(next), "message": None, "name": ""},
                  reviewer=page_reviewer(request, ctx))


@router.post("/login")
async def login(request: Request, ctx: Ctx) -> Response:
    form = await read_form(request)
    if not ctx.guard.csrf_ok(request, form.get(CSRF_FIELD)):
        raise HTTPException(status_code=403, detail=CSRF_MESSAGE)
    ctx.guard.refuse_if_throttled(request)
    name, token, target = form.get("name", "").strip(), form.get("token", ""), safe_next(form.get("next"))
    if not ctx.guard.check(name, token.strip()):
        ctx.guard.failed(request.client.host if request.client else "?")
        return render(request, ctx, "login.html", {"next": target, "message": "Unknown reviewer or wrong token.",
                                                   "name": name}, reviewer=None, status=401)
    secure = request.url.scheme == "https"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, ctx.guard.session_cookie(name), max_age=SESSION_SECONDS, httponly=True,
                        samesite="lax", secure=secure, path="/")
    # a fresh CSRF nonce for the signed-in session (no token planted before sign-in survives it)
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), httponly=True, samesite="strict", secure=secure,
                        path="/")
    return response


@router.post("/logout")
async def logout(request: Request, ctx: Ctx) -> Response:
    form = await read_form(request)
    if not ctx.guard.csrf_ok(request, form.get(CSRF_FIELD)):
        raise HTTPException(status_code=403, detail=CSRF_MESSAGE)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
