"""Health: is the store reachable, where is the head of the log (and how far behind the projector)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import LedgerDep

router = APIRouter(prefix="/v1", tags=["health"])


class HealthPublic(BaseModel):
    status: str
    store: str
    head_position: int


@router.get("/health", response_model=HealthPublic)
def health(app: LedgerDep) -> HealthPublic:
    """No key needed. Answers 200 when the store answers; the error format otherwise."""
    return HealthPublic(status="ok", store=app.config.backend, head_position=app.head_position())
