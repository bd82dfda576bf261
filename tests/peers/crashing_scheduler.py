"""Test-only: one scheduler tick at a fixed instant that SIGKILLs itself mid-job.

Run as `python -m tests.peers.crashing_scheduler <ISO instant> <where>` with the CLI's
environment (ROYALTY_DATABASE_URL, ROYALTY_SMTP_*, ROYALTY_STRIPE_*, ROYALTY_STATEMENTS_DIR).
`where` is `after-close` (the month is closed, its run not yet completed) or `before-second-email`
(one statement delivered and recorded, the next not sent).
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from typing import Any

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.payments.stripe_adapter import StripeSettings, StripeTransfers
from ledger.store.config import StoreConfig
from operations.mail import Mailer, SmtpSettings
from operations.scheduler import OperationsScheduler, ScheduleSettings


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class CrashAfterClose(OperationsScheduler):
    def _close(self, period: Period) -> dict[str, Any]:
        super()._close(period)
        _die()
        raise AssertionError("unreachable")


class CrashBeforeSecondEmail(Mailer):
    sent = 0

    def send_statement(self, *args: Any, **kwargs: Any) -> None:
        if self.sent == 1:
            _die()
        super().send_statement(*args, **kwargs)
        self.sent += 1


def main() -> None:
    now, where = datetime.fromisoformat(sys.argv[1]), sys.argv[2]
    app = RoyaltyLedger(StoreConfig.from_env(), clock=lambda: now)
    settings = SmtpSettings.from_env()
    mailer = CrashBeforeSecondEmail(settings) if where == "before-second-email" else Mailer(settings)
    kind = CrashAfterClose if where == "after-close" else OperationsScheduler
    scheduler = kind(
        app,
        StoreConfig.from_env(),
        settings=ScheduleSettings.from_env(),
        mailer=mailer,
        gateway=lambda: StripeTransfers(StripeSettings.from_env()),
    )
    scheduler.tick()


if __name__ == "__main__":
    main()
