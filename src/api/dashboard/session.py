"""Dashboard sessions: a signed cookie (HttpOnly, SameSite=Lax, Secure behind TLS), a CSRF token
per session checked on every form, login rate limiting and logout.

The cookie holds the username, an expiry, a session id and the CSRF token, signed with
HMAC-SHA256 under ROYALTY_SESSION_SECRET (a random secret per process when unset: sessions then
end when the server restarts; set it when running several workers). Each request re-reads the
user from the log (cached for a few seconds), so a disabled user's sessions end at once.
Logout records the session id as ended (in this process, until the cookie would have expired).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

SECRET_ENV = "ROYALTY_SESSION_SECRET"  # noqa: S105 - the variable's name
SECURE_ENV = "ROYALTY_SECURE_COOKIES"
SESSION_S = 12 * 3600
COOKIE = "royalty_session"
SECURE_COOKIE = "__Host-royalty_session"  # the __Host- prefix: Secure, Path=/, no Domain
LOGIN_CSRF = "royalty_login_csrf"
MAX_FAILURES, FAILURE_WINDOW_S = 5, 300


@dataclass(frozen=True)
class Session:
    username: str
    sid: str
    csrf: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def is_secure(request: Request) -> bool:
    """Secure cookies when the request came over TLS (directly or via a proxy that says so)."""
    if os.environ.get(SECURE_ENV) == "1" or request.url.scheme == "https":
        return True
    return request.headers.get("x-forwarded-proto", "").split(",")[0].strip() == "https"


class Sessions:
    def __init__(self, secret: str | None = None) -> None:
        raw = secret or os.environ.get(SECRET_ENV) or secrets.token_urlsafe(32)
        self._key = hashlib.sha256(raw.encode()).digest()
        self._ended: dict[str, int] = {}
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    # --- cookies ---

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def issue(self, response: Response, request: Request, username: str) -> Session:
        session = Session(username, secrets.token_urlsafe(16), secrets.token_urlsafe(24), int(time.time()) + SESSION_S)
        body = _b64(json.dumps([session.username, session.sid, session.csrf, session.expires]).encode())
        secure = is_secure(request)
        response.set_cookie(
            SECURE_COOKIE if secure else COOKIE,
            f"{body}.{self._sign(body)}",
            max_age=SESSION_S,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/",
        )
        response.delete_cookie(LOGIN_CSRF, path="/")
        return session

    def read(self, request: Request) -> Session | None:
        value = request.cookies.get(SECURE_COOKIE) or request.cookies.get(COOKIE)
        if not value or "." not in value:
            return None
        body, _, signature = value.partition(".")
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            username, sid, csrf, expires = json.loads(_unb64(body))
        except (ValueError, TypeError):
            return None
        if int(expires) < time.time():
            return None
        with self._lock:
            if sid in self._ended:
                return None
        return Session(str(username), str(sid), str(csrf), int(expires))

    def end(self, response: Response, session: Session | None) -> None:
        if session is not None:
            now = int(time.time())
            with self._lock:
                self._ended = {s: e for s, e in self._ended.items() if e > now}
                self._ended[session.sid] = session.expires
        for name in (COOKIE, SECURE_COOKIE):
            response.delete_cookie(name, path="/")

    # --- login CSRF (double submit: a cookie and the form's hidden field) and rate limiting ---

    def login_token(self, request: Request) -> str:
        return request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(24)

    def set_login_token(self, response: Response, request: Request, token: str) -> None:
        response.set_cookie(
            LOGIN_CSRF, token, max_age=3600, httponly=True, samesite="strict", secure=is_secure(request), path="/"
        )

    def throttled(self, *keys: str) -> int:
        """Seconds to wait when any key (client address, username) failed too often lately; 0 otherwise."""
        now = time.monotonic()
        wait = 0
        with self._lock:
            for key in keys:
                found = self._failures.get(key)
                while found and found[0] < now - FAILURE_WINDOW_S:
                    found.popleft()
                if found and len(found) >= MAX_FAILURES:
                    wait = max(wait, int(found[0] + FAILURE_WINDOW_S - now) + 1)
        return wait

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:
                self._failures.clear()
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def same_token(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given), expected)
