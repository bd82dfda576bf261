"""OperationRun: one run of a scheduled job (a month's close, its exports, payouts, a night's audit).

Keyed by (job, subject) — `close` of `2026-11`, `audit` of `2026-12-02` — so the scheduler finds
a run again after a crash and never starts a second one: a run that was started and not finished
is started again (`Restarted`), and its job is written so that doing it again converges. The
outcome is part of the log: `Completed` with what was done, or `Failed` with the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE


def operation_run_id(job: str, subject: str) -> UUID:
    return uuid5(NAMESPACE, f"operation-run:{job}:{subject}")


class OperationRun(Aggregate):
    @staticmethod
    def create_id(job: str, subject: str, **_: Any) -> Any:
        return operation_run_id(job, subject)

    @event("Started")
    def __init__(self, job: str, subject: str, started_at: datetime, actor: str) -> None:
        self.job = job
        self.subject = subject
        self.started_at = started_at
        self.status = "started"
        self.attempts = 1
        self.outcome: dict[str, Any] = {}
        self.reason = ""
        self.finished_at: datetime | None = None

    @event("Restarted")
    def restart(self, started_at: datetime, actor: str) -> None:
        """Started again: after a crash left it unfinished, or after a failure."""
        self.started_at = started_at
        self.status = "started"
        self.attempts += 1

    @event("Completed")
    def complete(self, outcome: dict[str, Any], finished_at: datetime, actor: str) -> None:
        self.status = "completed"
        self.outcome = outcome
        self.finished_at = finished_at

    @event("Failed")
    def fail(self, reason: str, finished_at: datetime, actor: str) -> None:
        self.status = "failed"
        self.reason = reason
        self.finished_at = finished_at
