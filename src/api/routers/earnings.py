"""Earnings up to the minute (total, by recording, day, territory, kind), balances and play stats."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.answers import consistent_read
from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import ReadSideDep, SettingsDep, require, scoped_party
from api.schemas.common import UtcTime
from api.schemas.earnings import BalancePublic, EarningsLine, EarningsPublic, StatsPublic
from api.scope import VisibleRecording
from ledger.domain.identifiers import parse_territory
from projections import queries

router = APIRouter(tags=["earnings"], route_class=ConflictRetryRoute)

Reader = Annotated[str, Depends(scoped_party("admin", "accountant", "auditor"))]
StatsReader = Annotated[
    Principal, Depends(require("admin", "accountant", "auditor", "platform", "distributor", "party"))
]
MinPosition = Annotated[
    int | None,
    Query(
        ge=0,
        description="Wait (briefly) until the read model has folded this position; "
        "503 with the lag if it has not in time.",
    ),
]
PeriodQuery = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", examples=["2026-10"])]
TerritoryQuery = Annotated[str | None, Query(min_length=2, max_length=2)]


@router.get("/v1/parties/{party_key}/earnings", response_model=EarningsPublic)
def earnings(
    party_key: Reader,
    read_side: ReadSideDep,
    settings: SettingsDep,
    by: Annotated[Literal["currency", "recording", "day", "territory", "kind"], Query()] = "currency",
    period: PeriodQuery = None,
    isrc: Annotated[str | None, Query(max_length=15)] = None,
    territory: TerritoryQuery = None,
    min_position: MinPosition = None,
) -> Response:
    """What the party earned up to the projector's position: the total per currency, or lines
    by recording, day, territory or usage kind — cut by the statement rules (rights pie, split
    versions and disputes in force when each play happened)."""
    read_side.wait(min_position, ["earnings"], settings.read_wait_s)
    where = parse_territory(territory) if territory else None

    def answer(position: int) -> bytes:
        found = queries.earnings(read_side.db(), party_key, by=by, period=period, isrc=isrc, territory=where)
        lines = [
            EarningsLine(currency=line["currency"], key=str(line[by]), amount_micros=line["amount_micros"])
            for line in found["lines"]
        ]
        return (
            EarningsPublic(
                account=found["account"],
                by=by,
                period=period,
                as_of=position,
                lines=lines,
                totals_micros=found["totals_micros"],
            )
            .model_dump_json()
            .encode()
        )

    question = ("earnings", party_key, by, period, isrc, where)
    body = consistent_read(read_side, "earnings", question, answer, min_position)
    return Response(body, media_type="application/json")


@router.get("/v1/parties/{party_key}/balance", response_model=BalancePublic)
def balance(
    party_key: Reader, read_side: ReadSideDep, settings: SettingsDep, min_position: MinPosition = None
) -> BalancePublic:
    """The live balance per currency: earnings to date minus payouts recorded."""
    read_side.wait(min_position, ["earnings"], settings.read_wait_s)
    return BalancePublic.model_validate(queries.balance(read_side.app, read_side.db(), party_key))


@router.get("/v1/recordings/{isrc}/stats", response_model=StatsPublic)
def stats(
    rec: VisibleRecording,
    principal: StatsReader,
    read_side: ReadSideDep,
    settings: SettingsDep,
    granularity: Annotated[Literal["minute", "hour", "day", "month"], Query()] = "day",
    start: UtcTime | None = None,
    end: UtcTime | None = None,
    territory: TerritoryQuery = None,
    min_position: MinPosition = None,
) -> StatsPublic:
    """Plays, counted plays, units and gross revenue per minute, hour, day or month (and
    currency), from the per-minute read model. A party key sees recordings it is part of."""
    read_side.wait(min_position, ["stats"], settings.read_wait_s)
    found = queries.stats(
        read_side.db(),
        rec.isrc,
        by=granularity,
        start=start.isoformat() if start else None,
        end=end.isoformat() if end else None,
        territory=parse_territory(territory) if territory else None,
    )
    return StatsPublic.model_validate(found)
