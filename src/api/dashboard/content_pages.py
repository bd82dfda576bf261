"""Content control in the dashboard: a release's page, where its label (or deliverer) takes it
down — everywhere or in some territories — or back up. The same validation and the same ledger
command as `POST /v1/releases/{upc}/takedowns`; each change is an event with the user as actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.dashboard.session import same_token
from api.dashboard.site import Site, Viewer, html, not_found, viewer
from api.schemas.catalogue import AvailabilityCreate
from api.scope import controls_release, sees_release
from ledger.application import NotFound
from ledger.domain.identifiers import InvalidIdentifier
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
    return html(
        site.render(
            "release.html",
            who=who,
            rel=rel,
            history=rel.availability,
            controls=controls_release(who.principal, rel),
            done=done,
        )
    )


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
