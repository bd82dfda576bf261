"""The dashboard's disputes page (with escrow) and the operators' page (projector lag, review
queue, quarantine by reason): read-only views of what the API and CLI act on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.dashboard.data import money
from api.dashboard.site import Site, Viewer, html, not_found, viewer
from ledger.domain.dispute import Dispute
from ledger.review import review_queue
from ledger.usage.quarantine import list_quarantine
from projections import queries

router = APIRouter(include_in_schema=False)
ViewerDep = Annotated[Viewer, Depends(viewer)]
OPERATOR_ROLES = ("admin", "accountant", "auditor")


def _site(request: Request) -> Site:
    site: Site = request.app.state.dashboard
    return site


@router.get("/disputes", response_class=HTMLResponse)
def disputes(request: Request, who: ViewerDep) -> Response:
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
    return html(site.render("disputes.html", who=who, disputes=rows))


@router.get("/operations", response_class=HTMLResponse)
def operations(request: Request, who: ViewerDep) -> Response:
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
    return html(site.render("operations.html", who=who, lag=lag, quarantine=sorted(by_reason.items()), review=review))
