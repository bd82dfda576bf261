"""Audit status: the log's hash chain recomputed, and every check the ledger registers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import Principal
from api.deps import LedgerDep, require
from api.schemas.statements import AuditStatusPublic, ChainPublic
from ledger.audit import verify_chain
from ledger.audit_checks import registered_checks
from projections.statements.money import verify_money_equation

router = APIRouter(prefix="/v1/audit", tags=["audit"])

Auditor = Annotated[Principal, Depends(require("admin", "auditor", "accountant"))]


@router.get("/status", response_model=AuditStatusPublic)
def status(app: LedgerDep, principal: Auditor) -> AuditStatusPublic:
    """Recompute the hash chain from position 1 against every checkpoint (naming the first
    position that does not match) and run the registered checks, such as the money equation
    Σ gross = platform + Σ balances + Σ payouts + escrow + suspense per currency.
    A full recomputation: expect it to take as long as reading the log."""
    chain = verify_chain(app)
    checks = {name: check(app) for name, check in registered_checks()}
    if "money_equation" not in checks:
        checks["money_equation"] = verify_money_equation(app, app.config)
    ok = chain.ok and all(bool(result.get("ok")) for result in checks.values())
    return AuditStatusPublic(ok=ok, chain=ChainPublic(**chain.as_dict()), checks=checks)
