"""URL hygiene: what the crawler fetches, what counts as the same page, and which URLs are traps.

Two forms of a URL are kept apart:

* :func:`clean` is what is fetched: scheme and host lower-cased, IDNA host, default port, dot
  segments and fragment removed, session and tracking parameters stripped, credentials dropped.
* :func:`page_key` is the identity of a page (frontier and history key), SURT-like: no scheme, no
  ``www.``, no trailing slash, sorted query. ``http://www.x.ch/a/?utm_source=n`` and
  ``https://x.ch/a`` are one page. The server decides what the trailing slash means when it is
  fetched (a redirect from ``/a`` to ``/a/`` is followed, not taken for a loop).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = re.compile(r"%([0-9A-Fa-f]{2})")
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = "/:@!$'()*+,;-._~%?"
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#]*", re.IGNORECASE)
# A calendar: a date in the query (month=2024-05, date=20240501) or date segments under a calendar
# or events path (/calendar/2024/05/, /veranstaltungen/2031-01-01).
_DATE_VALUE = re.compile(r"^(?:1[89]|2\d)\d\d(?:[-/.]?\d{1,2}){0,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")
_CAL_KEYS = re.compile(r"^(?:month|year|date|day|week|cal|calendar|time|tag|monat|jahr|datum|mese|anno|mois|annee|"
                       r"mesec|leto|tx_cal.*|ical|start|end|from|to|von|bis)$", re.IGNORECASE)
_CAL_WORDS = re.compile(r"(?:calendar|kalender|calendario|calendrier|koledar|agenda|termine|events?|"
                        r"veranstaltungen|eventi|evenements|dogodki)", re.IGNORECASE)
_DATE_SEGMENT = re.compile(r"^(?:19|20)\d\d(?:-\d{1,2}){0,2}$")
_HOST = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$")  # letters, digits, "-", "_" (seen in the wild), dots


class BadURL(ValueError):
    """A URL the crawler never fetches: wrong scheme, no host, unparsable, too long."""


def _idna(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host:
        raise BadURL("no host")
    if host.startswith("["):  # IPv6 literal
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise BadURL(f"host {host!r} is not a valid domain name") from exc
    if not _HOST.match(ascii_host):  # Python's idna codec lets spaces and punctuation through
        raise BadURL(f"host {host!r} is not a valid domain name")
    return ascii_host


def _normalise_escapes(part: str, safe: str) -> str:
    # Upper-case escapes; decode escaped unreserved characters; escape anything unsafe.
    def fix(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if (char.isalnum() and char.isascii()) or char in "-._~" else "%" + m.group(1).upper()

    return quote(_UNRESERVED.sub(fix, part), safe=safe)


def clean(url: str, *, strip_params: Iterable[str] = (), max_length: int = 2083) -> str:
    """The fetchable form of ``url`` (absolute http/https), or :class:`BadURL`."""
    url = url.strip()
    if len(url) > max_length:
        raise BadURL(f"longer than {max_length} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadURL(str(exc)) from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise BadURL(f"scheme {scheme or '(none)'!r} is not http or https")
    if not parts.hostname:
        raise BadURL("no host")
    host = _idna(parts.hostname)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _PATH_SESSION.sub("", parts.path) or "/"
    trailing = path.endswith("/")
    path = posixpath.normpath(path)
    path = "/" if path in (".", "/", "//") else path.replace("//", "/")
    if trailing and not path.endswith("/"):
        path += "/"
    path = _normalise_escapes(path, _SAFE_PATH)
    stripped = {p.lower() for p in strip_params}
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in stripped and not k.lower().startswith("utm_")]
    query = urlencode(pairs, quote_via=quote, safe=_SAFE_QUERY)
    result = urlunsplit((scheme, netloc, path, query, ""))
    if len(result) > max_length:
        raise BadURL(f"longer than {max_length} characters")
    return result


def page_key(fetch_url: str) -> str:
    """The identity of a cleaned URL's page: ``host[:port]/path[?sorted query]``, no scheme or www."""
    parts = urlsplit(fetch_url)
    netloc = parts.netloc
    if netloc.startswith("www."):
        netloc = netloc[4:]
    path = parts.path.rstrip("/") or "/"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)), quote_via=quote, safe=_SAFE_QUERY)
    return netloc + path + (f"?{query}" if query else "")


def authority(url: str) -> str:
    """``host[:port]`` of a cleaned URL: the unit of politeness and of robots.txt."""
    return urlsplit(url).netloc


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def site_host(url: str) -> str:
    """``host[:port]`` without ``www.`` of a cleaned URL: ``www.x.ch`` and ``x.ch`` are one site."""
    netloc = urlsplit(url).netloc
    return netloc[4:] if netloc.startswith("www.") else netloc


def resolve(base: str, href: str) -> str | None:
    """An absolute URL for a link, or None for links that are not pages (mailto:, javascript:, #)."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    scheme = href.split(":", 1)[0].lower() if ":" in href.split("/", 1)[0] else ""
    if scheme and scheme not in SCHEMES:
        return None
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def trap_reason(url: str, *, max_path_segments: int = 12, max_repeated_segment: int = 2) -> str | None:
    """Why ``url`` looks like a crawler trap (endless calendar, repeating path), or None."""
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if len(segments) > max_path_segments:
        return "trap_deep_path"
    counts: dict[str, int] = {}
    for seg in segments:
        counts[seg] = counts.get(seg, 0) + 1
        if counts[seg] > max_repeated_segment:
            return "trap_repeated_segment"
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if _CAL_KEYS.match(key) and _DATE_VALUE.match(value.strip()):
            return "trap_calendar"
    if _CAL_WORDS.search(parts.path) and any(_DATE_SEGMENT.match(s) for s in segments[1:]):
        return "trap_calendar"
    return None
