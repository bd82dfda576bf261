"""The monthly cycle without a person: close, export, deliver, pay, and audit every night.

What is due is decided from two things only — the injected clock and the log — so a tick can be
run any number of times, by any process, after any crash, and converges on the same state:

- a month is closed `close_after_days` after it ends (months close in order, never twice: the
  close is one aggregate per month);
- each month the scheduler closed is exported (`export_dir/<month>/`) and each party's statement
  is delivered by email, once (a StatementDelivery per month and party, retried with backoff);
- the latest closed month is paid out (`run_payouts`: one transfer per party, month and
  currency, idempotent at the gateway), when a payment gateway is configured;
- `audit verify` runs once a day after `audit_hour` UTC and its result is an event.

Every job run is an OperationRun (Started → Completed with its outcome, or Failed with the
reason); a run found started and unfinished was interrupted and is started again.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from ledger.application import RoyaltyLedger
from ledger.audit import verify_chain
from ledger.audit_anchor import load_anchor_log
from ledger.base import NotFound
from ledger.contacts import party_email
from ledger.domain.operation_run import OperationRun, operation_run_id
from ledger.domain.period import Period
from ledger.domain.period_close import PeriodClose, period_close_id
from ledger.domain.statement_delivery import StatementDelivery, statement_delivery_id
from ledger.payments.gateway import TransferGateway
from ledger.payments.payouts import run_payouts
from ledger.store.config import StoreConfig
from ledger.usage.verify import verify_usage
from operations.mail import Mailer, statement_message_id
from projections.statements.close import PeriodStatements, close_period, compute_statements, engine_for
from projections.statements.display import Letterhead, platform_name, position_time
from projections.statements.export import export_period
from projections.statements.money import verify_money_equation
from projections.statements.payouts import min_payout_micros, payout_balances
from projections.statements.pdf import write_pdf

log = logging.getLogger("royalty.scheduler")
PARTY_PREFIX = "party:"


@dataclass(frozen=True)
class ScheduleSettings:
    close_after_days: int = 3
    audit_hour: int = 2
    export_dir: Path = Path("var/statements")
    formats: tuple[str, ...] = ("csv", "pdf", "json")
    delivery_attempts: int = 8
    first_retry: timedelta = timedelta(minutes=5)
    max_retry: timedelta = timedelta(hours=12)
    job_attempts: int = 5
    first_close: Period | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ScheduleSettings:
        env = (os.environ if environ is None else environ).get
        return cls(
            close_after_days=int(env("ROYALTY_CLOSE_AFTER_DAYS", "3")),
            audit_hour=int(env("ROYALTY_AUDIT_HOUR", "2")),
            export_dir=Path(env("ROYALTY_STATEMENTS_DIR", "var/statements")),
            first_close=Period.parse(env("ROYALTY_FIRST_CLOSE", "")) if env("ROYALTY_FIRST_CLOSE") else None,
        )

    def backoff(self, attempts: int) -> timedelta:
        """Wait before attempt `attempts + 1`: first_retry doubled per attempt, capped."""
        delay: timedelta = self.first_retry * (2 ** max(attempts - 1, 0))
        return min(delay, self.max_retry)


@dataclass
class TickReport:
    at: datetime
    jobs: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "jobs": self.jobs, "deliveries": self.deliveries}


class OperationsScheduler:
    def __init__(
        self,
        app: RoyaltyLedger,
        config: StoreConfig,
        *,
        settings: ScheduleSettings | None = None,
        mailer: Mailer | None = None,
        gateway: Callable[[], TransferGateway] | None = None,
        actor: str = "scheduler",
    ) -> None:
        self.app, self.config = app, config
        self.settings = settings or ScheduleSettings()
        self.mailer, self.gateway, self.actor = mailer, gateway, actor

    def tick(self) -> TickReport:
        """Do whatever is due now (by the app's clock); safe to repeat, safe after a crash."""
        report = TickReport(self.app.clock())
        for period in self.due_closes(report.at):
            self._job(report, "close", str(period), partial(self._close, period))
        for period in self.scheduled_periods():
            # a run a crash left unfinished (the month closed, the run not completed) finishes here
            self._job(report, "close", str(period), partial(self._close, period))
            self._job(report, "export", str(period), partial(self._export, period))
            report.deliveries += self._deliver(period, report.at)
        latest = self.closed_periods()[-1:] if self.gateway else []
        for period in latest:
            if self._run_of("close", str(period)) is not None:
                self._job(report, "payouts", str(period), partial(self._payouts, period))
        night = (report.at - timedelta(hours=self.settings.audit_hour)).date()
        self._job(report, "audit", night.isoformat(), self._audit)
        return report

    # --- what is due -------------------------------------------------------------------

    def closed_periods(self) -> list[Period]:
        ids = dict.fromkeys(self.app.aggregate_ids_with(PeriodClose.PeriodClosed))  # type: ignore[attr-defined]
        return sorted((Period.parse(self.app.repository.get(i).period) for i in ids), key=lambda p: p.start)

    def due_closes(self, now: datetime) -> list[Period]:
        """Months that ended `close_after_days` ago and are not closed, oldest first, no gap.

        On a store with no close yet, the first is `first_close` (ROYALTY_FIRST_CLOSE), else the
        latest month due."""
        latest_due = Period.containing(now - timedelta(days=self.settings.close_after_days)).previous()
        closed = self.closed_periods()
        first = closed[-1].next() if closed else self.settings.first_close
        if first is None:
            return [latest_due]
        due, period = [], first
        while period.start <= latest_due.start:
            due.append(period)
            period = period.next()
        return due

    def scheduled_periods(self) -> list[Period]:
        """Closed months whose close the scheduler ran: their exports and deliveries are its job."""
        return [p for p in self.closed_periods() if self._run_of("close", str(p)) is not None]

    # --- job runs ----------------------------------------------------------------------

    def _run_of(self, job: str, subject: str) -> OperationRun | None:
        try:
            run: OperationRun = self.app.repository.get(operation_run_id(job, subject))
        except Exception:  # eventsourcing's AggregateNotFoundError
            return None
        return run

    def _job(self, report: TickReport, job: str, subject: str, body: Callable[[], dict[str, Any]]) -> None:
        now = report.at
        run = self._run_of(job, subject)
        if run is not None and run.status == "completed":
            return
        if run is not None and run.status == "failed":
            retry_at = (run.finished_at or now) + self.settings.backoff(run.attempts)
            if run.attempts >= self.settings.job_attempts or now < retry_at:
                return
        if run is None:
            run = OperationRun(job=job, subject=subject, started_at=now, actor=self.actor)
        else:  # interrupted (started, never finished) or failed and due again
            run.restart(started_at=now, actor=self.actor)
        self.app.save(run)
        try:
            outcome = body()
        except Exception as exc:  # the reason is recorded; the job is tried again later
            log.warning("job %s %s failed: %s", job, subject, exc)
            run.fail(reason=f"{type(exc).__name__}: {exc}", finished_at=self.app.clock(), actor=self.actor)
            self.app.save(run)
            report.jobs.append({"job": job, "subject": subject, "status": "failed", "reason": run.reason})
            return
        run.complete(outcome=outcome, finished_at=self.app.clock(), actor=self.actor)
        self.app.save(run)
        report.jobs.append({"job": job, "subject": subject, "status": "completed", "outcome": outcome})

    def _close(self, period: Period) -> dict[str, Any]:
        if period in self.closed_periods():  # closed before a crash ended the run
            close: PeriodClose = self.app.repository.get(period_close_id(str(period)))
            return {"as_of_position": close.as_of_position, "already_closed": True}
        statements = close_period(self.app, self.config, period, self.actor)
        return {"as_of_position": statements.as_of, "statements": len(statements.documents)}

    def statements(self, period: Period) -> PeriodStatements:
        close: PeriodClose = self.app.repository.get(period_close_id(str(period)))
        engine = engine_for(self.app, self.config, close.as_of_position)
        return compute_statements(engine, period, close.as_of_position)

    def _export(self, period: Period) -> dict[str, Any]:
        statements = self.statements(period)
        out = self.settings.export_dir / str(period)
        names, known_at = self._names(statements), position_time(self.app, statements.as_of)
        written = export_period(statements, list(self.settings.formats), out, names=names, known_at=known_at)
        return {"dir": str(out), "files": len(written)}

    def _names(self, statements: PeriodStatements) -> dict[str, str]:
        names = {}
        for account in statements.documents:
            if account.startswith(PARTY_PREFIX):
                key = account.removeprefix(PARTY_PREFIX)
                try:
                    names[key] = self.app.get_party(key).name
                except NotFound:
                    names[key] = key
        return names

    def _payouts(self, period: Period) -> dict[str, Any]:
        assert self.gateway is not None
        result = run_payouts(
            self.app,
            period,
            payout_balances(self.app, period),
            self.gateway(),
            actor=self.actor,
            minimum_micros=min_payout_micros(),
        )
        if not result.ok:
            raise RuntimeError(f"payouts for {period} left pending: {result.to_dict()}")
        lines = [*result.resumed, *result.lines]
        return {
            "sent": sum(1 for x in lines if x.status == "sent"),
            "lines": {f"{x.party}/{x.currency}": f"{x.status} {x.amount_micros} {x.reason}".strip() for x in lines},
        }

    def _audit(self) -> dict[str, Any]:
        chain = verify_chain(self.app, load_anchor_log())  # the signed anchors too, like `audit verify`
        usage = verify_usage(self.app)
        money = verify_money_equation(self.app, self.config)
        first = chain.first_mismatch.position if chain.first_mismatch else None
        return {
            "ok": bool(chain.ok and usage.ok and money["ok"]),
            "head": chain.head,
            "chain_ok": chain.ok,
            "first_mismatch": first,
            "usage_ok": usage.ok,
            "money_ok": bool(money["ok"]),
        }

    # --- statement delivery ------------------------------------------------------------

    def _deliver(self, period: Period, now: datetime) -> list[dict[str, Any]]:
        if self.mailer is None:
            return []
        statements: PeriodStatements | None = None
        done = []
        for party in self._parties_of(period):
            delivery = self._delivery(str(period), party)
            if delivery.status in ("delivered", "failed"):
                continue
            if delivery.next_attempt_at and now < delivery.next_attempt_at:
                continue
            statements = statements or self.statements(period)
            done.append(self._attempt(delivery, statements, now))
        return done

    def _parties_of(self, period: Period) -> list[str]:
        close: PeriodClose = self.app.repository.get(period_close_id(str(period)))
        accounts = set(close.account_totals) | set(close.statement_hashes)
        return sorted(a.removeprefix(PARTY_PREFIX) for a in accounts if a.startswith(PARTY_PREFIX))

    def _delivery(self, period: str, party: str) -> StatementDelivery:
        try:
            found: StatementDelivery = self.app.repository.get(statement_delivery_id(period, party))
        except Exception:  # not requested yet
            found = StatementDelivery(
                period=period, party=party, message_id=statement_message_id(period, party), actor=self.actor
            )
            self.app.save(found)
        return found

    def _attempt(self, delivery: StatementDelivery, statements: PeriodStatements, now: datetime) -> dict[str, Any]:
        assert self.mailer is not None
        party, period = delivery.party, delivery.period
        try:
            address = self._email_of(party)
            name = self._names(statements).get(party, party)
            pdf = self._pdf(statements, party, name)
            self.mailer.send_statement(address, name, period, delivery.message_id, pdf, f"statement-{period}.pdf")
        except Exception as exc:  # no address, a refusing server, a network error: retried later
            reason = f"{type(exc).__name__}: {exc}"
            retry = now + self.settings.backoff(delivery.attempts + 1)
            last = delivery.attempts + 1 >= self.settings.delivery_attempts
            delivery.record_failed(reason=reason, at=now, next_attempt_at=None if last else retry, actor=self.actor)
            self.app.save(delivery)
            return {"period": period, "party": party, "status": delivery.status, "reason": reason}
        delivery.record_delivered(address=address, at=self.app.clock(), actor=self.actor)
        self.app.save(delivery)
        return {"period": period, "party": party, "status": "delivered", "address": address}

    def _email_of(self, party: str) -> str:
        address = party_email(self.app, party)
        if address is None:
            raise LookupError(f"no email address for {party} (royalty parties set-email)")
        return address

    def _pdf(self, statements: PeriodStatements, party: str, name: str) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "statement.pdf"
            letterhead = Letterhead(platform_name(), name, position_time(self.app, statements.as_of))
            write_pdf(statements.documents[PARTY_PREFIX + party], letterhead, path)
            return path.read_bytes()
