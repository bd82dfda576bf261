"""Ownership trails: everything that changed who is paid for a recording or a work, in log order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, require
from api.positions import wait_for_position
from api.schemas.rights import OwnershipTrailPublic, TrailEntry
from api.scope import VisibleRecording, VisibleWork
from api.trail import ownership_trail

router = APIRouter(tags=["trails"], route_class=ConflictRetryRoute)

Reader = Annotated[Principal, Depends(require("admin", "party", "accountant", "auditor", "dispute_handler"))]
MinPosition = Annotated[int | None, Query(ge=0, description="Wait until the log holds this.")]


@router.get("/v1/recordings/{isrc}/ownership-trail", response_model=OwnershipTrailPublic)
def recording_trail(
    rec: VisibleRecording, app: LedgerDep, principal: Reader, min_position: MinPosition = None
) -> OwnershipTrailPublic:
    """Master split versions, acceptances, activations, disputes and resolutions, work links,
    takedowns of the recording and of releases carrying it: position, time and actor each."""
    wait_for_position(app, min_position)
    head = app.head_position()
    entries = [TrailEntry.model_validate(e) for e in ownership_trail(app, "master", rec.isrc)]
    return OwnershipTrailPublic(
        subject="recording", key=rec.isrc, head_position=head, entries=[e for e in entries if e.position <= head]
    )


@router.get("/v1/works/{work_key}/ownership-trail", response_model=OwnershipTrailPublic)
def work_trail(
    work: VisibleWork, app: LedgerDep, principal: Reader, min_position: MinPosition = None
) -> OwnershipTrailPublic:
    """Publishing split versions, acceptances, activations, disputes and resolutions, writer
    changes of the work: position, time and actor each."""
    wait_for_position(app, min_position)
    head = app.head_position()
    entries = [TrailEntry.model_validate(e) for e in ownership_trail(app, "publishing", work.key)]
    return OwnershipTrailPublic(
        subject="work", key=work.key, head_position=head, entries=[e for e in entries if e.position <= head]
    )
