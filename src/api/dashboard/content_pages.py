"""Content control in the dashboard: a release's page, where its label (or deliverer) changes its
title and date, its tracks' titles, display artists and credits, its minimum prices (everywhere
and by territory), and takes it down — everywhere or in some territories — or back up. The same
request models, checks and ledger commands as the API (`PATCH /v1/releases/{upc}`,
`PATCH /v1/recordings/{isrc}`, `PUT /v1/releases/{upc}/prices`, `POST …/takedowns`); each change
is an event with the user as actor."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.dashboard.session import same_token
from api.dashboard.site import Site, Viewer, html, not_found, viewer
from api.schemas.catalogue import AvailabilityCreate
from api.schemas.content import RecordingEdit, ReleaseEdit, ReleasePricesUpdate
from api.scope import controls_release, edits_recording, sees_release
from ledger.application import NotFound
from ledger.domain.identifiers import InvalidIdentifier
from ledger.domain.money import format_micros, parse_decimal_micros
from ledger.domain.party import DomainError
from ledger.domain.release import Release

router = APIRouter(include_in_schema=False)
ViewerDep = Annotated[Viewer, Depends(viewer)]


def _release(who: Viewer, upc: str) -> Release:
    try:
        rel = who.app.get_release(upc)
    except (NotFound, InvalidIdentifier, ValueError):
        raise not_found(f"release {upc}") from None
    if not sees_release(who.app, who.principal, rel):
        raise not_found(f"release {upc}")
    return rel


@router.get("/releases/{upc}", response_class=HTMLResponse)
def release(request: Request, who: ViewerDep, upc: str, done: str | None = None) -> Response:
    site: Site = request.app.state.dashboard
    rel = _release(who, upc)
    now = who.app.clock()
    tracks = []
    for isrc in rel.track_isrcs:
        rec = who.app.get_recording(isrc)
        credits = "\n".join(f"{c['role']} {c['party']}" for c in rec.credits)
        tracks.append({"rec": rec, "credits": credits, "editable": edits_recording(who.app, who.principal, rec, now)})
    prices = who.app.release_prices(rel.upc)
    return html(
        site.render(
            "release.html",
            who=who,
            rel=rel,
            history=rel.availability,
            controls=controls_release(who.principal, rel),
            tracks=tracks,
            minimums=_price_lines(prices),
            done=done,
        )
    )


def _price_lines(prices: dict[str, Any]) -> dict[str, str]:
    """The minimums as the form shows them: `EUR 5.00` a line; `GB EUR 3.00` by territory."""
    everywhere = [f"{c} {format_micros(m)}" for c, m in prices["minimums"].items()]
    local = [f"{t} {c} {format_micros(m)}" for t, by in prices["territory_minimums"].items() for c, m in by.items()]
    return {"everywhere": "\n".join(everywhere), "territories": "\n".join(local)}


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def _form(request: Request, who: Viewer, upc: str, csrf_token: str) -> tuple[Release, Response | None]:
    """The release when the viewer labels or delivered it (404 otherwise, as for the unknown);
    a stale form is a 403."""
    site: Site = request.app.state.dashboard
    if not same_token(csrf_token, who.session.csrf):
        return _release(who, upc), html(
            site.render("error.html", who=who, message="The form expired: reload the page."), 403
        )
    rel = _release(who, upc)
    if not controls_release(who.principal, rel):
        raise not_found(f"release {upc}")
    return rel, None


def _refused(request: Request, who: Viewer, message: str) -> Response:
    site: Site = request.app.state.dashboard
    return html(site.render("error.html", who=who, message=message), 422)


@router.post("/releases/{upc}/details")
def edit_release(
    request: Request,
    who: ViewerDep,
    upc: str,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    title: Annotated[str, Form(max_length=1000)] = "",
    release_date: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    rel, stop = _form(request, who, upc, csrf_token)
    if stop is not None:
        return stop
    try:
        body = ReleaseEdit.model_validate({"title": title.strip(), "release_date": release_date.strip() or None})
        _, changed = who.app.edit_release(
            rel.upc, who.principal.actor, title=body.title, release_date=body.release_date
        )
    except ValidationError as exc:
        return _refused(request, who, _problems(exc))
    except (DomainError, InvalidIdentifier, NotFound) as exc:
        return _refused(request, who, str(exc))
    return RedirectResponse(f"/releases/{rel.upc}?done={'details+saved' if changed else 'unchanged'}", status_code=303)


def parse_credits(text: str) -> list[dict[str, str]]:
    """One credit a line: `role party-key` (e.g. `producer alice`)."""
    credits = []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        if len(words) != 2:
            raise DomainError(f"credit {line.strip()[:80]!r}: write the role, then the party key")
        credits.append({"role": words[0], "party": words[1]})
    return credits


@router.post("/releases/{upc}/tracks/{isrc}")
def edit_track(
    request: Request,
    who: ViewerDep,
    upc: str,
    isrc: str,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    title: Annotated[str, Form(max_length=1000)] = "",
    display_artist: Annotated[str, Form(max_length=1000)] = "",
    credits: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    site: Site = request.app.state.dashboard
    if not same_token(csrf_token, who.session.csrf):
        return html(site.render("error.html", who=who, message="The form expired: reload the page."), 403)
    rel = _release(who, upc)
    if isrc not in rel.track_isrcs:
        raise not_found(f"track {isrc}")
    rec = who.app.get_recording(isrc)
    if not edits_recording(who.app, who.principal, rec, who.app.clock()):
        raise not_found(f"track {isrc}")
    try:
        body = RecordingEdit.model_validate(
            {"title": title.strip(), "display_artist": display_artist.strip(), "credits": parse_credits(credits)}
        )
        _, changed = who.app.edit_recording(
            rec.isrc,
            who.principal.actor,
            title=body.title,
            display_artist=body.display_artist,
            credits=None if body.credits is None else [c.model_dump() for c in body.credits],
        )
    except ValidationError as exc:
        return _refused(request, who, _problems(exc))
    except (DomainError, InvalidIdentifier, NotFound) as exc:
        return _refused(request, who, str(exc))
    return RedirectResponse(f"/releases/{rel.upc}?done={'track+saved' if changed else 'unchanged'}", status_code=303)


def parse_minimums(everywhere: str, territories: str) -> dict[str, Any]:
    """`EUR 5.00` lines and `GB EUR 3.00` lines → the API's body (amounts in micro-units)."""
    minimums: dict[str, int] = {}
    local: dict[str, dict[str, int]] = {}
    for line in everywhere.splitlines():
        words = line.split()
        if words:
            if len(words) != 2:
                raise DomainError(f"minimum {line.strip()[:80]!r}: write the currency, then the amount (EUR 5.00)")
            minimums[words[0].upper()] = parse_decimal_micros(words[1])
    for line in territories.splitlines():
        words = line.split()
        if words:
            if len(words) != 3:
                raise DomainError(f"minimum {line.strip()[:80]!r}: write the territory, currency, amount (GB EUR 3.00)")
            local.setdefault(words[0].upper(), {})[words[1].upper()] = parse_decimal_micros(words[2])
    return {"minimums": minimums, "territory_minimums": local}


@router.post("/releases/{upc}/prices")
def edit_prices(
    request: Request,
    who: ViewerDep,
    upc: str,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    minimums: Annotated[str, Form(max_length=5000)] = "",
    territory_minimums: Annotated[str, Form(max_length=20_000)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    rel, stop = _form(request, who, upc, csrf_token)
    if stop is not None:
        return stop
    try:
        body = ReleasePricesUpdate.model_validate({**parse_minimums(minimums, territory_minimums), "reason": reason})
        _, changed = who.app.set_release_prices(
            rel.upc,
            dict(body.minimums),
            {t: dict(m) for t, m in body.territory_minimums.items()},
            body.reason or "prices changed in the dashboard",
            who.principal.actor,
        )
    except ValidationError as exc:
        return _refused(request, who, _problems(exc))
    except (DomainError, InvalidIdentifier, NotFound, ValueError) as exc:
        return _refused(request, who, str(exc))
    return RedirectResponse(f"/releases/{rel.upc}?done={'prices+saved' if changed else 'unchanged'}", status_code=303)


@router.post("/releases/{upc}/availability")
def change_availability(
    request: Request,
    who: ViewerDep,
    upc: str,
    action: Annotated[str, Form(max_length=20)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    territories: Annotated[str, Form(max_length=2000)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    site: Site = request.app.state.dashboard
    if not same_token(csrf_token, who.session.csrf):
        return html(site.render("error.html", who=who, message="The form expired: reload the page."), 403)
    rel = _release(who, upc)
    if not controls_release(who.principal, rel) or action not in ("take-down", "reinstate"):
        raise not_found(f"release {upc}")
    codes = [t.strip().upper() for t in territories.replace(",", " ").split() if t.strip()] or ["WW"]
    try:
        body = AvailabilityCreate.model_validate({"territories": codes, "reason": reason})
        who.app.take_down(
            "release",
            rel.upc,
            body.territories,
            body.reason,
            who.app.clock(),
            who.principal.actor,
            reinstate=action == "reinstate",
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return html(site.render("error.html", who=who, message=problems), 422)
    except (DomainError, InvalidIdentifier, NotFound) as exc:
        return html(site.render("error.html", who=who, message=str(exc)), 422)
    return RedirectResponse(f"/releases/{rel.upc}?done={action}", status_code=303)
