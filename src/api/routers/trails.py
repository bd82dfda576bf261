"""Ownership trails: everything that changed who is paid for a recording or a work, in log order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import Principal
from api.deps import LedgerDep, hide_unless, require
from api.positions import wait_for_position
from api.schemas.common import Isrc, Key
from api.schemas.rights import OwnershipTrailPublic, TrailEntry
from api.scope import sees_recording, sees_work
from api.trail import ownership_trail

router = APIRouter(tags=["trails"])

Reader = Annotated[Principal, Depends(require(
    "admin", "party", "accountant", "auditor", "dispute_handler"))]
MinPosition = Annotated[int | None, Query(ge=0, description="Wait until the log holds this.")]


@router.get("/v1/recordings/{isrc}/ownership-trail", response_model=OwnershipTrailPublic)
def recording_trail(isrc: Isrc, app: LedgerDep, principal: Reader,
                    min_position: MinPosition = None) -> OwnershipTrailPublic:
    """Master split versions, acceptances, activations, disputes and resolutions, work links,
    takedowns of the recording and of releases carrying it: position, time and actor each."""
    wait_for_position(app, min_position)
    head = app.head_position()
    rec = app.get_recording(isrc)
    hide_unless(sees_recording(app, principal, rec), f"recording {isrc}")
    entries = [TrailEntry.model_validate(e) for e in ownership_trail(app, "master", isrc)]
    return OwnershipTrailPublic(subject="recording", key=isrc, head_position=head,
                                entries=[e for e in entries if e.position <= head])


@router.get("/v1/works/{work_key}/ownership-trail", response_model=OwnershipTrailPublic)
def work_trail(work_key: Key, app: LedgerDep, principal: Reader,
               min_position: MinPosition = None) -> OwnershipTrailPublic:
    """Publishing split versions, acceptances, activations, disputes and resolutions, writer
    changes of the work: position, time and actor each."""
    wait_for_position(app, min_position)
    head = app.head_position()
    app.get_work(work_key)
    hide_unless(sees_work(app, principal, work_key), f"work {work_key}")
    entries = [TrailEntry.model_validate(e) for e in ownership_trail(app, "publishing", work_key)]
    return OwnershipTrailPublic(subject="work", key=work_key, head_position=head,
                                entries=[e for e in entries if e.position <= head])
