"""Works: deliver (upsert) a musical work with its writers, read it back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, require
from api.positions import capture_writes, wait_for_position
from api.schemas.catalogue import WorkCreate, WorkPublic, WorkWritten
from api.schemas.common import Key
from api.scope import VisibleWork

router = APIRouter(prefix="/v1/works", tags=["catalogue"], route_class=ConflictRetryRoute)

Deliverer = Annotated[Principal, Depends(require("admin", "distributor"))]
MinPosition = Annotated[int | None, Query(ge=0, description="Wait until the log holds this.")]


@router.put("/{work_key}", response_model=WorkWritten)
def put_work(work_key: Key, body: WorkCreate, app: LedgerDep, principal: Deliverer) -> WorkWritten:
    """Deliver a work: registered the first time, updated when title, ISWC or writers change."""
    writers = [w.model_dump() for w in body.writers]
    with capture_writes() as written:
        work, changed = app.upsert_work(work_key, body.title, writers, principal.actor, body.iswc)
    return WorkWritten(position=written.position(app), changed=changed, work=WorkPublic.of(work))


@router.get("/{work_key}", response_model=WorkPublic)
def get_work(work: VisibleWork, app: LedgerDep, min_position: MinPosition = None) -> WorkPublic:
    """One work. A party key sees works it writes or holds (or held) publishing in."""
    wait_for_position(app, min_position)
    return WorkPublic.of(work)
