"""A real HTTP server on a loopback address for the crawler tests: routes, faults, a request log.

Each :class:`Site` is one ``ThreadingHTTPServer`` (HTTP/1.1, keep-alive) on ``127.0.0.x`` and a
free port; the log records, on the server side, when each request arrived and when its response
was completely written, so politeness is measured where it matters.
"""

from __future__ import annotations

import gzip
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "web"
Handler = Callable[["_Handler"], None]


@dataclass
class Hit:
    path: str
    start: float  # time.monotonic() when the request line arrived
    end: float | None = None  # when the response was completely written (None: never)
    user_agent: str = ""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        hit = Hit(self.path, time.monotonic(), user_agent=self.headers.get("User-Agent", ""))
        with site.lock:
            site.log.append(hit)
        route = site.routes.get(self.path.split("#", 1)[0])
        try:
            if route is None:
                self.send(404, b"<html><body>not found</body></html>")
            elif callable(route):
                route(self)
            else:
                status, headers, body = route
                self.send(status, body, headers)
        except (BrokenPipeError, ConnectionResetError):
            return
        hit.end = time.monotonic()

    def send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        headers = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: Site

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up on purpose (size caps, deadlines) are not errors here


@dataclass
class Site:
    host: str = "127.0.0.1"
    routes: dict[str, Any] = field(default_factory=dict)
    log: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: _Server | None = None

    def start(self) -> Site:
        self._server = _Server((self.host, 0), _Handler)
        self._server.site = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- building routes --------------------------------------------------------------------------------
    def page(self, path: str, body: bytes | str, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.routes[path] = (status, headers or {}, body.encode("utf-8") if isinstance(body, str) else body)

    def handler(self, path: str, fn: Handler) -> None:
        self.routes[path] = fn

    def hits(self, path: str | None = None) -> list[Hit]:
        with self.lock:
            return [h for h in self.log if path is None or h.path == path]

    def paths(self) -> list[str]:
        return [h.path for h in self.hits()]


def html(title: str, body: str, links: list[str] = ()) -> str:  # type: ignore[assignment]
    nav = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (f"<!doctype html><html><head><title>{title}</title></head><body><nav><ul>{nav}</ul></nav>"
            f"<main><h1>{title}</h1>{body}</main></body></html>")


def words(n: int, seed: str = "alpine") -> str:
    """A paragraph long enough to pass the minimum text length, distinct per ``seed``."""
    return "<p>" + " ".join(f"{seed} precision engineering component {i}" for i in range(n)) + ".</p>"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def gzip_bomb(decoded_mb: int = 200) -> bytes:
    """Zeros that expand ~1000-fold: ``decoded_mb`` MB after gzip decoding."""
    chunk = b"\0" * 2**20
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as z:
        for _ in range(decoded_mb):
            z.write(chunk)
    return buf.getvalue()
