"""Health: the store answers, where the head of the log is, and how far behind the projector is."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, ReadSideDep
from api.errors import problem

router = APIRouter(prefix="/v1", tags=["health"], route_class=ConflictRetryRoute)
log = logging.getLogger("api.health")


class ProjectorLagPublic(BaseModel):
    positions: dict[str, int] = Field(description="Position each read model has folded up to.")
    behind: int = Field(description="Positions the slowest read model is behind the head.")
    seconds: float | None = Field(description="Age of the oldest event not yet folded (0 when caught up).")


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
    except Exception as exc:  # any failure to reach the store is "unavailable"
        log.warning("health: store unavailable: %s", exc)
        return problem(503, "store-unavailable", "Store unavailable", "the store does not answer", request)
    return HealthPublic(
        status="ok",
        store=app.config.backend,
        head_position=lag.head,
        projector=ProjectorLagPublic(positions=lag.positions, behind=lag.behind, seconds=lag.seconds),
    )
