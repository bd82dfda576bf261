"""The monthly cycle on a fake clock: two month-ends, a real SMTP server, a real transfers server,
and a scheduler killed mid-job that converges — each month closed once, each statement delivered
once, each payout made once, the nightly audit recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.application import RoyaltyLedger
from ledger.contacts import set_party_email
from ledger.domain.operation_run import OperationRun, operation_run_id
from ledger.domain.period_close import PeriodClose
from ledger.domain.statement_delivery import StatementDelivery, statement_delivery_id
from ledger.payments.payouts import link_payout_account
from ledger.payments.stripe_adapter import StripeSettings, StripeTransfers
from ledger.store.config import StoreConfig
from ledger.usage.ingest import UsageIngest
from ledger.usage.rows import normalise_dicts
from operations.mail import Mailer, SmtpSettings
from operations.scheduler import OperationsScheduler, ScheduleSettings
from tests.payments_helpers import payments_catalogue
from tests.peers.fixtures import API_KEY, transfers
from tests.peers.smtp import Inbox, running_smtp_server
from tests.peers.transfers_server import TransfersState
from tests.usage_helpers import ISRCS, SECRET, sale

__all__ = ["transfers"]
ROOT = Path(__file__).resolve().parents[2]
ISRC = ISRCS[0]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    app: RoyaltyLedger
    clock: Clock
    config: StoreConfig
    inbox: Inbox
    transfers: TransfersState
    env: dict[str, str]

    def scheduler(self) -> OperationsScheduler:
        return OperationsScheduler(
            self.app,
            self.config,
            settings=ScheduleSettings.from_env(self.env),
            mailer=Mailer(SmtpSettings.from_env(self.env)),
            gateway=lambda: StripeTransfers(StripeSettings.from_env(self.env)),
        )

    def crash(self, at: datetime, where: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "tests.peers.crashing_scheduler", at.isoformat(), where],
            env={**os.environ, **self.env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == -9, done.stderr  # SIGKILL, as planned

    def events(self, event_class: type) -> list[Any]:
        return list(self.app.read_log(topics=self.app.topics_of(event_class)))

    def run(self, job: str, subject: str) -> OperationRun:
        run: OperationRun = self.app.repository.get(operation_run_id(job, subject))
        return run


@contextmanager
def _world(config: StoreConfig, transfers: tuple[str, TransfersState], tmp_path: Path) -> Iterator[World]:
    url, state = transfers
    clock = Clock(datetime(2026, 10, 20, tzinfo=UTC))
    app = RoyaltyLedger(config, clock=clock)
    payments_catalogue(app)  # aria 60 % / lbl 40 % of the master; 30 % to the platform
    for party in ("aria", "lbl"):
        set_party_email(app, party, f"{party}@example.org", "test")
        link_payout_account(app, party, f"acct_{party}", "test")
    with running_smtp_server() as (port, inbox):
        env = {
            "ROYALTY_DATABASE_URL": config.describe(),
            "ROYALTY_SMTP_HOST": "127.0.0.1",
            "ROYALTY_SMTP_PORT": str(port),
            "ROYALTY_STRIPE_API_KEY": API_KEY,
            "ROYALTY_STRIPE_API_BASE": url,
            "ROYALTY_STATEMENTS_DIR": str(tmp_path / "statements"),
            "ROYALTY_CLOSE_AFTER_DAYS": "3",
            "ROYALTY_FIRST_CLOSE": "2026-10",
            "ROYALTY_MIN_PAYOUT": "10",
        }
        yield World(app, clock, config, inbox, state, env)
    app.close()


@pytest.fixture
def world(store_config: StoreConfig, transfers: tuple[str, TransfersState], tmp_path: Path) -> Iterator[World]:
    """On SQLite and PostgreSQL."""
    with _world(store_config, transfers, tmp_path) as made:
        yield made


@pytest.fixture
def sqlite_world(sqlite_config: StoreConfig, transfers: tuple[str, TransfersState], tmp_path: Path) -> Iterator[World]:
    with _world(sqlite_config, transfers, tmp_path) as made:
        yield made


def _sell(app: RoyaltyLedger, sale_id: str, amount: str, at: str) -> None:
    rows = normalise_dicts([sale(sale_id, amount, at=at, isrc=ISRC, kind="download")], "store")
    UsageIngest(app, "store", secret=SECRET).record(rows)


def test_two_month_ends_close_deliver_pay_and_audit_once_each_even_after_kills(world: World) -> None:
    app, clock = world.app, world.clock
    _sell(app, "oct-1", "100.00", "2026-10-05T10:00:00Z")

    clock.now = datetime(2026, 11, 3, 12, tzinfo=UTC)  # October ended 2½ days ago: not due yet
    world.scheduler().tick()
    assert world.events(PeriodClose.PeriodClosed) == [] and world.inbox.messages == []

    clock.now = datetime(2026, 11, 4, 3, tzinfo=UTC)
    first = world.scheduler().tick()
    assert {(j["job"], j["subject"], j["status"]) for j in first.jobs} == {
        ("close", "2026-10", "completed"),
        ("export", "2026-10", "completed"),
        ("payouts", "2026-10", "completed"),
        ("audit", "2026-11-04", "completed"),
    }, first.jobs
    assert sorted(m["To"] for m in world.inbox.messages) == ["aria@example.org", "lbl@example.org"], first.deliveries
    assert sorted((t["destination"], t["amount"]) for t in world.transfers.transfers) == [
        ("acct_aria", 4200),  # 100 EUR × 70 % × 60 %
        ("acct_lbl", 2800),
    ]
    head = app.head_position()
    world.scheduler().tick()  # the same instant again: nothing is due, nothing is recorded
    assert app.head_position() == head and len(world.inbox.messages) == 2

    clock.now = datetime(2026, 11, 20, tzinfo=UTC)
    _sell(app, "nov-1", "50.00", "2026-11-10T10:00:00Z")
    december = datetime(2026, 12, 4, 3, tzinfo=UTC)
    world.crash(december, "after-close")  # November closed, its run never completed
    assert world.run("close", "2026-11").status == "started"
    world.crash(december, "before-second-email")  # one statement sent and recorded, then killed
    assert len(world.inbox.messages) == 3
    clock.now = december
    last = world.scheduler().tick()

    closes = [app.decode(n).period for n in world.events(PeriodClose.PeriodClosed)]
    assert closes == ["2026-10", "2026-11"]
    rerun = world.run("close", "2026-11")
    assert (rerun.status, rerun.attempts, rerun.outcome.get("already_closed")) == ("completed", 2, True), vars(rerun)
    sent = sorted((m["To"], m["Subject"][-7:]) for m in world.inbox.messages)
    assert sent == [
        ("aria@example.org", "2026-10"),
        ("aria@example.org", "2026-11"),
        ("lbl@example.org", "2026-10"),
        ("lbl@example.org", "2026-11"),
    ]
    assert len({m["Message-ID"] for m in world.inbox.messages}) == 4
    pdfs = [p for m in world.inbox.messages for p in m.iter_attachments()]
    assert len(pdfs) == 4 and all(p.get_content()[:5] == b"%PDF-" for p in pdfs)
    for period in ("2026-10", "2026-11"):
        for party in ("aria", "lbl"):
            delivery: StatementDelivery = app.repository.get(statement_delivery_id(period, party))
            assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert sorted((t["destination"], t["amount"]) for t in world.transfers.transfers) == [  # each once
        ("acct_aria", 2100),
        ("acct_aria", 4200),
        ("acct_lbl", 1400),
        ("acct_lbl", 2800),
    ], last.jobs
    for night in ("2026-11-04", "2026-12-04"):
        audit = world.run("audit", night)
        assert audit.status == "completed" and audit.outcome["ok"] is True and audit.outcome["chain_ok"] is True


def test_a_refusing_mail_server_is_retried_with_backoff_and_delivered_once(sqlite_world: World) -> None:
    world = sqlite_world
    app, clock = world.app, world.clock
    _sell(app, "oct-1", "100.00", "2026-10-05T10:00:00Z")
    world.inbox.refuse = True
    clock.now = datetime(2026, 11, 4, 3, tzinfo=UTC)
    world.scheduler().tick()
    failed: StatementDelivery = app.repository.get(statement_delivery_id("2026-10", "aria"))
    assert failed.status == "retrying" and "451" in failed.reason and failed.attempts == 1
    assert failed.next_attempt_at == datetime(2026, 11, 4, 3, 5, tzinfo=UTC)
    world.inbox.refuse = False
    clock.now = datetime(2026, 11, 4, 3, 4, tzinfo=UTC)  # before the backoff ends: no attempt
    world.scheduler().tick()
    assert world.inbox.messages == []
    clock.now = datetime(2026, 11, 4, 3, 5, tzinfo=UTC)
    world.scheduler().tick()
    world.scheduler().tick()
    assert sorted(m["To"] for m in world.inbox.messages) == ["aria@example.org", "lbl@example.org"]
    delivered: StatementDelivery = app.repository.get(statement_delivery_id("2026-10", "aria"))
    assert (delivered.status, delivered.attempts) == ("delivered", 2)


def test_metrics_and_the_api_report_deliveries_the_last_close_and_the_last_audit(sqlite_world: World) -> None:
    world = sqlite_world
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import create_key

    _sell(world.app, "oct-1", "100.00", "2026-10-05T10:00:00Z")
    _sell(world.app, "oct-bad", "-3.00", "2026-10-05T10:00:00Z")  # quarantined: a negative sale
    world.inbox.refuse = True
    world.clock.now = datetime(2026, 11, 4, 3, tzinfo=UTC)
    world.scheduler().tick()
    admin = {"Authorization": f"Bearer {create_key(world.app, 'admin', 'test').token}"}
    from ledger.domain.webhook_subscription import OPERATOR, WebhookSubscription

    # Two never-dispatched subscriptions (one past the first sale, one with a message set aside)
    # and a cancelled one, which counts for nothing.
    names = [type(world.app.decode(n)).__qualname__ for n in world.app.read_log(1)]
    sales_closes = [i + 1 for i, n in enumerate(names) if n in ("UsageBatch.Recorded", "PeriodClose.PeriodClosed")]
    assert len(sales_closes) >= 2
    url = "http://127.0.0.1:9/hook"
    behind = WebhookSubscription(OPERATOR, url, ["sale.recorded", "statement.issued"], "t")
    behind.advance(position=sales_closes[0], delivered=1)
    poisoned = WebhookSubscription(OPERATOR, url, ["statement.issued"], "t")
    poisoned.dead_letter(message_id="msg_x", position=1, event_type="statement.issued", reason="HTTP 500", attempts=8)
    gone = WebhookSubscription(OPERATOR, url, ["sale.recorded"], "t")
    gone.cancel("t")
    world.app.save(behind, poisoned, gone)
    closes = names.count("PeriodClose.PeriodClosed")
    with TestClient(create_app(world.config, clock=world.clock)) as client:
        text = client.get("/metrics").text
        delivery = client.get("/v1/parties/aria/statements/2026-10/delivery", headers=admin).json()
        missing = client.get("/v1/parties/aria/statements/2026-09/delivery", headers=admin)
    assert (delivery["status"], delivery["attempts"]) == ("retrying", 1) and "451" in delivery["reason"]
    assert delivery["message_id"] == "<statement.2026-10.aria@royalty-ledger>" and missing.status_code == 404
    values = {
        line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line and not line.startswith("#")
    }
    assert values["royalty_usage_rows"] == 1 and values["royalty_usage_quarantined_rows"] == 1
    assert values["royalty_statement_deliveries"] == 0 and values["royalty_statement_delivery_failures"] == 2
    assert values["royalty_last_audit_ok"] == 1
    assert values["royalty_last_closed_period_end_timestamp_seconds"] == datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    assert values["royalty_log_head_position"] == world.app.head_position()
    assert values["royalty_webhook_queue_depth"] == (len(sales_closes) - 1) + closes
    assert values["royalty_webhook_dead_letters"] == 1 and values["royalty_webhook_dead_lettered"] == 1
