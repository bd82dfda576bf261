"""Disputes: a party opens one, a dispute handler admits, refuses or resolves it; both read it back.

Standing (DESIGN "Who may change who is paid"): a dispute opened by a party key moves money only
if the claimant is credited on the subject or holds or held a share of it; otherwise it is
*pending* — no escrow — until an admin or dispute handler admits it. One opened by an admin or a
dispute handler is admitted at once.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, PrincipalDep, require, scoped_party
from api.positions import capture_writes, wait_for_position
from api.routers.splits import subject_of
from api.schemas.rights import (
    DisputeCreate,
    DisputeDecisionCreate,
    DisputePublic,
    DisputeResolutionCreate,
    DisputeWritten,
)
from api.scope import VisibleDispute
from ledger.domain.dispute import Dispute

router = APIRouter(tags=["disputes"], route_class=ConflictRetryRoute)

Claimant = Annotated[str, Depends(scoped_party("admin", "dispute_handler"))]
OPERATORS = ("admin", "dispute_handler")
Handler = Annotated[Principal, Depends(require(*OPERATORS))]
Reader = Annotated[Principal, Depends(require("admin", "dispute_handler", "auditor", "accountant", "party"))]
MinPosition = Annotated[int | None, Query(ge=0, description="Wait until the log holds this.")]


def dispute_public(d: Dispute) -> DisputePublic:
    return DisputePublic(
        dispute_id=str(d.id),
        right=d.right,
        subject_key=d.subject_key,
        claimant=d.claimant,
        respondent=d.respondent,
        claimed_ppm=d.claimed_ppm,
        effective_from=d.effective_from,
        statement=d.statement,
        status=d.status,
        standing=d.standing,
        decision_note=d.decision_note,
        outcome=d.outcome,
        awarded_ppm=d.awarded_ppm,
        resolution_note=d.resolution_note,
        escrow_account=d.escrow_account,
    )


@router.post("/v1/parties/{party_key}/disputes", response_model=DisputeWritten, status_code=201)
def open_dispute(party_key: Claimant, body: DisputeCreate, app: LedgerDep, principal: PrincipalDep) -> DisputeWritten:
    """Open a dispute with `party_key` as claimant. While it is open, the claimed share of the
    subject's earnings from `effective_from` goes to the dispute's escrow account. A party key's
    dispute is open only if the claimant is credited on the subject or holds or held a share of
    it; otherwise it is `pending` and moves no money until an admin or dispute handler admits it.
    The claim is at most what a named respondent holds (else what the claimant does not hold),
    and only an admin or dispute handler may date it before the end of the latest closed period."""
    subject = subject_of(body.right, body.subject_key)
    with capture_writes() as written:
        dispute = app.open_dispute(
            body.right,
            subject,
            party_key,
            body.claimed_ppm,
            body.effective_from,
            body.statement,
            principal.actor,
            body.respondent,
            by_operator=principal.role in OPERATORS,
        )
    return DisputeWritten(position=written.position(app), changed=True, dispute=dispute_public(dispute))


@router.get("/v1/disputes/{dispute_id}", response_model=DisputePublic)
def get_dispute(
    dispute: VisibleDispute, app: LedgerDep, principal: Reader, min_position: MinPosition = None
) -> DisputePublic:
    """One dispute. A party key sees disputes its parties are claimant or respondent in."""
    wait_for_position(app, min_position)
    return dispute_public(dispute)


@router.post("/v1/disputes/{dispute_id}/admission", response_model=DisputeWritten)
def admit(dispute_id: UUID, body: DisputeDecisionCreate, app: LedgerDep, principal: Handler) -> DisputeWritten:
    """Admit a pending dispute (an admin or dispute handler, with a reason): from this position on
    it escrows the claimed share, as if opened with standing."""
    with capture_writes() as written:
        dispute = app.admit_dispute(dispute_id, body.reason, principal.actor)
    return DisputeWritten(position=written.position(app), changed=True, dispute=dispute_public(dispute))


@router.post("/v1/disputes/{dispute_id}/refusal", response_model=DisputeWritten)
def refuse(dispute_id: UUID, body: DisputeDecisionCreate, app: LedgerDep, principal: Handler) -> DisputeWritten:
    """Refuse a pending dispute (an admin or dispute handler, with a reason): it never moves money."""
    with capture_writes() as written:
        dispute = app.refuse_dispute(dispute_id, body.reason, principal.actor)
    return DisputeWritten(position=written.position(app), changed=True, dispute=dispute_public(dispute))


@router.post("/v1/disputes/{dispute_id}/resolution", response_model=DisputeWritten)
def resolve(dispute_id: UUID, body: DisputeResolutionCreate, app: LedgerDep, principal: Handler) -> DisputeWritten:
    """Resolve: upheld, rejected or partial. With corrected shares, they are activated as a new
    split version in the same transaction; escrow is released by the outcome."""
    with capture_writes() as written:
        dispute = app.resolve_dispute(
            dispute_id,
            body.outcome,
            body.note,
            principal.actor,
            body.awarded_ppm,
            body.corrected_shares,
            body.effective_from,
        )
    return DisputeWritten(position=written.position(app), changed=True, dispute=dispute_public(dispute))


@router.get("/v1/disputes", response_model=list[DisputePublic])
def list_disputes(
    app: LedgerDep,
    principal: Reader,
    status: Annotated[Literal["pending", "open", "refused", "resolved"] | None, Query()] = None,
    min_position: MinPosition = None,
) -> list[DisputePublic]:
    """Disputes in the order they were opened, optionally only those with one status. A party
    key sees those its parties are claimant or respondent in."""
    wait_for_position(app, min_position)
    ids = dict.fromkeys(app.aggregate_ids_with(Dispute.Opened))  # type: ignore[attr-defined]
    found = [app.get_dispute(i) for i in ids]
    if principal.is_party:
        found = [d for d in found if principal.scope & ({d.claimant, d.respondent} - {None})]
    return [dispute_public(d) for d in found if status is None or d.status == status]
