"""The audit status on the operators' page: the last verification recorded (the nightly
scheduler's, `royalty audit verify`'s recomputation run from this page), the latest checkpoint
with its chain hash, and a verification run now — the same three checks as `GET /v1/audit/status`
(hash chain to the head with checkpoints and anchors, usage rows, the money equation), recorded
as an `OperationRun` of job `audit` with the user as actor, like the scheduler's nightly one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.application import RoyaltyLedger
from ledger.audit import verify_chain
from ledger.audit_anchor import load_anchor_log
from ledger.domain.checkpoint import AuditCheckpoint
from ledger.domain.operation_run import OperationRun
from ledger.usage.verify import verify_usage
from projections.statements.money import verify_money_equation


def last_verification(app: RoyaltyLedger) -> dict[str, Any] | None:
    """The latest finished `audit` run (Completed: its outcome; Failed: its reason)."""
    topics = app.topics_of(OperationRun.Started, OperationRun.Completed, OperationRun.Failed)  # type: ignore[attr-defined]
    audits: set[Any] = set()
    found: dict[str, Any] | None = None
    for notification in app.read_log(topics=topics):
        event = app.decode(notification)
        if isinstance(event, OperationRun.Started) and event.job == "audit":  # type: ignore[attr-defined]
            audits.add(notification.originator_id)
        elif notification.originator_id in audits:
            outcome = dict(getattr(event, "outcome", {}) or {})
            reason = getattr(event, "reason", "")
            found = {
                "position": notification.id,
                "finished_at": event.finished_at,
                "actor": event.actor,
                "ok": bool(outcome.get("ok")) and not reason,
                "head": outcome.get("head"),
                "chain_hash": outcome.get("chain_hash"),
                "first_mismatch": outcome.get("first_mismatch"),
                "checks": {k: outcome[k] for k in ("chain_ok", "usage_ok", "money_ok") if k in outcome},
                "reason": reason,
            }
    return found


def latest_checkpoint(app: RoyaltyLedger) -> dict[str, Any] | None:
    found = None
    for notification in app.read_log(topics=app.topics_of(AuditCheckpoint.Recorded)):
        event = app.decode(notification)
        found = {
            "position": notification.id,
            "upto_position": event.upto_position,
            "chain_hash": event.chain_hash,
            "recorded_at": event.timestamp,
        }
    return found


def verify_now(app: RoyaltyLedger, actor: str, now: datetime) -> dict[str, Any]:
    """Recompute everything to the head and record the outcome as an audit run."""
    run = OperationRun(job="audit", subject=f"dashboard {now.isoformat()}", started_at=now, actor=actor)
    app.save(run)
    try:
        chain = verify_chain(app, load_anchor_log())
        usage = verify_usage(app)
        money = verify_money_equation(app, app.config)
    except Exception as exc:  # the reason is recorded, never swallowed
        run.fail(reason=f"{type(exc).__name__}: {exc}", finished_at=app.clock(), actor=actor)
        app.save(run)
        raise
    first = chain.first_mismatch.position if chain.first_mismatch else None
    outcome = {
        "ok": bool(chain.ok and usage.ok and money["ok"]),
        "head": chain.head,
        "chain_hash": chain.chain_hash,
        "chain_ok": chain.ok,
        "first_mismatch": first,
        "usage_ok": usage.ok,
        "money_ok": bool(money["ok"]),
    }
    run.complete(outcome=outcome, finished_at=app.clock(), actor=actor)
    app.save(run)
    return outcome
