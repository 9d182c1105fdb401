"""ETag and Last-Modified for the JSON API, so the portal can revalidate instead of refetching.

A response depends on the run shown, the decisions made (the last audit-log id), the caller's
scope (public or reviewer), the path and the query: the ETag hashes exactly these. It is computed
before the body, so a matching ``If-None-Match`` costs two small queries and no serialisation.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request

from s3text.web.queries import RunState
from s3text.web.schemas import API_SCHEMA_VERSION


def etag(state: RunState, request: Request, scope: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items()))
    key = "|".join([str(API_SCHEMA_VERSION), str(state.run_id), str(state.last_decision_id), scope,
                    request.url.path, query])
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def headers(tag: str, last_modified: datetime | None, *, private: bool) -> dict[str, str]:
    out = {"ETag": tag, "Vary": "Authorization, Cookie",
           "Cache-Control": ("private" if private else "public") + ", no-cache"}
    if last_modified is not None:
        out["Last-Modified"] = format_datetime(last_modified, usegmt=True)
    return out


def not_modified(request: Request, tag: str, last_modified: datetime | None) -> bool:
    """RFC 9110: If-None-Match (weak comparison) wins; If-Modified-Since only without it."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or tag in tags
    since = request.headers.get("if-modified-since")
    if since is None or last_modified is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= when
