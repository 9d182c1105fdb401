"""HTTP for the crawler: one guarded httpx client, per-host politeness, limits, redirects by hand.

* :class:`HostGates` holds one lock and one "not before" time per host (``host:port``): one request
  at a time per host, at least the configured delay (or the robots.txt Crawl-delay) between the end
  of one request and the start of the next; ``Retry-After`` and backoff push that time further and
  a 429 or 503 doubles the host's delay for the rest of the crawl (it never shrinks on errors).
* Every request runs under a wall-clock deadline (httpx's read timeout is per chunk: a server that
  drips one byte a second never trips it), reads at most ``max_body_bytes`` as sent and at most
  ``max_decoded_bytes`` after gzip/deflate (decompressed chunk by chunk with a bound, so a gzip bomb
  never expands in memory), and only accepts the content types asked for.
* Redirects are followed by hand, each hop re-cleaned, checked by the caller (scope, robots, SSRF
  pre-flight) and refused on a loop or after ``max_redirects`` hops.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from s3text.crawl.guard import AddressPolicy, BlockedAddressError, Resolver, system_resolver
from s3text.crawl.settings import CrawlConfig
from s3text.crawl.urls import BadURL, authority, clean, resolve

KEPT_HEADERS = ("content-type", "content-length", "content-encoding", "location", "retry-after", "x-robots-tag",
                "etag", "last-modified")
HopCheck = Callable[[str], Awaitable["FetchError | None"]]  # the caller's refusal of a redirect target


class FetchError(Exception):
    """A request that gave no usable response; ``reason`` is a short stable code for the report."""

    def __init__(self, reason: str, detail: str = "", *, retryable: bool = False, skip: bool = False) -> None:
        self.reason, self.detail, self.retryable, self.skip = reason, detail, retryable, skip
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(slots=True)
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes = b""
    attempts: int = 1
    truncated: bool = False
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and bool(self.headers.get("location"))

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@dataclass(slots=True)
class Fetched:
    """The final response after redirects, and every URL of the chain (first = asked, last = final)."""

    response: Response
    chain: list[str]

    @property
    def final_url(self) -> str:
        return self.chain[-1]


class _Gate:
    __slots__ = ("delay", "lock", "not_before")

    def __init__(self, delay: float) -> None:
        self.lock = asyncio.Lock()
        self.not_before = 0.0
        self.delay = delay


class HostGates:
    """Per-host lock and pacing shared by every worker of a crawl."""

    def __init__(self, delay: float, max_delay: float) -> None:
        self.base_delay, self.max_delay = delay, max(max_delay, delay)
        self._gates: dict[str, _Gate] = {}

    def _gate(self, host: str) -> _Gate:
        if host not in self._gates:
            self._gates[host] = _Gate(self.base_delay)
        return self._gates[host]

    def delay(self, host: str) -> float:
        return self._gate(host).delay

    def set_delay(self, host: str, seconds: float) -> None:
        gate = self._gate(host)
        gate.delay = max(gate.delay, seconds)

    def slow_down(self, host: str) -> None:
        gate = self._gate(host)
        gate.delay = min(max(gate.delay * 2, self.base_delay, 0.5), self.max_delay)

    def hold_off(self, host: str, seconds: float) -> None:
        gate = self._gate(host)
        gate.not_before = max(gate.not_before, time.monotonic() + seconds)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        gate = self._gate(host)
        async with gate.lock:
            wait = gate.not_before - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                gate.not_before = max(gate.not_before, time.monotonic() + gate.delay)


class _CappedDecoder:
    """Content-Encoding decoder that never produces more than ``limit`` bytes in all."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit, self.produced = limit, 0
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._z: zlib._Decompress | None = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS)
            self._raw_fallback = True
        else:
            raise FetchError("unsupported_encoding", encoding)

    def feed(self, data: bytes) -> bytes:
        if self._z is None:
            out = data
        else:
            try:
                out = self._inflate(data)
            except zlib.error as exc:
                if getattr(self, "_raw_fallback", False) and self.produced == 0:  # raw deflate without header
                    self._z, self._raw_fallback = zlib.decompressobj(-zlib.MAX_WBITS), False
                    out = self._inflate(data)
                else:
                    raise FetchError("bad_encoding", str(exc)) from exc
        self.produced += len(out)
        if self.produced > self.limit:
            raise FetchError("too_large_decoded", f"more than {self.limit} bytes after decompression")
        return out

    def _inflate(self, data: bytes) -> bytes:
        assert self._z is not None
        parts, room = [], self.limit - self.produced + 1
        chunk = self._z.decompress(data, room)
        parts.append(chunk)
        room -= len(chunk)
        while self._z.unconsumed_tail and room > 0:
            chunk = self._z.decompress(self._z.unconsumed_tail, room)
            parts.append(chunk)
            room -= len(chunk)
        return b"".join(parts)


def gunzip_capped(data: bytes, limit: int) -> bytes:
    """A gzip file (a ``sitemap.xml.gz``) decompressed to at most ``limit`` bytes."""
    return _CappedDecoder("gzip", limit).feed(data)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delay-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class Fetcher:
    """The crawler's HTTP client. Use as an async context manager."""

    def __init__(self, cfg: CrawlConfig, gates: HostGates, *, resolver: Resolver = system_resolver) -> None:
        self.cfg, self.gates, self.resolver = cfg, gates, resolver
        self.policy = AddressPolicy(allow_private=cfg.allow_private_addresses, allowed_networks=cfg.allowed_networks)
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Fetcher:
        from s3text.crawl.guard import GuardedTransport

        cfg = self.cfg
        limits = httpx.Limits(max_connections=max(4, 2 * cfg.max_parallel_hosts), max_keepalive_connections=
                              max(4, cfg.max_parallel_hosts), keepalive_expiry=5.0)
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(self.policy, limits=limits, resolver=self.resolver),
            timeout=httpx.Timeout(connect=cfg.connect_timeout, read=cfg.read_timeout, write=cfg.read_timeout,
                                  pool=cfg.request_deadline),
            follow_redirects=False, trust_env=False,
            headers={"User-Agent": cfg.user_agent, "Accept-Encoding": "gzip, deflate",
                     "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                     "Accept-Language": "en, de;q=0.9, it;q=0.9, fr;q=0.9, sl;q=0.9, *;q=0.5"},
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def preflight(self, url: str) -> str | None:
        """Why the host of ``url`` may not be contacted (SSRF guard), resolved now; None when it may.

        Only for a clear early reason: the connection itself checks again (see guard.py)."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        host = (parts.hostname or "").strip("[]")
        try:
            addresses = await asyncio.wait_for(self.resolver(host, parts.port or 443), self.cfg.connect_timeout)
            self.policy.check(host, addresses)
        except BlockedAddressError as exc:
            return f"blocked_address ({exc.address}: {exc.why})"
        except (OSError, TimeoutError) as exc:
            return f"dns_error ({exc})"
        return None

    # -- one request, with retries ---------------------------------------------------------------
    async def get(self, url: str, *, accept: tuple[str, ...] | None, max_decoded: int,
                  truncate: bool = False) -> Response:
        cfg, host = self.cfg, authority(url)
        for attempt in range(cfg.retries + 1):
            last = attempt == cfg.retries
            try:
                async with self.gates.slot(host):
                    response = await self._once(url, accept, max_decoded, truncate)
            except FetchError as exc:
                if exc.retryable and not last:
                    self.gates.hold_off(host, self._backoff(attempt))
                    continue
                raise
            response.attempts = attempt + 1
            if response.status in (429, 503):
                self.gates.slow_down(host)
            if response.status in cfg.retry_statuses and not last:
                wait = retry_after_seconds(response.headers.get("retry-after"))
                if wait is not None and wait > cfg.max_retry_after:
                    raise FetchError("retry_after_too_long", f"Retry-After {wait:.0f} s")
                self.gates.hold_off(host, wait if wait is not None else self._backoff(attempt))
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        base = min(self.cfg.backoff_base * 2**attempt, self.cfg.backoff_max)
        return base * random.uniform(0.75, 1.25)  # jitter, not security

    async def _once(self, url: str, accept: tuple[str, ...] | None, max_decoded: int, truncate: bool) -> Response:
        assert self._client is not None, "use Fetcher as an async context manager"
        cfg = self.cfg
        try:
            async with asyncio.timeout(cfg.request_deadline):
                request = self._client.build_request("GET", url)
                raw = await self._client.send(request, stream=True)
                try:
                    return await self._read(url, raw, accept, max_decoded, truncate)
                finally:
                    await raw.aclose()
                    self._client.cookies.clear()  # no sessions: every request is a first visit
        except TimeoutError as exc:
            raise FetchError("deadline", f"no complete response within {cfg.request_deadline:g} s",
                             retryable=True) from exc
        except BlockedAddressError as exc:
            raise FetchError("blocked_address", f"{exc.address}: {exc.why}") from exc
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", type(exc).__name__, retryable=True) from exc
        except httpx.ConnectError as exc:
            raise FetchError("connect_error", str(exc)[:200], retryable=True) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise FetchError("network_error", f"{type(exc).__name__}: {str(exc)[:200]}", retryable=True) from exc
        except httpx.HTTPError as exc:
            raise FetchError("http_error", f"{type(exc).__name__}: {str(exc)[:200]}") from exc

    async def _read(self, url: str, raw: httpx.Response, accept: tuple[str, ...] | None, max_decoded: int,
                    truncate: bool) -> Response:
        cfg = self.cfg
        headers = {k: raw.headers[k] for k in KEPT_HEADERS if k in raw.headers}
        response = Response(url, raw.status_code, headers)
        if response.is_redirect or not 200 <= raw.status_code < 300:
            return response  # the body of a redirect or an error page is never read
        ctype = response.content_type
        if accept is not None and ctype and ctype not in accept:
            raise FetchError("not_html" if "text/html" in accept else "wrong_type", ctype or "(none)", skip=True)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > cfg.max_body_bytes and not truncate:
            raise FetchError("too_large", f"Content-Length {length} > {cfg.max_body_bytes}")
        decoder = _CappedDecoder(headers.get("content-encoding", ""), max_decoded)
        parts: list[bytes] = []
        received = 0
        try:
            async for chunk in raw.aiter_raw():
                received += len(chunk)
                if received > cfg.max_body_bytes:
                    raise FetchError("too_large", f"more than {cfg.max_body_bytes} bytes")
                parts.append(decoder.feed(chunk))
        except FetchError as exc:
            if not truncate or exc.reason not in ("too_large", "too_large_decoded"):
                raise
            response.truncated = True
        response.body = b"".join(parts)[:max_decoded]
        if accept is not None and not ctype and not _looks_like_html(response.body):
            raise FetchError("not_html", "no Content-Type and no HTML markup", skip=True)
        return response

    # -- redirects -------------------------------------------------------------------------------------
    async def fetch(self, url: str, *, accept: tuple[str, ...] | None, max_decoded: int, truncate: bool = False,
                    check_hop: HopCheck | None = None) -> Fetched:
        """GET ``url`` following redirects by hand; each hop cleaned, checked, counted."""
        chain = [url]
        while True:
            response = await self.get(chain[-1], accept=accept, max_decoded=max_decoded, truncate=truncate)
            if not response.is_redirect:
                return Fetched(response, chain)
            target_raw = resolve(chain[-1], response.headers["location"])
            try:
                target = clean(target_raw or "", strip_params=self.cfg.strip_params,
                               max_length=self.cfg.max_url_length)
            except BadURL as exc:
                raise FetchError("bad_redirect", f"{response.headers['location'][:200]}: {exc}") from exc
            if target in chain:
                raise FetchError("redirect_loop", " -> ".join([*chain, target])[:500])
            if len(chain) > self.cfg.max_redirects:
                raise FetchError("too_many_redirects", f"more than {self.cfg.max_redirects} hops")
            if check_hop is not None:
                refused = await check_hop(target)
                if refused is not None:
                    raise refused
            chain.append(target)


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].lower()
    return b"<html" in head or b"<!doctype html" in head or b"<body" in head or b"<head" in head
