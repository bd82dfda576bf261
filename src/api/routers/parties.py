"""Parties: deliver (upsert) a party, add a manager, read one or the parties a key may see."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, PrincipalDep, require, scoped_party
from api.positions import capture_writes, wait_for_position
from api.schemas.catalogue import ManagerCreate, PartyCreate, PartyPublic, PartyWritten
from api.schemas.common import Key
from ledger.domain.party import Party

router = APIRouter(prefix="/v1/parties", tags=["parties"], route_class=ConflictRetryRoute)

Deliverer = Annotated[Principal, Depends(require("admin", "distributor"))]
ReadableParty = Annotated[
    str, Depends(scoped_party("admin", "distributor", "accountant", "auditor", "dispute_handler"))
]
MinPosition = Annotated[int | None, Query(ge=0, description="Wait until the log holds this.")]


@router.get("", response_model=list[PartyPublic])
def list_parties(app: LedgerDep, principal: PrincipalDep, min_position: MinPosition = None) -> list[PartyPublic]:
    """Every party this key may see: all of them, or a party key's own scope."""
    wait_for_position(app, min_position)
    if principal.is_party:
        return [PartyPublic.of(app.get_party(k)) for k in sorted(principal.scope)]
    ids = dict.fromkeys(app.aggregate_ids_with(Party.Registered))  # type: ignore[attr-defined]
    parties: list[Any] = [app.repository.get(i) for i in ids]
    return [PartyPublic.of(p) for p in sorted(parties, key=lambda p: p.key)]


@router.get("/{party_key}", response_model=PartyPublic)
def get_party(party_key: ReadableParty, app: LedgerDep, min_position: MinPosition = None) -> PartyPublic:
    """One party: name, kinds, identifiers, verification, managers."""
    wait_for_position(app, min_position)
    return PartyPublic.of(app.get_party(party_key))


@router.put("/{party_key}", response_model=PartyWritten)
def put_party(party_key: Key, body: PartyCreate, app: LedgerDep, principal: Deliverer) -> PartyWritten:
    """Deliver a party: registered the first time, updated when its details change."""
    with capture_writes() as written:
        identifiers = {str(k): v for k, v in body.identifiers.items()}
        party, changed = app.upsert_party(party_key, body.name, body.kinds, principal.actor, identifiers)
    return PartyWritten(position=written.position(app), changed=changed, party=PartyPublic.of(party))


@router.post("/{party_key}/managers", response_model=PartyWritten)
def add_manager(
    party_key: Key, body: ManagerCreate, app: LedgerDep, principal: Deliverer, request: Request
) -> PartyWritten:
    """Let a label or distributor act for this party (its party-scoped keys then may)."""
    with capture_writes() as written:
        party = app.add_party_manager(party_key, body.manager_key, principal.actor)
    request.app.state.authenticator.forget()
    return PartyWritten(position=written.position(app), changed=written.changed, party=PartyPublic.of(party))
