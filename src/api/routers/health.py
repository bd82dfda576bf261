"""Health: the store answers, where the head of the log is, and how far behind the projector is."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import LedgerDep, ReadSideDep

router = APIRouter(prefix="/v1", tags=["health"])


class ProjectorLagPublic(BaseModel):
    positions: dict[str, int] = Field(description="Position each read model has folded up to.")
    behind: int = Field(description="Positions the slowest read model is behind the head.")
    seconds: float | None = Field(description="Age of the oldest event not yet folded (0 when caught up).")


class HealthPublic(BaseModel):
    status: str
    store: str
    head_position: int
    projector: ProjectorLagPublic


@router.get("/health", response_model=HealthPublic)
def health(app: LedgerDep, read_side: ReadSideDep) -> HealthPublic:
    """No key needed. 200 while the store answers, with the projector's lag; the problem
    format (503) when it does not."""
    lag = read_side.lag()
    return HealthPublic(
        status="ok",
        store=app.config.backend,
        head_position=lag.head,
        projector=ProjectorLagPublic(positions=lag.positions, behind=lag.behind, seconds=lag.seconds),
    )
