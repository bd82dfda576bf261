"""Test-only: a payout run that SIGKILLs itself right after a transfer request returns.

Run as `python -m tests.peers.crashing_payout_run YYYY-MM` with the same environment as the
CLI; the kill lands after Stripe accepted the transfer and before PayoutSent is recorded.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from cli.payouts_stripe import payout_balances
from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.payments.gateway import TransferRecord
from ledger.payments.payouts import run_payouts
from ledger.payments.stripe_adapter import StripeSettings, StripeTransfers
from ledger.store.config import StoreConfig


class CrashAfterTransfer(StripeTransfers):
    def create_transfer(self, *args: Any, **kwargs: Any) -> TransferRecord:
        record = super().create_transfer(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
        return record


def main() -> None:
    period = Period.parse(sys.argv[1])
    app = RoyaltyLedger(StoreConfig.from_env())
    gateway = CrashAfterTransfer(StripeSettings.from_env())
    run_payouts(app, period, payout_balances(app, period), gateway, actor="crash-test", minimum_micros=0)


if __name__ == "__main__":
    main()
