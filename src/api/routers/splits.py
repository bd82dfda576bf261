"""Split versions: propose, accept or refuse as a party, set or override-activate as an admin, read history.

Consent (DESIGN "Who may change who is paid"): a party proposes only for a subject it delivered
or holds (or held) a share of; a subject's first version also needs a delivering party's
acceptance or an admin's override; back-dating before the end of the latest closed period needs
an admin. The ledger enforces it; an admin key is the operator here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, PrincipalDep, hide_unless, require, scoped_party
from api.positions import capture_writes, wait_for_position
from api.schemas.common import Key
from api.schemas.rights import (
    Right,
    SplitAcceptanceCreate,
    SplitActivationCreate,
    SplitHistoryPublic,
    SplitProposalCreate,
    SplitProposalPublic,
    SplitRefusalCreate,
    SplitVersionCreate,
    SplitVersionPublic,
    SplitWritten,
)
from api.scope import sees_split
from ledger.application import RoyaltyLedger
from ledger.domain.identifiers import parse_isrc
from ledger.domain.split_agreement import SplitAgreement
from ledger.history import split_history

router = APIRouter(tags=["splits"], route_class=ConflictRetryRoute)

Proposer = Annotated[str, Depends(scoped_party("admin", "distributor"))]
Acceptor = Annotated[str, Depends(scoped_party("admin"))]
Setter = Annotated[Principal, Depends(require("admin", "distributor"))]
Admin = Annotated[Principal, Depends(require("admin"))]
Reader = Annotated[
    Principal, Depends(require("admin", "distributor", "party", "accountant", "auditor", "dispute_handler"))
]
MinPosition = Annotated[int | None, Query(ge=0, description="Wait until the log holds this.")]


def subject_of(right: str, subject_key: str) -> str:
    """Master splits are keyed by the recording's ISRC in its compact form."""
    return parse_isrc(subject_key) if right == "master" else subject_key


def written_split(
    app: RoyaltyLedger, agreement: SplitAgreement, version: int, position: int, changed: bool = True
) -> SplitWritten:
    status = agreement.get_version(version)["status"]
    return SplitWritten(
        position=position,
        changed=changed,
        right=agreement.right,
        subject_key=agreement.subject_key,
        version=version,
        status=status,
    )


@router.post("/v1/parties/{party_key}/split-proposals", response_model=SplitWritten, status_code=201)
def propose(party_key: Proposer, body: SplitProposalCreate, app: LedgerDep, principal: PrincipalDep) -> SplitWritten:
    """Propose a version as `party_key` (its acceptance is recorded with it). It activates
    once every affected party — new holders and holders of the version it replaces — accepts;
    a subject's first version also needs the acceptance of a party that delivered it (or an
    admin's override). `party_key` must have delivered the subject or hold or have held a share
    of it (403 `no-standing` otherwise), and only an admin back-dates before the end of the
    latest closed period."""
    subject = subject_of(body.right, body.subject_key)
    with capture_writes() as written:
        agreement, version = app.propose_split(
            body.right,
            subject,
            body.shares,
            body.effective_from,
            party_key,
            principal.actor,
            body.reason,
            body.kind,
            by_operator=principal.role == "admin",
        )
    return written_split(app, agreement, version, written.position(app))


@router.post("/v1/parties/{party_key}/split-acceptances", response_model=SplitWritten, status_code=201)
def accept(party_key: Acceptor, body: SplitAcceptanceCreate, app: LedgerDep, principal: PrincipalDep) -> SplitWritten:
    """Accept a proposed version as `party_key`; the last acceptance activates it."""
    subject = subject_of(body.right, body.subject_key)
    with capture_writes() as written:
        agreement = app.accept_split(body.right, subject, body.version, party_key, principal.actor)
    return written_split(app, agreement, body.version, written.position(app))


@router.get("/v1/parties/{party_key}/split-proposals", response_model=list[SplitProposalPublic])
def awaiting(party_key: Acceptor, app: LedgerDep, min_position: MinPosition = None) -> list[SplitProposalPublic]:
    """Proposed versions that ask for `party_key`'s acceptance and do not have it yet (as a
    holder, a new holder, or for a first version a delivering party), in the order proposed:
    what to accept or refuse. It shows the proposal only; reading the subject needs standing."""
    wait_for_position(app, min_position)
    out = []
    for agreement, number in app.proposals_awaiting(party_key):
        v = agreement.get_version(number)
        out.append(
            SplitProposalPublic(
                right=agreement.right,
                subject_key=agreement.subject_key,
                version=number,
                shares=v["shares"],
                effective_from=v["effective_from"],
                kind=v["kind"],
                reason=v["reason"],
                proposed_by=v["proposed_by"],
                required=v["required"],
                consent_from=v.get("consent_from"),
                accepted_by=sorted(v["accepted_by"]),
            )
        )
    return out


@router.post("/v1/parties/{party_key}/split-refusals", response_model=SplitWritten, status_code=201)
def refuse(party_key: Acceptor, body: SplitRefusalCreate, app: LedgerDep, principal: PrincipalDep) -> SplitWritten:
    """Refuse a proposed version as `party_key` (a party whose acceptance it asks), with a
    reason: the version can then never activate."""
    subject = subject_of(body.right, body.subject_key)
    with capture_writes() as written:
        agreement = app.refuse_split(body.right, subject, body.version, party_key, body.reason, principal.actor)
    return written_split(app, agreement, body.version, written.position(app))


SubjectKey = Annotated[Key, Path(description="An ISRC for master, a work key for publishing.")]


@router.post("/v1/splits/{right}/{subject_key}/versions", response_model=SplitWritten, status_code=201)
def set_version(
    right: Right, subject_key: SubjectKey, body: SplitVersionCreate, app: LedgerDep, principal: Setter
) -> SplitWritten:
    """Set a version and activate it at once, recorded as an override with its reason
    (initial deliveries, corrections by the operator)."""
    subject = subject_of(right, subject_key)
    with capture_writes() as written:
        agreement, version = app.set_split(
            right, subject, body.shares, body.effective_from, principal.actor, body.reason, body.kind
        )
    return written_split(app, agreement, version, written.position(app))


@router.post("/v1/splits/{right}/{subject_key}/versions/{version}/activation", response_model=SplitWritten)
def activate(
    right: Right,
    subject_key: SubjectKey,
    version: Annotated[int, Path(ge=1)],
    body: SplitActivationCreate,
    app: LedgerDep,
    principal: Admin,
) -> SplitWritten:
    """Activate a proposed version without every acceptance: an admin override with a reason."""
    subject = subject_of(right, subject_key)
    with capture_writes() as written:
        agreement = app.activate_split_override(right, subject, version, body.reason, principal.actor)
    return written_split(app, agreement, version, written.position(app))


@router.get("/v1/splits/{right}/{subject_key}", response_model=SplitHistoryPublic)
def history(
    right: Right, subject_key: SubjectKey, app: LedgerDep, principal: Reader, min_position: MinPosition = None
) -> SplitHistoryPublic:
    """Every version: shares, effective_from, who proposed, accepted or refused, the activation —
    each with its log position, recorded time and actor. A party key sees the split of a subject
    it delivered, is credited on, or holds or held a share of (a mere proposal grants nothing)."""
    wait_for_position(app, min_position)
    subject = subject_of(right, subject_key)
    app.get_split(right, subject)
    hide_unless(sees_split(app, principal, right, subject), f"{right} split of {subject}")
    versions = [SplitVersionPublic.model_validate(v) for v in split_history(app, right, subject)]
    return SplitHistoryPublic(right=right, subject_key=subject, versions=versions)
