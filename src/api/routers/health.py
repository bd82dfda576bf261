"""Health: the store answers, where the head of the log is, and how far behind the projector is."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, ReadSideDep
from api.errors import problem

FAILURES_SHOWN = 20
router = APIRouter(prefix="/v1", tags=["health"], route_class=ConflictRetryRoute)
log = logging.getLogger("api.health")


class FoldFailurePublic(BaseModel):
    model: str = Field(description="The read model that could not fold the event and skipped it.")
    position: int = Field(description="The event's log position.")
    topic: str = Field(description="The event's type.")
    error: str = Field(description="What went wrong (class and message, at most 500 characters).")
    recorded_at: str = Field(description="When the projector recorded it (ISO 8601 UTC).")


class ProjectorLagPublic(BaseModel):
    positions: dict[str, int] = Field(description="Position each read model has folded up to.")
    behind: int = Field(description="Positions the slowest read model is behind the head.")
    seconds: float | None = Field(description="Age of the oldest event not yet folded (0 when caught up).")
    failed_events: int = Field(
        description="Poison events: events a read model could not fold, recorded and skipped (see `failures`)."
    )
    failures: list[FoldFailurePublic] = Field(description=f"The latest {FAILURES_SHOWN} of them, latest first.")


class HealthPublic(BaseModel):
    status: str
    store: str
    head_position: int
    projector: ProjectorLagPublic


@router.get("/health", response_model=HealthPublic, responses={503: {"description": "The store does not answer"}})
def health(app: LedgerDep, read_side: ReadSideDep, request: Request) -> HealthPublic | JSONResponse:
    """No key needed. 200 while the store answers, with the projector's lag; the problem
    format (503) when it does not."""
    try:
        lag = read_side.lag()
        failures = read_side.fold_failures(limit=FAILURES_SHOWN) if lag.failed_events else []
    except Exception as exc:  # any failure to reach the store is "unavailable"
        log.warning("health: store unavailable: %s", exc)
        return problem(503, "store-unavailable", "Store unavailable", "the store does not answer", request)
    return HealthPublic(
        status="ok",
        store=app.config.backend,
        head_position=lag.head,
        projector=ProjectorLagPublic(
            positions=lag.positions,
            behind=lag.behind,
            seconds=lag.seconds,
            failed_events=lag.failed_events,
            failures=[FoldFailurePublic(**f.to_dict()) for f in failures],
        ),
    )
