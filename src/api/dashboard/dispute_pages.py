"""Disputes in the dashboard: a party opens one (pending without standing, as through the API);
an admin admits or refuses a pending one and resolves an open one. The API's request models and
the ledger's commands, the user as actor; CSRF on every form, 404 outside the viewer's parties."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.dashboard.session import same_token
from api.dashboard.site import Site, Viewer, html, not_found, viewer
from api.routers.splits import subject_of
from api.schemas.rights import DisputeCreate, DisputeDecisionCreate, DisputeResolutionCreate
from ledger.application import NotFound
from ledger.domain.identifiers import InvalidIdentifier
from ledger.domain.party import DomainError

router = APIRouter(include_in_schema=False)
ViewerDep = Annotated[Viewer, Depends(viewer)]
Csrf = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=10_000)]


def _answer(request: Request, who: Viewer, message: str, status: int) -> Response:
    site: Site = request.app.state.dashboard
    return html(site.render("error.html", who=who, message=message), status)


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def percent_ppm(text: str) -> int:
    """`12.5` (per cent, at most 4 decimals) → 125 000 ppm, exactly."""
    whole, _, frac = text.strip().removesuffix("%").strip().partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 4:
        raise DomainError(f"share {text!r}: a percentage with at most 4 decimals, e.g. 12.5")
    return int(whole) * 10_000 + int(frac.ljust(4, "0") or 0)


def shares_ppm(text: str) -> dict[str, int] | None:
    """`party 60` lines (per cent) → {party: ppm}; none given → None."""
    shares: dict[str, int] = {}
    for line in text.splitlines():
        words = line.split()
        if words:
            if len(words) != 2:
                raise DomainError(f"share {line.strip()[:80]!r}: write the party key, then its percentage")
            shares[words[0]] = percent_ppm(words[1])
    return shares or None


@router.post("/disputes/open")
def open_dispute(
    request: Request,
    who: ViewerDep,
    party: Annotated[str, Form(max_length=200)],
    right: Annotated[str, Form(max_length=20)],
    subject_key: Annotated[str, Form(max_length=200)],
    claimed: Annotated[str, Form(max_length=20)],
    effective_from: Annotated[str, Form(max_length=40)],
    statement: Text,
    csrf_token: Csrf = "",
    respondent: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if not same_token(csrf_token, who.session.csrf):
        return _answer(request, who, "The form expired: reload the page.", 403)
    if not who.principal.is_party or party not in who.principal.scope:
        raise not_found(f"party {party}")
    try:
        when = effective_from.strip()
        body = DisputeCreate.model_validate(
            {
                "right": right,
                "subject_key": subject_key.strip(),
                "claimed_ppm": percent_ppm(claimed),
                "effective_from": when if "T" in when else f"{when}T00:00:00Z",
                "statement": statement.strip(),
                "respondent": respondent.strip() or None,
            }
        )
        who.app.open_dispute(
            body.right,
            subject_of(body.right, body.subject_key),
            party,
            body.claimed_ppm,
            body.effective_from,
            body.statement,
            who.principal.actor,
            body.respondent,
            by_operator=False,
        )
    except ValidationError as exc:
        return _answer(request, who, _problems(exc), 422)
    except (DomainError, InvalidIdentifier, NotFound) as exc:
        return _answer(request, who, str(exc), 422)
    return RedirectResponse("/disputes?done=dispute+opened", status_code=303)


@router.post("/disputes/{dispute_id}/decision")
def decide(
    request: Request,
    who: ViewerDep,
    dispute_id: str,
    action: Annotated[str, Form(max_length=20)],
    csrf_token: Csrf = "",
    reason: Text = "",
    outcome: Annotated[str, Form(max_length=20)] = "",
    awarded: Annotated[str, Form(max_length=20)] = "",
    shares: Text = "",
) -> Response:
    """An admin admits or refuses a pending dispute, or resolves an open one."""
    if who.principal.role != "admin" or action not in ("admit", "refuse", "resolve"):
        raise not_found("page")
    if not same_token(csrf_token, who.session.csrf):
        return _answer(request, who, "The form expired: reload the page.", 403)
    try:
        ident = UUID(dispute_id)
        who.app.get_dispute(ident)
    except (ValueError, NotFound):
        raise not_found(f"dispute {dispute_id}") from None
    try:
        if action in ("admit", "refuse"):
            decision = DisputeDecisionCreate.model_validate({"reason": reason.strip()})
            command = who.app.admit_dispute if action == "admit" else who.app.refuse_dispute
            command(ident, decision.reason, who.principal.actor)
        else:
            fields: dict[str, Any] = {"outcome": outcome, "note": reason.strip()}
            if awarded.strip():
                fields["awarded_ppm"] = percent_ppm(awarded)
            corrected = shares_ppm(shares)
            if corrected is not None:
                fields["corrected_shares"] = corrected
            body = DisputeResolutionCreate.model_validate(fields)
            who.app.resolve_dispute(
                ident, body.outcome, body.note, who.principal.actor, body.awarded_ppm, body.corrected_shares
            )
    except ValidationError as exc:
        return _answer(request, who, _problems(exc), 422)
    except (DomainError, InvalidIdentifier, NotFound) as exc:
        return _answer(request, who, str(exc), 422)
    return RedirectResponse(f"/disputes?done={action}", status_code=303)
