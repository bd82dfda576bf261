"""Usage reporting: JSON batches and file uploads (CSV / NDJSON / Parquet), and the quarantine."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile

from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, SettingsDep, require
from api.errors import PayloadTooLarge
from api.schemas.usage import (
    QuarantinedRowPublic,
    UsageBatchCreate,
    UsageReportPublic,
)
from ledger.domain.party import DomainError
from ledger.usage.ingest import ingest_files, ingest_rows
from ledger.usage.quarantine import list_quarantine
from ledger.usage.readers import FORMATS, UnreadableFile, detect_format

router = APIRouter(prefix="/v1/usage", tags=["usage"], route_class=ConflictRetryRoute)

Reporter = Annotated[Principal, Depends(require("admin", "platform"))]
Inspector = Annotated[Principal, Depends(require("admin", "platform", "accountant", "auditor"))]
_NOT_CONFIGURED: dict[int | str, dict[str, Any]] = {
    503: {"description": "`usage-not-configured`: the listener-id secret is not set"}
}
_SUFFIX = {"csv": ".csv", "ndjson": ".ndjson", "parquet": ".parquet"}


def _report(app: LedgerDep, summary: dict[str, Any]) -> UsageReportPublic:
    position = max(summary["positions"], default=0) or app.head_position()
    return UsageReportPublic.of(summary, position)


@router.post("/batches", response_model=UsageReportPublic, responses=_NOT_CONFIGURED)
def report_batch(
    body: UsageBatchCreate, app: LedgerDep, settings: SettingsDep, principal: Reporter
) -> UsageReportPublic:
    """Report plays and sales as JSON. The batch is recorded all in or all out, as one
    UsageBatch event with its rows. Rows seen before count as duplicates (never a second
    accrual); rows the ledger cannot accept are quarantined with their reason."""
    if len(body.rows) > settings.max_batch_rows:
        raise PayloadTooLarge("the batch", settings.max_batch_rows, "rows")
    rows = [r.model_dump(exclude_none=True) for r in body.rows]
    summary = ingest_rows(app, rows, actor=principal.actor, source=body.source, batch_size=settings.max_batch_rows)
    return _report(app, summary.to_dict())


@router.post("/files", response_model=UsageReportPublic, responses=_NOT_CONFIGURED)
def report_file(
    file: Annotated[UploadFile, File(description="CSV, NDJSON or Parquet (by file name).")],
    app: LedgerDep,
    principal: Reporter,
    source: Annotated[str, Form(min_length=1, max_length=40)] = "player",
    format: Annotated[
        str | None, Form(pattern="^(csv|ndjson|parquet)$", description="Overrides the file name's suffix.")
    ] = None,
) -> UsageReportPublic:
    """Upload a usage file; it is read in batches, each recorded all in or all out."""
    fmt = format or detect_format(Path(file.filename or "upload"))
    if fmt not in FORMATS:
        raise DomainError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
    with tempfile.TemporaryDirectory(prefix="royalty-upload-") as folder:
        path = Path(folder) / f"upload{_SUFFIX[fmt]}"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out, length=1024 * 1024)
        try:
            summary = ingest_files(app, [path], actor=principal.actor, source=source)
        except UnreadableFile as exc:  # name the client's file, not the server's temp path
            raise UnreadableFile(str(exc).replace(str(path), file.filename or "upload")) from None
    return _report(app, summary.to_dict())


@router.get("/quarantine", response_model=list[QuarantinedRowPublic])
def quarantine(
    app: LedgerDep,
    principal: Inspector,
    include_resolved: Annotated[bool, Query()] = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
) -> list[QuarantinedRowPublic]:
    """Quarantined rows, oldest first, with reason, detail and the row (listener id hashed)."""
    rows = list_quarantine(app, include_resolved=include_resolved)[:limit]
    return [QuarantinedRowPublic.model_validate(r.to_dict()) for r in rows]
