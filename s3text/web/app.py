"""The application factory: pages, the JSON API, static files, security headers, error pages."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import duckdb
import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from s3text import __version__
from s3text.config import PipelineConfig
from s3text.errors import ReviewError, S3TextError, StoreError
from s3text.web import api, browse, pages, session
from s3text.web.config import WebConfig, is_loopback, resolve_tokens
from s3text.web.context import WebContext
from s3text.web.gate import StoreBusy, StoreGate
from s3text.web.schemas import API_SCHEMA_VERSION
from s3text.web.security import Guard

logger = logging.getLogger(__name__)

# Scripts only from this server (no inline script runs); plotly sets inline styles.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
RETRY_AFTER = "30"


LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


class Hardening:
    """Adds :data:`SECURITY_HEADERS` to every response and, on a loopback server, refuses a Host
    header that is not loopback (a DNS-rebinding page cannot read the server through the browser).
    A plain ASGI wrapper: no body buffering."""

    def __init__(self, app: ASGIApp, *, loopback_only: bool) -> None:
        self.app = app
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.loopback_only and _host_name(scope) not in LOOPBACK_NAMES:
            response = PlainTextResponse("Invalid Host header", status_code=400, headers=SECURITY_HEADERS)
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(store_path: Path | str, web_cfg: WebConfig | None = None,
               pipeline_cfg: PipelineConfig | None = None) -> FastAPI:
    """The review server over the store at ``store_path``.

    ``pipeline_cfg`` (optional) gives region names (NUTS labels) and the region groupings the
    queue filters by. Raises :class:`~s3text.errors.ConfigError` for a reviewer token that cannot be
    resolved and :class:`~s3text.errors.StoreError` for a missing store or one of a newer schema;
    a store of an older schema gets the (empty) review tables.
    """
    web_cfg = web_cfg or WebConfig()
    gate = StoreGate(store_path, idle_seconds=web_cfg.store_idle_seconds)
    ctx = WebContext(gate=gate, guard=Guard(resolve_tokens(web_cfg)), cfg=web_cfg,
                     templates=Jinja2Templates(env=_environment()),
                     groupings=dict(pipeline_cfg.regions.groupings) if pipeline_cfg else {},
                     region_name=_region_namer(pipeline_cfg))
    gate.prepare()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        gate.close()

    app = FastAPI(title="s3text review and portal API", version=str(API_SCHEMA_VERSION), lifespan=lifespan,
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None,
                  description="Transformative-activity candidates for regional Smart Specialisation "
                              "Strategies. See docs/API.md.")
    app.state.web = ctx
    app.add_middleware(Hardening, loopback_only=is_loopback(web_cfg.host))
    _handlers(app, ctx)
    app.include_router(api.router)
    for module in (pages, browse, session):
        app.include_router(module.router, include_in_schema=False)
    plotly_js = _plotly_js()

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly() -> Response:
        if plotly_js is None:
            return Response("/* plotly is not installed: charts fall back to tables */",
                            media_type="text/javascript")
        return FileResponse(plotly_js, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    app.mount("/static", StaticFiles(packages=[("s3text.web", "static")]), name="static")
    return app


def _host_name(scope: Scope) -> str:
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
    if host.startswith("["):  # [::1]:8484
        return host[1:host.find("]")] if "]" in host else ""
    return host.rsplit(":", 1)[0].lower() if host.count(":") == 1 else host.lower()


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("s3text.web", "templates"),
                             autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _num
    env.globals["s3text_version"] = __version__
    return env


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    try:
        return f"{float(value):.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def _plotly_js() -> Path | None:
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


def _region_namer(cfg: PipelineConfig | None) -> Callable[[str], str | None]:
    if cfg is None:
        return lambda code: None
    from s3text.regions import NutsTable
    from s3text.units import RegionUnits

    try:
        nuts = NutsTable.load(cfg.regions.nuts_table, cfg.regions.nuts_version)
    except S3TextError as exc:
        logger.warning("region names unavailable: %s", exc)
        return lambda code: None
    units = RegionUnits(level=cfg.regions.level, groupings=cfg.regions.groupings)
    return lambda code: units.label(code, nuts)


def _handlers(app: FastAPI, ctx: WebContext) -> None:
    """Errors become messages, as JSON under /api and as a page elsewhere; never a traceback."""

    def reply(request: Request, status: int, message: str, headers: dict[str, str] | None = None,
              fields: list[dict[str, str]] | None = None) -> Response:
        if request.url.path.startswith("/api/"):
            body = {"schema_version": API_SCHEMA_VERSION,
                    "error": {"status": status, "message": message, "fields": fields}}
            return JSONResponse(body, status_code=status, headers=headers)
        values = {"status": status, "message": message, "fields": fields or [], "reviewer": None,
                  "reviewers_configured": bool(ctx.guard.reviewers), "csrf_token": "", "path": request.url.path}
        return ctx.templates.TemplateResponse(request, "error.html", values, status_code=status, headers=headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return reply(request, exc.status_code, str(exc.detail), dict(exc.headers or {}))

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        fields = [{"field": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
                  for e in exc.errors()]
        return reply(request, 422, "Some values are not valid: " + "; ".join(
            f"{f['field']}: {f['message']}" for f in fields), fields=fields)

    async def busy(request: Request, exc: Exception) -> Response:
        return reply(request, 503, "The store is being refreshed; try again in a moment.",
                     {"Retry-After": RETRY_AFTER})

    async def store_error(request: Request, exc: Exception) -> Response:
        logger.error("store error on %s: %s", request.url.path, exc)
        return reply(request, 503, "The store cannot be read right now.", {"Retry-After": RETRY_AFTER})

    async def review_error(request: Request, exc: Exception) -> Response:
        return reply(request, 422, str(exc).split("] ", 1)[-1])

    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unexpected error on %s", request.url.path)
        return reply(request, 500, "Something went wrong on the server; the error is logged.")

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StoreBusy, busy)
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(duckdb.Error, store_error)
    app.add_exception_handler(ReviewError, review_error)
    app.add_exception_handler(Exception, unexpected)
