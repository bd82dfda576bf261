"""Audit status: the log's hash chain and the usage rows recomputed, the money equation checked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, require
from api.schemas.statements import AuditStatusPublic, ChainPublic
from ledger.audit import verify_chain
from ledger.audit_anchor import load_anchor_log
from ledger.pools.verify import verify_contributions
from ledger.reports.verify import verify_reports
from ledger.usage.verify import verify_usage
from projections.statements.money import verify_money_equation

router = APIRouter(prefix="/v1/audit", tags=["audit"], route_class=ConflictRetryRoute)

Auditor = Annotated[Principal, Depends(require("admin", "auditor", "accountant"))]


@router.get("/status", response_model=AuditStatusPublic)
def status(app: LedgerDep, principal: Auditor) -> AuditStatusPublic:
    """Recompute the hash chain over every position to the head against the digests written
    with the events, every checkpoint and the signed anchors (naming every position that does
    not match), recompute every usage batch's lines, totals and digest from the usage table
    (`usage_rows`), every imported sales report's lines and digest from `report_line_blocks`
    (`report_lines` for reports imported before migration 0034), every
    pool contribution batch from `pool_contributions`, and check the money equation (Σ gross +
    Σ pool contributions + report income = platform + Σ balances + Σ payouts + escrow + suspense
    + pools' undistributed accounts + co-op fund) per currency.
    A full recomputation: expect it to take as long as reading the log."""
    chain = verify_chain(app, load_anchor_log())
    checks = {
        "usage_rows": verify_usage(app).as_dict(),
        "sales_reports": verify_reports(app).as_dict(),
        "pool_contributions": verify_contributions(app).as_dict(),
        "money_equation": verify_money_equation(app, app.config),
    }
    ok = chain.ok and all(bool(result.get("ok")) for result in checks.values())
    return AuditStatusPublic(ok=ok, chain=ChainPublic(**chain.as_dict()), checks=checks)
