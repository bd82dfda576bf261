"""`royalty run` (the supervised process tree) and `royalty scheduler run | tick`."""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from cli.context import ledger, store_config
from cli.output import JSON_OPTION, console, report, table
from ledger.payments.gateway import TransferGateway
from ledger.payments.stripe_adapter import StripeSettings, StripeTransfers
from operations.logs import configure_json_logs
from operations.mail import Mailer, MailNotConfigured, SmtpSettings
from operations.scheduler import OperationsScheduler, ScheduleSettings
from operations.supervisor import Supervisor, default_children
from operations.webhooks import KEY_ENV

app = typer.Typer(help="The operations scheduler: close, export, deliver, pay, audit.", no_args_is_help=True)
INTERVAL_ENV = "ROYALTY_SCHEDULER_INTERVAL"
log = logging.getLogger("royalty.scheduler")


def scheduler() -> OperationsScheduler:
    """The scheduler as configured: SMTP and Stripe when their settings are present."""
    try:
        mailer: Mailer | None = Mailer(SmtpSettings.from_env())
    except MailNotConfigured:
        mailer = None
    gateway = None
    if StripeSettings.from_env().api_key:

        def gateway() -> TransferGateway:
            return StripeTransfers(StripeSettings.from_env())

    return OperationsScheduler(
        ledger(), store_config(), settings=ScheduleSettings.from_env(), mailer=mailer, gateway=gateway
    )


@app.command("tick")
def tick(as_json: bool = JSON_OPTION) -> None:
    """Do whatever is due now, once (for cron or a systemd timer); safe to repeat at any time."""
    done = scheduler().tick()
    doc: dict[str, Any] = done.as_dict()
    rows = [(j["job"], j["subject"], j["status"], j.get("reason") or j.get("outcome")) for j in done.jobs]
    rows += [("deliver", f"{d['period']} {d['party']}", d["status"], d.get("reason", "")) for d in done.deliveries]
    report(
        doc, as_json, lambda: console.print(table(f"due at {doc['at']}", ["job", "subject", "status", "detail"], rows))
    )
    if any(j["status"] == "failed" for j in done.jobs):
        raise typer.Exit(1)


@app.command("run")
def run_scheduler(
    interval: int = typer.Option(
        int(os.environ.get(INTERVAL_ENV, "60")),
        "--interval",
        min=1,
        help="Seconds between ticks (ROYALTY_SCHEDULER_INTERVAL).",
    ),
) -> None:
    """Tick every --interval seconds (APScheduler; one tick at a time, missed ticks coalesced)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    configure_json_logs()
    ops = scheduler()
    timer = BlockingScheduler(timezone=UTC)
    timer.add_job(
        lambda: _logged_tick(ops),
        "interval",
        seconds=interval,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    console.print(f"scheduler: ticking every {interval} s", highlight=False)
    timer.start()


def _logged_tick(ops: OperationsScheduler) -> None:
    done = ops.tick()
    for job in done.jobs:
        log.info("job %s %s %s", job["job"], job["subject"], job["status"], extra=job)
    for delivery in done.deliveries:
        log.info("statement %s %s %s", delivery["period"], delivery["party"], delivery["status"], extra=delivery)


def run(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    media: bool = typer.Option(True, "--media/--no-media", help="Run the media worker too."),
) -> None:
    """Run the API, the projector, the media worker, the scheduler and (with ROYALTY_WEBHOOK_KEY)
    the webhook dispatcher as one supervised tree:
    a crashed child is restarted with backoff; SIGTERM stops them all cleanly."""
    royalty = sys.argv[0] if Path(sys.argv[0]).name == "royalty" else "royalty"
    configure_json_logs()
    webhooks = bool(os.environ.get(KEY_ENV))  # the dispatcher runs once webhooks are configured
    raise typer.Exit(Supervisor(list(default_children(royalty, host, port, media, webhooks))).run())
