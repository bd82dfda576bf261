"""Earnings and stats payloads: figures from the read models, as of the projector's position."""

from __future__ import annotations

from pydantic import BaseModel, Field


class EarningsLine(BaseModel):
    currency: str
    key: str = Field(description="The recording (ISRC), day (ISO date-time), territory or kind.")
    amount_micros: int


class EarningsPublic(BaseModel):
    """What an account earned, by the same rules as statements, up to the projector's position."""

    account: str
    by: str
    period: str | None
    as_of: int = Field(description="Log position the figures include (the projector's).")
    lines: list[EarningsLine]
    totals_micros: dict[str, int] = Field(description="Per currency, in micro-units.")


class BalanceLine(BaseModel):
    currency: str
    earned_micros: int
    paid_micros: int
    balance_micros: int


class BalancePublic(BaseModel):
    account: str
    as_of: int
    balances: list[BalanceLine]


class StatsBucket(BaseModel):
    bucket: str = Field(description="Start of the bucket (ISO 8601 UTC; YYYY-MM for months).")
    currency: str
    plays: int
    counted_plays: int
    units: int
    gross_micros: int


class StatsPublic(BaseModel):
    isrc: str
    by: str
    as_of: int
    series: list[StatsBucket]
    total_plays: int
