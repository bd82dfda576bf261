"""The dashboard's disputes page (with escrow) and the operators' page: projector lag, the audit
status (last verification, latest checkpoint, verify now), the review queue (approve, reject) and
quarantine by reason (retry) — the ledger's own commands, the user recorded as actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.dashboard.audit_status import last_verification, latest_checkpoint, verify_now
from api.dashboard.data import money
from api.dashboard.session import same_token
from api.dashboard.site import Site, Viewer, html, not_found, viewer
from ledger.application import NotFound
from ledger.domain.dispute import Dispute
from ledger.domain.identifiers import InvalidIdentifier, parse_release_key
from ledger.domain.party import DomainError
from ledger.review import review_queue
from ledger.usage.quarantine import list_quarantine, retry_quarantine
from projections import queries

router = APIRouter(include_in_schema=False)
ViewerDep = Annotated[Viewer, Depends(viewer)]
OPERATOR_ROLES = ("admin", "accountant", "auditor")


def _site(request: Request) -> Site:
    site: Site = request.app.state.dashboard
    return site


@router.get("/disputes", response_class=HTMLResponse)
def disputes(request: Request, who: ViewerDep, done: str | None = None) -> Response:
    """Disputes the viewer's parties are claimant or respondent in (operators: all), with what
    each escrow account holds now."""
    site = _site(request)
    app = who.app
    ids = dict.fromkeys(app.aggregate_ids_with(Dispute.Opened))  # type: ignore[attr-defined]
    found = [app.get_dispute(i) for i in ids]
    if who.principal.is_party:
        found = [d for d in found if who.principal.scope & ({d.claimant, d.respondent} - {None})]
    db = site.db()
    rows = []
    for d in found:
        held = queries.balance(app, db, d.escrow_account)["balances"]
        rows.append(
            {
                "id": str(d.id),
                "right": d.right,
                "subject_key": d.subject_key,
                "subject": f"{d.right} {d.subject_key}",
                "isrc": d.subject_key if d.right == "master" else None,
                "claimant": d.claimant,
                "respondent": d.respondent or "",
                "claimed": f"{d.claimed_ppm // 10_000}.{d.claimed_ppm % 10_000:04d} %",
                "status": d.status,
                "outcome": d.outcome or "",
                "escrow": ", ".join(money(b["balance_micros"], b["currency"]) for b in held) or "0",
            }
        )
    parties = sorted(who.principal.scope) if who.principal.is_party else []
    today = who.app.clock().date().isoformat()
    return html(site.render("disputes.html", who=who, disputes=rows, parties=parties, today=today, done=done))


@router.get("/operations", response_class=HTMLResponse)
def operations(request: Request, who: ViewerDep, done: str | None = None) -> Response:
    """For operators only: how far behind the read models are, what waits for review, and
    what is held in quarantine, by reason (act on them with `royalty review` and `royalty usage`)."""
    if who.principal.role not in OPERATOR_ROLES:
        raise not_found("page")
    site = _site(request)
    lag = queries.lag(who.app, site.db())
    by_reason: dict[str, int] = {}
    for row in list_quarantine(who.app):
        by_reason[row.reason] = by_reason.get(row.reason, 0) + 1
    review = [{"upc": r.upc, "title": r.title, "delivered_by": r.delivered_by or ""} for r in review_queue(who.app)]
    audit = {"last": last_verification(who.app), "checkpoint": latest_checkpoint(who.app)}
    return html(
        site.render(
            "operations.html",
            who=who,
            lag=lag,
            quarantine=sorted(by_reason.items()),
            review=review,
            audit=audit,
            done=done,
        )
    )


@router.post("/operations/audit")
def verify_audit(request: Request, who: ViewerDep, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Recompute the hash chain to the head, the usage rows and the money equation now (as
    `GET /v1/audit/status` does) and record the outcome as an audit run with the user as actor."""
    if who.principal.role not in OPERATOR_ROLES:
        raise not_found("page")
    if not same_token(csrf_token, who.session.csrf):
        return html(_site(request).render("error.html", who=who, message="The form expired: reload the page."), 403)
    outcome = verify_now(who.app, who.principal.actor, who.app.clock())
    verdict = "audit+verified+OK" if outcome["ok"] else "audit+verification+found+problems"
    return RedirectResponse(f"/operations?done={verdict}", status_code=303)


def _admin_form(request: Request, who: Viewer, csrf_token: str) -> Response | None:
    """The answer that stops an operator's form (403, 404), or None to go on."""
    site = _site(request)
    if who.principal.role != "admin":
        raise not_found("page")
    if not same_token(csrf_token, who.session.csrf):
        return html(site.render("error.html", who=who, message="The form expired: reload the page."), 403)
    return None


@router.post("/operations/review")
def decide_review(
    request: Request,
    who: ViewerDep,
    upc: Annotated[str, Form(max_length=20)],
    decision: Annotated[str, Form(max_length=10)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Approve (it goes live) or reject a release in review; recorded with the user as reviewer."""
    stop = _admin_form(request, who, csrf_token)
    if stop is not None:
        return stop
    if decision not in ("approved", "rejected"):
        raise not_found("decision")
    try:
        who.app.decide_review(parse_release_key(upc), decision, reason, who.principal.actor)
    except (NotFound, DomainError, InvalidIdentifier) as exc:
        return html(_site(request).render("error.html", who=who, message=str(exc)), 422)
    return RedirectResponse("/operations?done=" + decision, status_code=303)


@router.post("/operations/quarantine-retry")
def retry_held(request: Request, who: ViewerDep, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Re-submit every quarantined row against today's catalogue and pricing."""
    stop = _admin_form(request, who, csrf_token)
    if stop is not None:
        return stop
    try:
        summary = retry_quarantine(who.app, actor=who.principal.actor).to_dict()
    except (DomainError, ValueError) as exc:
        return html(_site(request).render("error.html", who=who, message=str(exc)), 422)
    return RedirectResponse(f"/operations?done=retried+{summary.get('accepted', 0)}+rows", status_code=303)
