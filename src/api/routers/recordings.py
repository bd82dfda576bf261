"""Recordings: deliver (upsert) by ISRC, read with the splits in force, take down and reinstate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import Forbidden, Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, PrincipalDep, require
from api.positions import capture_writes, wait_for_position
from api.schemas.catalogue import (
    AvailabilityCreate,
    AvailabilityWritten,
    RecordingCreate,
    RecordingPublic,
    RecordingWritten,
    SplitInForce,
    availability_of,
)
from api.schemas.common import Isrc
from api.schemas.content import RecordingEdit
from api.scope import VisibleRecording, controls_recording, edits_recording
from ledger.application import RoyaltyLedger
from ledger.domain.recording import Recording

router = APIRouter(prefix="/v1/recordings", tags=["catalogue"], route_class=ConflictRetryRoute)

Deliverer = Annotated[Principal, Depends(require("admin", "distributor"))]
Availability = Annotated[Principal, Depends(require("admin", "distributor", "party"))]
MinPosition = Annotated[int | None, Query(ge=0, description="Wait until the log holds this.")]


def recording_public(app: RoyaltyLedger, rec: Recording) -> RecordingPublic:
    now = app.clock()
    splits: dict[str, SplitInForce | None] = {}
    for right, key in (("master", rec.isrc), ("publishing", rec.work_key)):
        agreement = app.find_split(right, key) if key else None
        version = agreement.version_in_force(now) if agreement else None
        splits[right] = SplitInForce.model_validate(version) if version else None
    return RecordingPublic.of(rec, splits)


@router.put("/{isrc}", response_model=RecordingWritten)
def put_recording(isrc: Isrc, body: RecordingCreate, app: LedgerDep, principal: Deliverer) -> RecordingWritten:
    """Deliver a recording: registered the first time, updated when its details change."""
    with capture_writes() as written:
        rec, changed = app.upsert_recording(
            isrc,
            body.title,
            body.display_artist,
            body.duration_ms,
            principal.actor,
            body.work_key,
            [c.model_dump() for c in body.credits],
        )
    return RecordingWritten(position=written.position(app), changed=changed, recording=recording_public(app, rec))


@router.get("/{isrc}", response_model=RecordingPublic)
def get_recording(
    rec: VisibleRecording, app: LedgerDep, principal: PrincipalDep, min_position: MinPosition = None
) -> RecordingPublic:
    """One recording with its credits, availability and the master/publishing splits in force.
    A party key sees recordings its parties are credited on or hold (or held) a share of."""
    wait_for_position(app, min_position)
    return recording_public(app, rec)


def _availability(
    app: RoyaltyLedger, principal: Principal, rec: Recording, body: AvailabilityCreate, reinstate: bool
) -> AvailabilityWritten:
    if not controls_recording(app, principal, rec, app.clock()):
        raise Forbidden(f"only a current master holder may change availability of {rec.isrc}")
    with capture_writes() as written:
        target = app.take_down(
            "recording",
            rec.isrc,
            body.territories,
            body.reason,
            body.effective_at or app.clock(),
            principal.actor,
            reinstate=reinstate,
        )
    history = target.availability
    return AvailabilityWritten(position=written.position(app), changed=True, availability=availability_of(history))


@router.post("/{isrc}/takedowns", response_model=AvailabilityWritten, status_code=201)
def take_down_recording(
    rec: VisibleRecording, body: AvailabilityCreate, app: LedgerDep, principal: Availability
) -> AvailabilityWritten:
    """Stop accrual for plays after `effective_at`, everywhere or in the named territories."""
    return _availability(app, principal, rec, body, reinstate=False)


@router.post("/{isrc}/reinstatements", response_model=AvailabilityWritten, status_code=201)
def reinstate_recording(
    rec: VisibleRecording, body: AvailabilityCreate, app: LedgerDep, principal: Availability
) -> AvailabilityWritten:
    """Make a taken-down recording available again from `effective_at`."""
    return _availability(app, principal, rec, body, reinstate=True)


@router.patch("/{isrc}", response_model=RecordingWritten)
def edit_recording(
    rec: VisibleRecording, body: RecordingEdit, app: LedgerDep, principal: Availability
) -> RecordingWritten:
    """Change a track's title, display artist or credits (the delivery's checks: credit roles,
    registered parties); `Recording.DetailsUpdated` with the caller as actor. A party key must
    hold its master now, or label or have delivered a release carrying it."""
    if principal.is_party and not edits_recording(app, principal, rec, app.clock()):
        raise Forbidden(f"only a master holder or the label of a release carrying {rec.isrc} may edit it")
    credits = None if body.credits is None else [c.model_dump() for c in body.credits]
    with capture_writes() as written:
        edited, changed = app.edit_recording(
            rec.isrc, principal.actor, title=body.title, display_artist=body.display_artist, credits=credits
        )
    return RecordingWritten(position=written.position(app), changed=changed, recording=recording_public(app, edited))
