"""Releases: deliver (upsert) by UPC, read back, take down and reinstate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import Forbidden, Principal
from api.deps import LedgerDep, PrincipalDep, hide_unless, require
from api.positions import capture_writes, wait_for_position
from api.schemas.catalogue import (
    AvailabilityCreate,
    AvailabilityWritten,
    ReleaseCreate,
    ReleasePublic,
    ReleaseWritten,
    availability_of,
)
from api.schemas.common import Upc
from api.scope import controls_release, recording_parties
from ledger.application import RoyaltyLedger
from ledger.domain.release import Release

router = APIRouter(prefix="/v1/releases", tags=["catalogue"])

Deliverer = Annotated[Principal, Depends(require("admin", "distributor"))]
Availability = Annotated[Principal, Depends(require("admin", "distributor", "party"))]
MinPosition = Annotated[int | None, Query(ge=0, description="Wait until the log holds this.")]


def sees_release(app: RoyaltyLedger, principal: Principal, rel: Release) -> bool:
    if not principal.is_party or controls_release(principal, rel):
        return True
    return any(principal.scope & recording_parties(app, app.get_recording(isrc))
               for isrc in rel.track_isrcs)


@router.put("/{upc}", response_model=ReleaseWritten)
def put_release(upc: Upc, body: ReleaseCreate, app: LedgerDep, principal: Deliverer
                ) -> ReleaseWritten:
    """Deliver a release whose recordings are delivered; a re-delivery records only changes."""
    delivered_by = body.delivered_by or principal.party_key
    with capture_writes() as written:
        rel, changed = app.deliver_release(
            upc, body.title, body.track_isrcs, body.release_date, principal.actor,
            label_key=body.label_key, release_type=body.release_type,
            territories=body.territories, delivered_by=delivered_by,
        )
    return ReleaseWritten(position=written.position(app), changed=changed,
                          release=ReleasePublic.of(rel))


@router.get("/{upc}", response_model=ReleasePublic)
def get_release(upc: Upc, app: LedgerDep, principal: PrincipalDep,
                min_position: MinPosition = None) -> ReleasePublic:
    """One release: tracks in order, territories, status, availability history."""
    wait_for_position(app, min_position)
    rel = app.get_release(upc)
    hide_unless(sees_release(app, principal, rel), f"release {upc}")
    return ReleasePublic.of(rel)


def _availability(app: RoyaltyLedger, principal: Principal, upc: str,
                  body: AvailabilityCreate, reinstate: bool) -> AvailabilityWritten:
    rel = app.get_release(upc)
    hide_unless(sees_release(app, principal, rel), f"release {upc}")
    if not controls_release(principal, rel):
        raise Forbidden(f"only the label or deliverer of {upc} may change its availability")
    with capture_writes() as written:
        app.take_down("release", upc, body.territories, body.reason,
                      body.effective_at or app.clock(), principal.actor, reinstate=reinstate)
    return AvailabilityWritten(position=written.position(app), changed=True,
                               availability=availability_of(app.get_release(upc).availability))


@router.post("/{upc}/takedowns", response_model=AvailabilityWritten, status_code=201)
def take_down_release(upc: Upc, body: AvailabilityCreate, app: LedgerDep,
                      principal: Availability) -> AvailabilityWritten:
    """Take a release down everywhere or in the named territories, from `effective_at`."""
    return _availability(app, principal, upc, body, reinstate=False)


@router.post("/{upc}/reinstatements", response_model=AvailabilityWritten, status_code=201)
def reinstate_release(upc: Upc, body: AvailabilityCreate, app: LedgerDep,
                      principal: Availability) -> AvailabilityWritten:
    """Make a taken-down release available again from `effective_at`."""
    return _availability(app, principal, upc, body, reinstate=True)
