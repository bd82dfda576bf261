"""The dashboard's pages at `/`: login, overview with live earnings, statements, splits and
credits, catalogue search. Server-rendered (Jinja2); one small script for the live figures.

Every page acts as a Principal built from the logged-in user — a party user sees its party and
the parties it manages, with the same scope rules as a party API key — and every form carries
the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.dashboard import data
from api.dashboard.session import same_token
from api.dashboard.site import Site, Viewer, html, not_found, viewer
from api.routers.splits import subject_of
from api.scope import sees_recording
from api.trail import ownership_trail
from api.users import verify_login
from ledger.application import NotFound
from ledger.domain.identifiers import InvalidIdentifier
from ledger.domain.party import DomainError
from projections import browse, queries

router = APIRouter(include_in_schema=False)
ViewerDep = Annotated[Viewer, Depends(viewer)]
LIVE_EVERY_S = 1.0
LIVE_FOR_S = 600.0  # a stream ends after this; the browser's EventSource reconnects by itself


def _site(request: Request) -> Site:
    site: Site = request.app.state.dashboard
    return site


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    site = _site(request)
    token = site.sessions.login_token(request)
    response = html(site.render("login.html", request=request, csrf=token, error=None))
    site.sessions.set_login_token(response, request, token)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    site = _site(request)
    token = request.cookies.get("royalty_login_csrf", "")
    if not token or not same_token(csrf_token, token):
        return _login_again(site, request, "The form expired: please try again.", 403)
    client = f"ip:{request.client.host if request.client else '-'}"
    name = f"user:{username.strip().lower()}"
    wait = site.sessions.throttled(client, name)
    if wait:
        response = _login_again(site, request, f"Too many failed logins: try again in {wait} s.", 429)
        response.headers["Retry-After"] = str(wait)
        return response
    user = verify_login(site.app, username, password)
    if user is None:
        site.sessions.failed(client, name)
        return _login_again(site, request, "Wrong username or password.", 401)
    site.sessions.succeeded(client, name)
    response = RedirectResponse("/", status_code=303)
    site.sessions.issue(response, request, user.username)
    return response


def _login_again(site: Site, request: Request, error: str, status: int) -> Response:
    token = site.sessions.login_token(request)
    response = html(site.render("login.html", request=request, csrf=token, error=error), status)
    site.sessions.set_login_token(response, request, token)
    return response


@router.post("/logout")
def logout(request: Request, who: ViewerDep, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    if not same_token(csrf_token, who.session.csrf):
        return html(_site(request).render("error.html", who=who, message="The form expired."), 403)
    response = RedirectResponse("/login", status_code=303)
    _site(request).sessions.end(response, who.session)
    return response


def _party(who: Viewer, party: str | None) -> str | None:
    """The party a page is about: the user's own by default, or one it manages (?party=)."""
    if party is None:
        return who.principal.party_key
    if who.principal.is_party and party not in who.principal.scope:
        raise not_found(f"party {party}")
    if not who.principal.is_party:
        try:
            who.app.require_parties([party])
        except NotFound:
            raise not_found(f"party {party}") from None
    return party


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, who: ViewerDep, party: str | None = None, by: str = "day") -> Response:
    site = _site(request)
    chosen = _party(who, party)
    if chosen is None:  # an operator: pick a party first
        parties = browse.search(site.db(), "parties", browse.Filters(), limit=200)["items"]
        return html(site.render("parties.html", who=who, parties=parties))
    if by not in data.SPANS:
        by = "day"
    now = who.app.clock()
    key = ("overview", chosen, by, now.date(), site.positions())
    page = site.cached(key, lambda: data.overview(who.app, site.db(), chosen, by, now))
    return html(site.render("overview.html", who=who, page=page, parties=sorted(who.principal.scope)))


@router.get("/live")
async def live(request: Request, who: ViewerDep, party: str | None = None) -> Response:
    """Server-sent events: the overview's live figures, each time the earnings model moves."""
    site = _site(request)
    chosen = _party(who, party)
    if chosen is None:
        raise not_found("party")

    async def events() -> AsyncIterator[str]:
        last = None
        waited = 0.0
        yield "retry: 2000\n\n"
        while waited < LIVE_FOR_S and not await request.is_disconnected():
            figures = await run_in_threadpool(data.live_figures, who.app, site.db(), chosen, who.app.clock())
            if figures != last:
                last = figures
                yield f"data: {json.dumps(figures)}\n\n"
            await asyncio.sleep(LIVE_EVERY_S)
            waited += LIVE_EVERY_S

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/statements", response_class=HTMLResponse)
def statements(request: Request, who: ViewerDep, party: str | None = None) -> Response:
    site = _site(request)
    chosen = _party(who, party)
    if chosen is None:
        return RedirectResponse("/", status_code=303)
    months = data.statement_months(site.db(), chosen, who.app.clock())
    return html(site.render("statements.html", who=who, party=chosen, months=months))


@router.get("/statements/{period}.{fmt}")
def statement_download(request: Request, who: ViewerDep, period: str, fmt: str, party: str | None = None) -> Response:
    chosen = _party(who, party)
    if chosen is None or fmt not in data.MEDIA:
        raise not_found("statement")
    try:
        content, name = data.statement_file(who.app, chosen, period, fmt)
    except ValueError:
        raise not_found(f"statement {period}") from None
    return Response(
        content, media_type=data.MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _proposals(who: Viewer) -> list[dict[str, Any]]:
    parties = sorted(who.principal.scope) if who.principal.is_party else []
    out = []
    for party in parties:
        for agreement, number in who.app.proposals_awaiting(party):
            version = agreement.get_version(number)
            out.append(
                {
                    "party": party,
                    "right": agreement.right,
                    "subject_key": agreement.subject_key,
                    "version": number,
                    "shares": sorted(version["shares"].items()),
                    "effective_from": version["effective_from"],
                    "proposed_by": version["proposed_by"],
                    "reason": version["reason"],
                    "accepted_by": sorted(version["accepted_by"]),
                }
            )
    return out


@router.get("/splits", response_class=HTMLResponse)
def splits(request: Request, who: ViewerDep, done: str | None = None) -> Response:
    site = _site(request)
    party = who.principal.party_key
    recordings = []
    if party is not None:
        found = browse.search(site.db(), "recordings", browse.Filters(), scope=who.principal.scope, limit=200)
        recordings = found["items"]
    return html(site.render("splits.html", who=who, proposals=_proposals(who), recordings=recordings, done=done))


@router.post("/splits/decision")
def split_decision(
    request: Request,
    who: ViewerDep,
    party: Annotated[str, Form(max_length=100)],
    right: Annotated[str, Form(max_length=20)],
    subject_key: Annotated[str, Form(max_length=100)],
    version: Annotated[int, Form(ge=1)],
    decision: Annotated[str, Form(max_length=10)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    site = _site(request)
    if not same_token(csrf_token, who.session.csrf):
        return html(site.render("error.html", who=who, message="The form expired: reload the page."), 403)
    if not who.principal.is_party or party not in who.principal.scope or decision not in ("accept", "refuse"):
        raise not_found("proposal")
    try:
        subject = subject_of(right, subject_key)
        if decision == "accept":
            who.app.accept_split(right, subject, version, party, who.principal.actor)
        else:
            who.app.refuse_split(
                right, subject, version, party, reason or "refused in the dashboard", who.principal.actor
            )
    except (DomainError, InvalidIdentifier, NotFound) as exc:
        return html(site.render("error.html", who=who, message=str(exc)), 422)
    return RedirectResponse(f"/splits?done={decision}", status_code=303)


@router.get("/recordings/{isrc}", response_class=HTMLResponse)
def recording(request: Request, who: ViewerDep, isrc: str) -> Response:
    site = _site(request)
    try:
        rec = who.app.get_recording(isrc.upper())
    except (NotFound, InvalidIdentifier, ValueError):
        raise not_found(f"recording {isrc}") from None
    if not sees_recording(who.app, who.principal, rec):
        raise not_found(f"recording {isrc}")
    doc = queries.recording(site.db(), rec.isrc) or {"isrc": rec.isrc, "title": rec.title, "credits": []}
    trail = ownership_trail(who.app, "master", rec.isrc)
    history = who.app.find_split("master", rec.isrc)
    versions = history.versions if history is not None else []
    return html(site.render("recording.html", who=who, rec=doc, trail=trail, versions=versions))


@router.get("/catalogue", response_class=HTMLResponse)
def catalogue(
    request: Request,
    who: ViewerDep,
    kind: str = "recordings",
    q: str | None = None,
    credit: str | None = None,
    role: str | None = None,
    cursor: str | None = None,
) -> Response:
    site = _site(request)
    scope = who.principal.scope if who.principal.is_party else None
    if kind not in ("recordings", "releases", "works"):
        kind = "recordings"
    try:
        found = browse.search(
            site.db(), kind, browse.Filters(q or None, None, credit or None, role or None), scope=scope, cursor=cursor
        )
    except ValueError as exc:
        return html(site.render("error.html", who=who, message=str(exc)), 422)
    query = {"kind": kind, "q": q or "", "credit": credit or "", "role": role or ""}
    return html(site.render("catalogue.html", who=who, found=found, query=query))


@router.get("/people/{party_key}", response_class=HTMLResponse)
def person(request: Request, who: ViewerDep, party_key: str) -> Response:
    """What a person composed, wrote, produced, engineered or performed (within the viewer's scope)."""
    site = _site(request)
    scope = who.principal.scope if who.principal.is_party else None
    db = site.db()
    rows = db.execute("SELECT name, kinds FROM cat_parties WHERE party_key = ?", [party_key])
    if not rows:
        raise not_found(f"party {party_key}")
    recordings = browse.search(db, "recordings", browse.Filters(credit=party_key), scope=scope, limit=200)["items"]
    works = browse.search(db, "works", browse.Filters(credit=party_key), scope=scope, limit=200)["items"]
    if scope is not None and party_key not in scope and not recordings and not works:
        raise not_found(f"party {party_key}")
    by_role: dict[str, list[dict[str, Any]]] = {}
    for item in recordings:
        for credit in item["credits"]:
            if credit["party"] == party_key:
                by_role.setdefault(credit["role"], []).append(item)
    for work in works:
        for writer in work["writers"]:
            if writer["party"] == party_key:
                by_role.setdefault(str(writer.get("role") or "writer"), []).append(
                    {"title": work["title"], "work_key": work["work_key"]}
                )
    return html(site.render("person.html", who=who, name=rows[0][0], key=party_key, by_role=sorted(by_role.items())))
