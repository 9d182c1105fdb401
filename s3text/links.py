"""Links from an evidence document to its original: CORDIS project page, patent page, web page.

Only ``http`` and ``https`` links leave this module: a stored ``javascript:`` or ``data:`` URL
never becomes an ``href``.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

CORDIS_PROJECT = "https://cordis.europa.eu/project/id/{}"
GOOGLE_PATENT = "https://patents.google.com/patent/{}"

_PATENT_NUMBER = re.compile(r"^(?P<cc>[A-Z]{2})?-?(?P<num>[A-Z]{0,2}\d{4,12})-?(?P<kind>[A-Z]\d?)?$")


def safe_http_url(url: str | None) -> str | None:
    """The URL when it is an absolute http(s) URL with a host, else None."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(ch in url for ch in "\x00\r\n\t \"'<>`"):
        return None
    return url


def patent_page(native_id: str) -> str | None:
    """Google Patents page of a patent number: ``7817857`` → ``US7817857``,
    ``US-2013173064-A1`` → ``US2013173064A1``."""
    match = _PATENT_NUMBER.match(native_id.strip().upper().replace(" ", ""))
    if match is None:
        return None
    number = (match["cc"] or "US") + match["num"] + (match["kind"] or "")
    return GOOGLE_PATENT.format(quote(number, safe=""))


def original_link(*, source: str, source_kind: str | None, native_id: str | None, url: str | None
                  ) -> tuple[str | None, str | None]:
    """Where a reader finds the document itself, and where that link comes from: ``cordis`` (the
    CORDIS project page of a numeric project id), ``google_patents`` (a patent number), ``stored``
    (the source's own http(s) URL); (None, None) when no safe link can be derived. The web pages
    and the exports both link through here."""
    stored = safe_http_url(url)
    native = (native_id or "").strip()
    if source.startswith("cordis") or source_kind == "project":
        if native.isdigit():
            return CORDIS_PROJECT.format(native), "cordis"
        return (stored, "stored") if stored else (None, None)
    if stored:
        return stored, "stored"
    if source_kind == "patent" and native and (page := patent_page(native)) is not None:
        return page, "google_patents"
    return None, None


def original_url(*, source: str, source_kind: str | None, native_id: str | None, url: str | None) -> str | None:
    """The link of :func:`original_link` alone."""
    return original_link(source=source, source_kind=source_kind, native_id=native_id, url=url)[0]
