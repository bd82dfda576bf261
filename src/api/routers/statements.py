"""Statements: one party's month as known at a position — JSON, CSV or PDF."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, require, scoped_party
from api.positions import capture_writes, wait_for_position
from api.schemas.statements import PeriodCloseCreate, PeriodClosedPublic, StatementPublic
from ledger.application import NotFound
from ledger.domain.period import Period
from ledger.domain.statement_delivery import StatementDelivery, statement_delivery_id
from projections.statements.close import close_period, engine_for
from projections.statements.display import Letterhead, platform_name, position_time
from projections.statements.export import write_csv
from projections.statements.pdf import write_pdf
from projections.statements.statement import build_statement, statement_hash

router = APIRouter(tags=["statements"], route_class=ConflictRetryRoute)

Reader = Annotated[str, Depends(scoped_party("admin", "accountant", "auditor"))]
Closer = Annotated[Principal, Depends(require("admin", "accountant"))]
PeriodText = Annotated[str, PathParam(pattern=r"^\d{4}-\d{2}$", examples=["2026-10"])]
_MEDIA = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


@router.get(
    "/v1/parties/{party_key}/statements/{period}",
    response_model=StatementPublic,
    responses={200: {"content": {"text/csv": {}, "application/pdf": {}}}},
)
def statement(
    party_key: Reader,
    period: PeriodText,
    app: LedgerDep,
    as_of: Annotated[int | None, Query(ge=1, description="Log position; default: the close, else the head.")] = None,
    format: Annotated[Literal["json", "csv", "pdf"], Query()] = "json",
) -> StatementPublic | Response:
    """The statement for `period` (YYYY-MM) as known at `as_of`: opening balance, earnings by
    recording × usage type × territory, adjustments to earlier periods, escrow releases,
    payouts, closing balance — per currency. The same inputs give the same bytes."""
    month = Period.parse(period)
    wait_for_position(app, as_of)
    engine = engine_for(app, app.config)
    closed = engine.history.closes.get(str(month))
    position = as_of or (closed.as_of_position if closed else engine.history.upto)
    account = f"party:{party_key}"
    doc = build_statement(engine, account, month, position)
    recorded = closed.statement_hashes.get(account) if closed and position == closed.as_of_position else None
    if format == "json":
        return StatementPublic(**doc, sha256=statement_hash(doc), recorded_sha256=recorded, closed=closed is not None)
    with tempfile.TemporaryDirectory(prefix="royalty-statement-") as folder:
        path = Path(folder) / f"statement.{format}"
        letterhead = Letterhead(platform_name(), app.get_party(party_key).name, position_time(app, position))
        if format == "csv":
            write_csv(doc, path, letterhead)
        else:
            write_pdf(doc, letterhead, path)
        content = path.read_bytes()
    filename = f"statement-{party_key}-{month}-at-{position}.{format}"
    return Response(
        content, media_type=_MEDIA[format], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.post(
    "/v1/statements/{period}/close",
    response_model=PeriodClosedPublic,
    status_code=201,
    responses={409: {"description": "Conflicts with the closes recorded (even when forced)"}},
)
def close(period: PeriodText, body: PeriodCloseCreate, app: LedgerDep, principal: Closer) -> PeriodClosedPublic:
    """Close a month: compute every account's statement at the head of the log and record
    PeriodClosed with their totals and hashes. Later usage, back-dated splits and dispute
    outcomes for the month then appear as adjustments in the next statement. Refused (422)
    before the month has ended, unless forced with a reason; refused (409) even when forced if
    the month is already closed, a later month is closed, or the month before is still open
    (closed months run without a gap, so every statement's opening balance carries them all)."""
    month = Period.parse(period)
    with capture_writes() as written:
        done = close_period(app, app.config, month, principal.actor, force=body.force, reason=body.reason)
    return PeriodClosedPublic(
        position=written.position(app),
        changed=True,
        period=str(month),
        as_of_position=done.as_of,
        hashes=done.hashes,
        totals=done.totals,
    )


class StatementDeliveryPublic(BaseModel):
    period: str
    party: str
    status: str = Field(description="pending, delivered, retrying (next_attempt_at) or failed (no more attempts).")
    attempts: int
    message_id: str = Field(description="The email's Message-ID: the same for every attempt.")
    address: str = Field(description="Where it was delivered (empty until delivered).")
    delivered_at: datetime | None
    reason: str = Field(description="Why the last attempt failed.")
    next_attempt_at: datetime | None


@router.get("/v1/parties/{party_key}/statements/{period}/delivery", response_model=StatementDeliveryPublic)
def statement_delivery(party_key: Reader, period: PeriodText, app: LedgerDep) -> StatementDeliveryPublic:
    """How the statement for `period` was sent to the party by email (the scheduler's job):
    delivered, being retried with the reason, or failed; 404 before the scheduler took it up."""
    month = str(Period.parse(period))
    try:
        found: StatementDelivery = app.repository.get(statement_delivery_id(month, party_key))
    except AggregateNotFoundError:
        raise NotFound(f"no delivery of the {month} statement of {party_key}") from None
    return StatementDeliveryPublic(
        period=found.period,
        party=found.party,
        status=found.status,
        attempts=found.attempts,
        message_id=found.message_id,
        address=found.address,
        delivered_at=found.delivered_at,
        reason=found.reason,
        next_attempt_at=found.next_attempt_at,
    )
