"""Who is asking, and whether a form came from this server's own page.

Identity (needed to decide, and to see non-public statuses in the API), first match wins:

1. ``Authorization: Basic base64(name:token)``, a configured reviewer and their token;
2. ``Authorization: Bearer <token>``, the reviewer owning that token;
3. the ``s3text_session`` cookie that ``POST /login`` sets: ``base64url(name).expires.signature``,
   the signature an HMAC-SHA256 keyed with the reviewer's token (changing a token ends its sessions).

Tokens are compared with :func:`hmac.compare_digest`. An ``Authorization`` header that does not
match is a 401, never a fall-back to the cookie; a client with too many failures is refused (429)
for a while. Tokens are never logged or put in a page.

CSRF protection is a signed double submit: the ``s3text_csrf`` cookie (HttpOnly, SameSite=Strict)
holds a random nonce, every form carries HMAC(server secret, nonce), and a POST passes only when
its field matches the cookie (compare_digest) and its ``Origin``/``Sec-Fetch-Site``, when sent,
name this server. The secret is drawn when the server starts: a restart expires open forms.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

from fastapi import HTTPException, Request
from pydantic import SecretStr

SESSION_COOKIE = "s3text_session"
CSRF_COOKIE = "s3text_csrf"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 12 * 3600
MAX_FAILURES = 10  # per client within FAILURE_WINDOW seconds, then 429
FAILURE_WINDOW = 300.0
MAX_CLIENTS = 10_000  # clients remembered with failures, at most (then old ones are forgotten)
REALM = 'Basic realm="s3text reviewers", charset="UTF-8"'


@dataclass(frozen=True)
class Reviewer:
    name: str
    method: Literal["basic", "bearer", "session"]


def unauthorized(message: str = "Sign in as a reviewer to do this.") -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": REALM})


class Guard:
    def __init__(self, tokens: dict[str, SecretStr], secret: bytes | None = None) -> None:
        self._tokens = {name: t.get_secret_value().encode() for name, t in tokens.items()}
        self._secret = secret or secrets.token_bytes(32)
        self._failures: dict[str, deque[float]] = {}
        self._mutex = threading.Lock()

    @property
    def reviewers(self) -> list[str]:
        return sorted(self._tokens)

    # -- identity -----------------------------------------------------------------------------
    def identify(self, request: Request) -> Reviewer | None:
        """The reviewer behind the request, None when anonymous; 401 for a wrong Authorization
        header, 429 for a client that failed too often."""
        client = request.client.host if request.client else "?"
        header = request.headers.get("authorization")
        if header is None:
            return self._from_session(request.cookies.get(SESSION_COOKIE))
        self._refuse_if_throttled(client)
        scheme, _, value = header.partition(" ")
        scheme, value = scheme.lower(), value.strip()
        name: str | None = None
        if scheme == "basic":
            user, token = _basic(value)
            name = user if user is not None and self.check(user, token) else None
        elif scheme == "bearer":
            name = self._owner(value.encode())
        if name is None:
            self.failed(client)
            raise unauthorized("Unknown reviewer or wrong token.")
        return Reviewer(name, "basic" if scheme == "basic" else "bearer")

    def check(self, name: str, token: str) -> bool:
        expected = self._tokens.get(name)
        # compare against something of the same kind even for an unknown name: no timing hint
        ok = hmac.compare_digest(token.encode(), expected if expected is not None else secrets.token_bytes(32))
        return ok and expected is not None

    def _owner(self, token: bytes) -> str | None:
        found = None
        for name, expected in self._tokens.items():  # no early exit: the time does not tell which
            if hmac.compare_digest(token, expected):
                found = name
        return found

    # -- sessions -----------------------------------------------------------------------------
    def session_cookie(self, name: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + SESSION_SECONDS)
        label = base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
        return f"{label}.{expires}.{self._sign_session(name, expires)}"

    def _sign_session(self, name: str, expires: int) -> str:
        return hmac.new(self._tokens[name], f"s3text-session|{name}|{expires}".encode(), hashlib.sha256).hexdigest()

    def _from_session(self, value: str | None) -> Reviewer | None:
        if not value or value.count(".") != 2:
            return None
        label, expires_text, signature = value.split(".")
        try:
            name = base64.urlsafe_b64decode(label + "=" * (-len(label) % 4)).decode()
            expires = int(expires_text)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        if name not in self._tokens or expires < time.time():
            return None
        if not hmac.compare_digest(signature, self._sign_session(name, expires)):
            return None
        return Reviewer(name, "session")

    # -- throttling ---------------------------------------------------------------------------
    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._mutex:
            if len(self._failures) > MAX_CLIENTS:  # forget clients whose failures are old
                self._failures = {c: d for c, d in self._failures.items() if d and now - d[-1] < FAILURE_WINDOW}
            self._failures.setdefault(client, deque(maxlen=MAX_FAILURES)).append(now)

    def _refuse_if_throttled(self, client: str) -> None:
        with self._mutex:
            recent = self._failures.get(client)
            blocked = (recent is not None and len(recent) >= MAX_FAILURES
                       and time.monotonic() - recent[0] < FAILURE_WINDOW)
        if blocked:
            raise HTTPException(status_code=429, detail="Too many failed sign-ins; wait a few minutes.",
                                headers={"Retry-After": str(int(FAILURE_WINDOW))})

    def refuse_if_throttled(self, request: Request) -> None:
        self._refuse_if_throttled(request.client.host if request.client else "?")

    # -- CSRF ---------------------------------------------------------------------------------
    def csrf_nonce(self, request: Request) -> tuple[str, bool]:
        """The request's CSRF nonce and whether it is new (then the response must set the cookie)."""
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if 20 <= len(nonce) <= 100 and nonce.replace("-", "").replace("_", "").isalnum():
            return nonce, False
        return secrets.token_urlsafe(32), True

    def csrf_token(self, nonce: str) -> str:
        return hmac.new(self._secret, f"s3text-csrf|{nonce}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, request: Request, submitted: str | None) -> bool:
        nonce = request.cookies.get(CSRF_COOKIE)
        if not nonce or not submitted:
            return False
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
            return False
        if request.headers.get("sec-fetch-site") == "cross-site":
            return False
        return hmac.compare_digest(submitted.encode(), self.csrf_token(nonce).encode())


def _basic(value: str) -> tuple[str | None, str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, ""
    user, sep, token = decoded.partition(":")
    return (user, token) if sep else (None, "")


def safe_next(target: str | None) -> str:
    """A local path to go back to after signing in; anything else (``//evil``, ``https:``) is ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(ch) < 32 for ch in target):
        return "/"
    return target
