"""Sales reports from other services: import a file, list reports, the matching queue, links."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile

from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, require
from api.schemas.common import WriteResult
from api.schemas.reports import (
    IdentifierLinkCreate,
    QuarantinedReportLinePublic,
    QueueEntryPublic,
    ReportImportPublic,
    ReportPublic,
    TaxHeldPublic,
    TaxRemittanceCreate,
    TaxRemittancePublic,
)
from ledger.reports.commands import get_source, link_identifier
from ledger.reports.importer import MAX_REPORT_BYTES, import_report
from ledger.reports.queries import list_quarantine, list_reports
from ledger.royalties import read_rights_history
from projections.statements.close import engine_for
from projections.statements.reports_queue import matching_queue
from projections.statements.tax_remittance import over_remitted, remit_withholding_tax, tax_held

router = APIRouter(prefix="/v1/reports", tags=["reports"], route_class=ConflictRetryRoute)

Importer = Annotated[Principal, Depends(require("admin", "platform", "accountant"))]
Inspector = Annotated[Principal, Depends(require("admin", "platform", "accountant", "auditor"))]
Admin = Annotated[Principal, Depends(require("admin"))]


@router.post("", response_model=ReportImportPublic)
def import_file(
    file: Annotated[
        UploadFile,
        File(description="A DDEX DSR flat file, or a CSV/TSV or workbook (xlsx, xls, ods) the source's mapping reads."),
    ],
    app: LedgerDep,
    principal: Importer,
    source: Annotated[str, Form(min_length=1, max_length=200)],
    period: Annotated[str | None, Form(pattern=r"^\d{4}-\d{2}$")] = None,
    rate: Annotated[str | None, Form(max_length=40, description="The rate the report states (exact decimal).")] = None,
    supersedes: Annotated[str | None, Form(max_length=40, description="The report this one corrects.")] = None,
) -> ReportImportPublic:
    """Import one report: one SalesReport event with its lines, all in or all out. The same file
    again changes nothing; a corrected one names the report it supersedes."""
    data = file.file.read(MAX_REPORT_BYTES + 1)
    result = import_report(
        app,
        data,
        source=source,
        actor=principal.actor,
        file_name=file.filename or "",
        period=period,
        stated_rate=rate,
        supersedes=supersedes,
    )
    doc = result.to_dict()
    doc.pop("ok")
    doc.pop("position")
    doc.pop("seconds")
    if supersedes and not result.already_imported:
        doc["tax_over_remitted"] = [TaxHeldPublic.model_validate(t.as_dict()) for t in over_remitted(app)]
    return ReportImportPublic(
        **doc, position=result.position or app.head_position(), changed=not result.already_imported
    )


@router.get("", response_model=list[ReportPublic])
def reports(app: LedgerDep, principal: Inspector) -> list[ReportPublic]:
    """Every imported report with its totals, oldest first, and the report that superseded it."""
    return [ReportPublic.model_validate(r) for r in list_reports(app)]


@router.get("/queue", response_model=list[QueueEntryPublic])
def queue(
    app: LedgerDep, principal: Inspector, source: Annotated[str | None, Query(max_length=200)] = None
) -> list[QueueEntryPublic]:
    """The matching queue at the head: unmatched lines (held in `suspense:unmatched-report`). An
    unknown source is 404."""
    if source is not None:
        get_source(app, source)
    head = app.head_position()
    entries = matching_queue(app.config, read_rights_history(app, head), head, source)
    return [QueueEntryPublic.model_validate(e) for e in entries]


@router.post("/links", response_model=WriteResult)
def link(body: IdentifierLinkCreate, app: LedgerDep, principal: Importer) -> WriteResult:
    """Link a source's identifier to a recording: remembered for every report of the source."""
    recorded = link_identifier(app, body.source, body.kind, body.id, body.isrc, body.note, principal.actor)
    return WriteResult(position=app.head_position(), changed=recorded)


@router.get("/quarantine", response_model=list[QuarantinedReportLinePublic])
def quarantine(
    app: LedgerDep,
    principal: Inspector,
    source: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
) -> list[QuarantinedReportLinePublic]:
    """Report lines that could not be accepted, with reason, detail and raw values. An unknown
    source is 404."""
    return [QuarantinedReportLinePublic.model_validate(r) for r in list_quarantine(app, source, limit)]


@router.post("/tax-remittances", response_model=TaxRemittancePublic)
def remit_tax(body: TaxRemittanceCreate, app: LedgerDep, principal: Admin) -> TaxRemittancePublic:
    """Record withholding tax paid over to the tax authority: it leaves `tax:<territory>` (admin
    only). Refused (422) when it is more than the account holds, as known at the head."""
    remittance, after = remit_withholding_tax(
        app,
        territory=body.territory,
        currency=body.currency,
        amount_micros=body.amount_micros,
        periods=body.periods,
        reference=body.reference,
        actor=principal.actor,
    )
    return TaxRemittancePublic(
        **after.as_dict(),
        position=app.head_position(),
        changed=True,
        remittance_id=str(remittance.id),
        amount_micros=remittance.amount_micros,
        periods=remittance.periods,
        reference=remittance.reference,
    )


@router.get("/tax-held", response_model=list[TaxHeldPublic])
def held_tax(app: LedgerDep, principal: Inspector) -> list[TaxHeldPublic]:
    """Every withholding tax account at the head: withheld, remitted and still held, per currency."""
    head = app.head_position()
    return [TaxHeldPublic.model_validate(t.as_dict()) for t in tax_held(engine_for(app, app.config, head), head)]
