"""Usage payloads: rows as the platform reports them, and what became of them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from api.schemas.common import WriteResult, checked

Text = Annotated[StrictStr, Field(max_length=200)]


class UsageRowCreate(BaseModel):
    """One play or sale (`schemas/usage-row.schema.json`). Values are checked by the ledger:
    a row it cannot accept is quarantined with its reason, never a reason to refuse the batch.
    Amounts are a decimal string (`"0.99"`) or integer micro-units, never a float."""

    model_config = ConfigDict(extra="forbid")

    source: Text | None = None
    play_id: Text | None = None
    sale_id: Text | None = None
    usage_id: Text | None = None
    kind: Text | None = None
    occurred_at: Text | None = Field(default=None, examples=["2026-11-20T21:15:00Z"])
    occurred_at_us: StrictInt | None = None
    isrc: Text | None = None
    upc: Text | None = None
    listener_id: Text | None = None
    territory: Text | None = None
    seconds_played: StrictInt | None = None
    amount: Text | None = None
    amount_micros: StrictInt | None = None
    currency: Text | None = None
    refund_of: Text | None = None


class UsageBatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Annotated[StrictStr, Field(min_length=1, max_length=40), checked("id")] = "player"
    rows: list[UsageRowCreate] = Field(min_length=1)


class UsageReportPublic(WriteResult):
    """Counts per outcome; `quarantined` by reason. Money in micro-units per currency."""

    rows: int
    accepted: int
    lines: int = Field(description="Stored lines (a release purchase is one per track).")
    duplicates: int = Field(description="Rows already recorded with the same id and payload.")
    quarantined: dict[str, int]
    quarantined_total: int
    revenue_micros: dict[str, int]
    batches: int
    positions: list[int]

    @classmethod
    def of(cls, summary: dict[str, Any], position: int) -> UsageReportPublic:
        fields = {k: summary[k] for k in cls.model_fields if k in summary}
        return cls(**fields, position=position, changed=bool(summary["positions"]))


class QuarantinedRowPublic(BaseModel):
    quarantine_id: str
    position: int
    source: str
    usage_id: str | None
    reason: str
    detail: str
    row: dict[str, Any]
    resolution: str | None
    resolved_at_position: int | None
