"""Dashboard sessions: a signed cookie (HttpOnly, SameSite=Lax, Secure behind TLS), a CSRF token
per session checked on every form, login rate limiting (counted in the database) and logout.

The cookie holds the username, an expiry, a session id and the CSRF token, signed with
HMAC-SHA256 under ROYALTY_SESSION_SECRET (a random secret per process when unset: sessions then
end when the server restarts; set it when running several workers). Each request re-reads the
user from the log (cached for a few seconds), so a disabled user's sessions end at once.
Logout records the session id as ended (in this process, until the cookie would have expired).
Failed logins are counted in the database (`login_failures`), so the rate limit holds across
processes and workers.
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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


class MemoryFailures:
    """Failed logins counted in this process's memory (one process, or tests without a store)."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def throttled(self, keys: tuple[str, ...], now: float) -> int:
        wait = 0
        with self._lock:
            for key in keys:
                found = self._failures.get(key)
                while found and found[0] < now - FAILURE_WINDOW_S:
                    found.popleft()
                if found and len(found) >= MAX_FAILURES:
                    wait = max(wait, int(found[0] + FAILURE_WINDOW_S - now) + 1)
        return wait

    def failed(self, keys: tuple[str, ...], now: float) -> None:
        with self._lock:
            if len(self._failures) > 100_000:
                self._failures.clear()
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, keys: tuple[str, ...]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


class StoredFailures:
    """Failed logins counted in the database (`login_failures`, migration 0017): every server
    process and worker sees the same counts. Keys are stored as SHA-256 hashes only."""

    def __init__(self, db: Callable[[], Any]) -> None:
        self._db = db

    @staticmethod
    def _hash(key: str) -> str:
        return hashlib.sha256(f"royalty-login:{key}".encode()).hexdigest()

    def throttled(self, keys: tuple[str, ...], now: float) -> int:
        hashes = [self._hash(k) for k in keys]
        since = int((now - FAILURE_WINDOW_S) * 1_000_000)
        rows = self._db().execute(
            "SELECT key_hash, COUNT(*), MIN(failed_at_us) FROM login_failures "
            f"WHERE key_hash IN ({','.join('?' * len(hashes))}) AND failed_at_us >= ? GROUP BY key_hash",
            [*hashes, since],
        )
        wait = 0
        for _key, count, first in rows:
            if int(count) >= MAX_FAILURES:
                wait = max(wait, int(int(first) / 1_000_000 + FAILURE_WINDOW_S - now) + 1)
        return wait

    def failed(self, keys: tuple[str, ...], now: float) -> None:
        db = self._db()
        at = int(now * 1_000_000)
        for key in keys:
            db.execute("INSERT INTO login_failures (key_hash, failed_at_us) VALUES (?, ?)", [self._hash(key), at])
        db.execute("DELETE FROM login_failures WHERE failed_at_us < ?", [at - FAILURE_WINDOW_S * 1_000_000])

    def succeeded(self, keys: tuple[str, ...]) -> None:
        hashes = [self._hash(k) for k in keys]
        self._db().execute(f"DELETE FROM login_failures WHERE key_hash IN ({','.join('?' * len(hashes))})", hashes)


class Sessions:
    def __init__(self, secret: str | None = None, failures: MemoryFailures | StoredFailures | None = None) -> None:
        raw = secret or os.environ.get(SECRET_ENV) or secrets.token_urlsafe(32)
        self._key = hashlib.sha256(raw.encode()).digest()
        self._ended: dict[str, int] = {}
        self._failures = failures or MemoryFailures()
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
        return self._failures.throttled(keys, time.time())

    def failed(self, *keys: str) -> None:
        self._failures.failed(keys, time.time())

    def succeeded(self, *keys: str) -> None:
        self._failures.succeeded(keys)


def same_token(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given), expected)
