"""Earnings up to the minute (total, by recording, day, territory, kind), balances and play stats."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.answers import consistent_read
from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import ReadSideDep, SettingsDep, require, scoped_party
from api.schemas.common import UtcTime
from api.schemas.earnings import BalancePublic, EarningsLine, EarningsPublic, StatsBucket, StatsPublic
from api.scope import VisibleRecording
from ledger.domain.identifiers import parse_territory
from ledger.domain.party import DomainError
from ledger.domain.period import Period
from projections import queries, rollups

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
Bucket = Literal["minute", "hour", "day", "week", "month", "year"]


@router.get("/v1/parties/{party_key}/earnings", response_model=EarningsPublic)
def earnings(
    party_key: Reader,
    read_side: ReadSideDep,
    settings: SettingsDep,
    by: Annotated[
        Literal["currency", "recording", "release", "day", "week", "month", "year", "territory", "kind"], Query()
    ] = "currency",
    period: PeriodQuery = None,
    isrc: Annotated[str | None, Query(max_length=15)] = None,
    territory: TerritoryQuery = None,
    top: Annotated[int | None, Query(ge=1, le=1000, description="Only the N largest lines.")] = None,
    min_position: MinPosition = None,
) -> Response:
    """What the party earned up to the projector's position: the total per currency, or lines
    by recording, release, day, week (from Monday), month, year, territory or usage kind — cut
    by the statement rules (rights pie, split versions and disputes in force when each play
    happened). Earnings are kept per day; a recording on two releases counts in both lines."""
    read_side.wait(min_position, ["earnings"], settings.read_wait_s)
    where = parse_territory(territory) if territory else None

    def answer(position: int) -> bytes:
        found = _earnings(read_side.db(), party_key, by, period, isrc, where, top)
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

    question = ("earnings", party_key, by, period, isrc, where, top)
    body = consistent_read(read_side, "earnings", question, answer, min_position)
    return Response(body, media_type="application/json")


def _earnings(
    db: Any, party: str, by: str, period: str | None, isrc: str | None, territory: str | None, top: int | None
) -> dict[str, Any]:
    if by == "currency":
        return queries.earnings(db, party, by=by, period=period, isrc=isrc, territory=territory)
    span = Period.parse(period) if period else None
    timed = by in rollups.TIME_BUCKETS
    found = rollups.earnings(
        db,
        party,
        by=by if timed else "total",
        group=None if timed else by,
        start=span.start if span else None,
        end=span.end if span else None,
        isrcs=[isrc] if isrc else None,
        territory=territory,
        top=top,
    )
    lines = [
        {
            "currency": line["currency"],
            by: line["bucket"] if timed else line["key"],
            "amount_micros": line["amount_micros"],
        }
        for line in found["lines"]
    ]
    return found | {"lines": lines}


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
    by: Annotated[Bucket | None, Query(description="minute, hour, day, week (from Monday), month or year")] = None,
    granularity: Annotated[
        Bucket | None, Query(deprecated=True, description="The earlier name of `by`; give one, not both.")
    ] = None,
    start: UtcTime | None = None,
    end: UtcTime | None = None,
    territory: TerritoryQuery = None,
    min_position: MinPosition = None,
) -> StatsPublic:
    """Plays, counted plays, units and gross revenue per minute, hour, day, week, month or
    year (and currency), from the per-minute read model. A party key sees recordings it is
    part of. `/v1/stats` groups and ranks across recordings."""
    if by and granularity and by != granularity:
        raise DomainError(f"by={by} and granularity={granularity} disagree: give only `by`")
    bucket = by or granularity or "day"
    read_side.wait(min_position, ["stats"], settings.read_wait_s)
    found = rollups.stats(
        read_side.db(),
        by=bucket,
        isrcs=[rec.isrc],
        start=start,
        end=end,
        territory=parse_territory(territory) if territory else None,
    )
    return StatsPublic(
        isrc=rec.isrc,
        by=bucket,
        as_of=found["as_of"],
        series=[StatsBucket.model_validate(p) for p in found["series"]],
        total_plays=found["total_plays"],
    )
