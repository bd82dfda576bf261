"""Pools: contributions in, and the comparison of distribution rules for a month."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, require
from api.positions import capture_writes
from ledger.domain.period import Period
from projections.pools_compare import compare_pools
from projections.statements.close import engine_for

router = APIRouter(tags=["pools"], route_class=ConflictRetryRoute)

Reader = Annotated[Principal, Depends(require("admin", "accountant", "auditor"))]
Writer = Annotated[Principal, Depends(require("admin", "accountant", "platform"))]
PeriodText = Annotated[str, PathParam(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-01"])]


class ContributionsCreate(BaseModel):
    source: str = Field(min_length=1, max_length=100, description="Who sent them; ids are unique per source.")
    rows: list[dict[str, str | int | None]] = Field(
        min_length=1,
        max_length=10_000,
        description="contribution_id, pool, kind (payment|refund), occurred_at (UTC), amount (decimal) or "
        "amount_micros, currency, listener (hashed before it is kept) or funder ('coop'), target (a party), "
        "refund_of (for a refund).",
    )


class ContributionsPublic(BaseModel):
    position: int | None = Field(description="The batch's log position (none when nothing new was recorded).")
    batch_id: str
    accepted: int
    duplicates: int
    quarantined: dict[str, int] = Field(description="Quarantined rows by reason.")
    totals_micros: dict[str, int]
    quarantine: list[dict[str, Any]] = Field(description="Each quarantined row's id, reason and detail.")


class PoolComparisonPublic(BaseModel):
    period: str
    as_of_position: int
    rules: list[str] = Field(description="configured (the rule version in force), then each method alone.")
    pools: list[dict[str, Any]]
    accounts: list[dict[str, Any]] = Field(description="Per account and currency: micro-units by rule.")
    totals: dict[str, dict[str, int]]
    equal_totals: bool = Field(description="Every rule distributes the same money.")


@router.post("/v1/pools/contributions", response_model=ContributionsPublic, status_code=201)
def record_contributions(body: ContributionsCreate, app: LedgerDep, principal: Writer) -> ContributionsPublic:
    """Record contributions to pools (subscriptions, patronage, the co-op's surplus share) from a
    payment provider. Rows that cannot be accepted are quarantined with their reason; a row seen
    before is a counted duplicate."""
    with capture_writes():
        result = app.record_contributions(body.rows, body.source, principal.actor, origin="api")
    return ContributionsPublic(**{**result.as_dict(), "position": result.position})


@router.get("/v1/pools/{period}/comparison", response_model=PoolComparisonPublic)
def comparison(period: PeriodText, app: LedgerDep, principal: Reader) -> PoolComparisonPublic:
    """What every account would receive from the month's pools under each rule, side by side,
    from the same data as known now: the rule in force, pro-rata, user-centric and (with eligible
    parties) equal share. Every column distributes the same total."""
    month = Period.parse(period)
    engine = engine_for(app, app.config)
    doc = compare_pools(app.config, engine.history, month, engine.history.upto).as_dict()
    return PoolComparisonPublic(**doc)
