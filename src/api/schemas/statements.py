"""Statement and audit payloads: money as integer micro-units per ISO 4217 currency."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from api.schemas.common import checked


class StatementLine(BaseModel):
    isrc: str
    title: str = Field(default="", description="The recording's title as known at the statement's position.")
    kind: str
    territory: str
    right: str
    right_ppm: int | None = Field(default=None, description="The right's part of the gross (the rights pie), ppm.")
    right_percent: str = Field(default="", description="right_ppm as an exact decimal percentage, e.g. 56.")
    share_ppm: int | None = Field(default=None, description="The account's share of the right, ppm.")
    share_percent: str = Field(default="", description="share_ppm as an exact decimal percentage, e.g. 33.3334.")
    split_version: str = Field(
        default="", description='The split version(s) of the right the line comes from: "2", or "1, 3".'
    )
    units: int | None = None
    gross_micros: int | None = None
    amount_micros: int
    original_period: str | None = None
    dispute: str | None = None

    model_config = {"extra": "allow"}


class StatementCurrency(BaseModel):
    opening_micros: int
    earnings_micros: int
    escrow_release_micros: int
    adjustment_micros: int
    payout_micros: int
    closing_micros: int
    earnings: list[StatementLine]
    escrow_releases: list[StatementLine]
    adjustments: list[StatementLine]
    payouts: list[dict[str, Any]]


class StatementPublic(BaseModel):
    """f(party, period, as_of): a pure function of the log up to `as_of_position`."""

    account: str
    party: str | None
    period: str
    as_of_position: int
    previous_period: str | None
    currencies: dict[str, StatementCurrency]
    sales_reports: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Display only, not hashed: each imported sales report behind the account's `RIGHT@SOURCE` "
        "lines — original totals per currency (gross, net, service_fee), conversions (rate, origin, net_micros, "
        "converted_micros, fx_rest) — docs/reports.md.",
    )
    sha256: str = Field(description="SHA-256 of the canonical document (without the hashes).")
    recorded_sha256: str | None = Field(description="The hash recorded when the period was closed, when it was.")
    closed: bool


class PeriodCloseCreate(BaseModel):
    """Close a month. `force` (with a reason) closes a month before it has ended; nothing closes a
    month twice, below a later closed month, or past an open one."""

    model_config = {"extra": "forbid"}

    force: bool = False
    reason: Annotated[str, Field(max_length=2000, description="Required when forcing."), checked("reason")] = ""


class PeriodClosedPublic(BaseModel):
    position: int = Field(description="Log position of the PeriodClosed event.")
    changed: bool
    period: str
    as_of_position: int = Field(description="Statements are computed as of this position.")
    hashes: dict[str, str] = Field(description="Account → SHA-256 of its statement.")
    totals: dict[str, dict[str, dict[str, int]]]


class ChainPublic(BaseModel):
    ok: bool
    head: int
    events_checked: int = Field(description="Every position up to the head is recomputed.")
    written_digests_checked: int = Field(
        description="Positions compared with the digest recorded when their event was written."
    )
    digests_from: int = Field(description="The first position written with its digest (migration 0012).")
    checkpoints: int
    covered_upto: int = Field(description="The last position a checkpoint in the log covers.")
    anchors: int = Field(description="Signed anchor lines checked (ROYALTY_AUDIT_ANCHORS).")
    anchored_upto: int = Field(description="The last position an anchor signed with a key outside the database covers.")
    anchor_key: str | None = Field(description="Id of the public key the anchors were checked with.")
    not_anchored: int = Field(description="Positions after the last anchor.")
    first_mismatch: dict[str, Any] | None
    problems: list[dict[str, Any]] = Field(description="Every position that does not match, in order.")


class AuditStatusPublic(BaseModel):
    ok: bool = Field(description="True when the chain and every registered check hold.")
    chain: ChainPublic
    checks: dict[str, dict[str, Any]] = Field(
        description="Checks registered by other parts of the ledger (e.g. the money equation)."
    )
