"""The dashboard's wiring: templates, sessions, the logged-in viewer as a Principal, HTML
answers with strict security headers, and the handlers for "log in first" and "not found"."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.auth import ManagedParties, Principal
from api.dashboard.session import Session, Sessions, StoredFailures
from api.users import get_user
from ledger.application import NotFound, RoyaltyLedger
from ledger.domain.money import format_micros
from ledger.domain.user_account import UserAccount

HERE = Path(__file__).parent
USER_TTL_S = 2.0
MODELS = ("catalogue", "stats", "earnings")
PAGE_CACHE = 512
# Everything from this server, nothing inline but the SVG the server drew; no frames.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


class LoginRequired(Exception):
    """No session, or one that expired, was ended or whose user is disabled: go to /login."""


class PageNotFound(Exception):
    """A page about something unknown or outside the viewer's scope (the same answer for both)."""


def not_found(what: str) -> PageNotFound:
    return PageNotFound(what)


@dataclass(frozen=True)
class Viewer:
    session: Session
    user: UserAccount
    principal: Principal
    app: RoyaltyLedger


class Site:
    def __init__(self, app: RoyaltyLedger, read_side: Any, scopes: ManagedParties) -> None:
        self.app = app
        self.read_side = read_side
        self.scopes = scopes
        self.sessions = Sessions(failures=StoredFailures(read_side.db))
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]), auto_reload=False
        )
        self.env.filters["micros"] = format_micros
        self._users: dict[str, tuple[UserAccount, float]] = {}
        self._pages: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def db(self) -> Any:
        return self.read_side.db()

    def positions(self) -> tuple[int, ...]:
        """The read models' positions, read now (one indexed read each): a reload after a fold
        shows it."""
        return tuple(self.read_side.position([m]) for m in MODELS)

    def cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """A page's figures, kept per (question, read-model positions): exact, never stale —
        they cannot change until a position moves (the API's answers are cached the same way)."""
        with self._lock:
            if key in self._pages:
                return self._pages[key]
        value = compute()
        with self._lock:
            if len(self._pages) >= PAGE_CACHE:
                self._pages.pop(next(iter(self._pages)))
            self._pages[key] = value
        return value

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def user(self, username: str) -> UserAccount | None:
        now = time.monotonic()
        with self._lock:
            cached = self._users.get(username)
        if cached and cached[1] > now:
            return cached[0]
        try:
            user = get_user(self.app, username)
        except NotFound:
            return None
        with self._lock:
            self._users[username] = (user, now + USER_TTL_S)
        return user


def html(body: str, status: int = 200) -> Response:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def viewer(request: Request) -> Viewer:
    """The logged-in user as a Principal (a plain def: FastAPI runs it in a worker thread)."""
    site: Site = request.app.state.dashboard
    session = site.sessions.read(request)
    if session is None:
        raise LoginRequired
    user = site.user(session.username)
    if user is None or user.disabled:
        raise LoginRequired
    scope = site.scopes.scope_of(user.party_key) if user.party_key else frozenset()
    principal = Principal(
        key_id=f"user:{user.username}",
        role=user.role,
        party_key=user.party_key,
        scope=scope,
        operator=f"user:{user.username}" + (f"/{user.party_key}" if user.party_key else ""),
    )
    return Viewer(session, user, principal, site.app)


def install(app: FastAPI, ledger: RoyaltyLedger, read_side: Any, scopes: ManagedParties) -> None:
    from api.dashboard import content_pages, dispute_pages, more_pages, pages, profile_pages

    app.state.dashboard = Site(ledger, read_side, scopes)
    app.include_router(pages.router)
    app.include_router(more_pages.router)
    app.include_router(content_pages.router)
    app.include_router(profile_pages.router)
    app.include_router(dispute_pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="dashboard-static")

    @app.exception_handler(LoginRequired)
    def login_first(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(PageNotFound)
    def page_not_found(request: Request, exc: PageNotFound) -> Response:
        site: Site = request.app.state.dashboard
        return html(site.render("error.html", who=None, message=f"{exc}: not found"), 404)
