"""Releases: deliver (upsert) by UPC, read back, take down and reinstate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import Forbidden, Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, require
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
from api.schemas.content import ReleaseEdit, ReleasePrices, ReleasePricesUpdate, ReleasePricesWritten
from api.scope import VisibleRelease, controls_release
from ledger.application import RoyaltyLedger
from ledger.domain.release import Release

router = APIRouter(prefix="/v1/releases", tags=["catalogue"], route_class=ConflictRetryRoute)

Deliverer = Annotated[Principal, Depends(require("admin", "distributor"))]
Availability = Annotated[Principal, Depends(require("admin", "distributor", "party"))]
Editor = Availability
Reader = Annotated[Principal, Depends(require("admin", "distributor", "party", "accountant", "auditor"))]
MinPosition = Annotated[int | None, Query(ge=0, description="Wait until the log holds this.")]


@router.put("/{upc}", response_model=ReleaseWritten)
def put_release(upc: Upc, body: ReleaseCreate, app: LedgerDep, principal: Deliverer) -> ReleaseWritten:
    """Deliver a release whose recordings are delivered; a re-delivery records only changes."""
    delivered_by = body.delivered_by or principal.party_key
    with capture_writes() as written:
        rel, changed = app.deliver_release(
            upc,
            body.title,
            body.track_isrcs,
            body.release_date,
            principal.actor,
            label_key=body.label_key,
            release_type=body.release_type,
            territories=body.territories,
            delivered_by=delivered_by,
        )
    return ReleaseWritten(position=written.position(app), changed=changed, release=ReleasePublic.of(rel))


@router.get("/{upc}", response_model=ReleasePublic)
def get_release(rel: VisibleRelease, app: LedgerDep, min_position: MinPosition = None) -> ReleasePublic:
    """One release: tracks in order, territories, status, availability history. A party key
    sees releases it labels or delivered, or that carry a recording it is part of."""
    wait_for_position(app, min_position)
    return ReleasePublic.of(rel)


def _availability(
    app: RoyaltyLedger, principal: Principal, rel: Release, body: AvailabilityCreate, reinstate: bool
) -> AvailabilityWritten:
    if not controls_release(principal, rel):
        raise Forbidden(f"only the label or deliverer of {rel.upc} may change its availability")
    with capture_writes() as written:
        target = app.take_down(
            "release",
            rel.upc,
            body.territories,
            body.reason,
            body.effective_at or app.clock(),
            principal.actor,
            reinstate=reinstate,
        )
    history = target.availability
    return AvailabilityWritten(position=written.position(app), changed=True, availability=availability_of(history))


@router.post("/{upc}/takedowns", response_model=AvailabilityWritten, status_code=201)
def take_down_release(
    rel: VisibleRelease, body: AvailabilityCreate, app: LedgerDep, principal: Availability
) -> AvailabilityWritten:
    """Take a release down everywhere or in the named territories, from `effective_at`."""
    return _availability(app, principal, rel, body, reinstate=False)


@router.post("/{upc}/reinstatements", response_model=AvailabilityWritten, status_code=201)
def reinstate_release(
    rel: VisibleRelease, body: AvailabilityCreate, app: LedgerDep, principal: Availability
) -> AvailabilityWritten:
    """Make a taken-down release available again from `effective_at`."""
    return _availability(app, principal, rel, body, reinstate=True)


def _must_control(principal: Principal, rel: Release, what: str) -> None:
    if not controls_release(principal, rel):
        raise Forbidden(f"only the label or deliverer of {rel.upc} may change its {what}")


@router.patch("/{upc}", response_model=ReleaseWritten)
def edit_release(rel: VisibleRelease, body: ReleaseEdit, app: LedgerDep, principal: Editor) -> ReleaseWritten:
    """Change a release's title or date (`Release.Redelivered` with the caller as actor). A party
    key must label or have delivered it; tracks and territories change by delivery."""
    _must_control(principal, rel, "details")
    with capture_writes() as written:
        edited, changed = app.edit_release(rel.upc, principal.actor, title=body.title, release_date=body.release_date)
    return ReleaseWritten(position=written.position(app), changed=changed, release=ReleasePublic.of(edited))


@router.get("/{upc}/prices", response_model=ReleasePrices)
def get_release_prices(rel: VisibleRelease, app: LedgerDep, principal: Reader) -> ReleasePrices:
    """The release's minimum prices in force: everywhere, and by territory where set there.
    A sale below the minimum for its territory and currency is quarantined (`below_minimum_price`)."""
    return ReleasePrices.model_validate(app.release_prices(rel.upc))


@router.put("/{upc}/prices", response_model=ReleasePricesWritten)
def put_release_prices(
    rel: VisibleRelease, body: ReleasePricesUpdate, app: LedgerDep, principal: Editor
) -> ReleasePricesWritten:
    """Set the release's minimums (pay what you want, at least this): records a pricing version
    with only this release's minimums replaced (`PricingSchedule.VersionSet`, the caller as
    actor). A party key must label or have delivered the release."""
    _must_control(principal, rel, "prices")
    with capture_writes() as written:
        _version, changed = app.set_release_prices(
            rel.upc,
            dict(body.minimums),
            {t: dict(m) for t, m in body.territory_minimums.items()},
            body.reason,
            principal.actor,
        )
    prices = ReleasePrices.model_validate(app.release_prices(rel.upc))
    return ReleasePricesWritten(position=written.position(app), changed=changed, prices=prices)
