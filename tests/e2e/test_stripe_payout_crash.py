"""A payout run killed between the transfer and its event, then re-run: exactly one transfer.

Transfers go to the local Transfers server (tests/peers/transfers_server.py; localstripe has no
Connect). The first run is a subprocess that SIGKILLs itself right after the transfer request
returns (tests/peers/crashing_payout_run.py); the second is `royalty payouts run` as typed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ledger.application import RoyaltyLedger
from ledger.domain.payout_transfer import PENDING
from ledger.payments.payout_log import read_payout_states
from ledger.payments.reconcile import reconcile
from ledger.payments.stripe_adapter import API_BASE_ENV, API_KEY_ENV, StripeSettings, StripeTransfers
from ledger.store.config import StoreConfig
from tests.e2e.cli_runner import royalty
from tests.integration.test_stripe_payouts import close_october
from tests.peers.fixtures import API_KEY, transfers
from tests.peers.transfers_server import TransfersState

__all__ = ["transfers"]
ROOT = Path(__file__).resolve().parents[2]


def test_killed_after_the_transfer_the_rerun_records_it_and_never_sends_again(
    store_config: StoreConfig,
    transfers: tuple[str, TransfersState],
) -> None:
    url, server = transfers
    app = RoyaltyLedger(store_config)
    close_october(app)
    env = {
        **os.environ,
        "ROYALTY_DATABASE_URL": store_config.describe(),
        API_KEY_ENV: API_KEY,
        API_BASE_ENV: url,
        "ROYALTY_MIN_PAYOUT": "10",
    }
    crashed = subprocess.run(
        [sys.executable, "-m", "tests.peers.crashing_payout_run", "2026-10"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert crashed.returncode == -9, crashed.stderr
    [sent] = server.transfers
    [state] = read_payout_states(app).values()
    assert state.status == PENDING
    gateway = StripeTransfers(StripeSettings(api_key=API_KEY, api_base=url))
    [unrecorded] = reconcile(app, gateway).differences
    assert unrecorded.kind == "extra" and "not recorded" in unrecorded.detail

    rerun = royalty(store_config, "payouts", "run", "2026-10", "--json", env=env)
    assert rerun.returncode == 0, rerun.stderr + rerun.stdout
    assert '"status": "sent"' in rerun.stdout and sent["id"] in rerun.stdout
    to_aria = [t for t in server.transfers if t["destination"] == "acct_aria"]
    assert to_aria == [sent]  # found by its payout id, not sent again
    # Two POSTs in all: aria's before the kill, then lbl's (the killed run never reached it).
    assert server.create_requests == 2 and len(server.transfers) == 2
    states = {s.party: s for s in read_payout_states(app).values()}
    assert (states["aria"].status, states["aria"].transfer_id) == ("sent", sent["id"])
    clean = royalty(store_config, "payouts", "reconcile", "--json", env=env)
    assert clean.returncode == 0, clean.stdout
    app.close()
