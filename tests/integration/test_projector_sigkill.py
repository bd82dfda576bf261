"""SIGKILL the projector in the middle of a batch, restart it: the views end exactly as an
uninterrupted run leaves them, on SQLite and PostgreSQL.

ROYALTY_PROJECTOR_TEST_SLEEP (tests only) makes the projector print a line and sleep after each
statement inside a batch transaction, so the kill lands inside an open transaction.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from ledger.application import RoyaltyLedger
from projections.db import TEST_SLEEP_ENV, ViewDB
from projections.projector import Projector
from projections.rebuild import rebuild
from tests.integration.projection_fixtures import dump_views, record_some_plays, seed_catalogue


def start_projector(url: str, sleep: float) -> subprocess.Popen[str]:
    env = {**os.environ, "ROYALTY_DATABASE_URL": url, TEST_SLEEP_ENV: str(sleep)}
    return subprocess.Popen(
        [sys.executable, "-m", "projections.projector", "--batch-size", "4"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_projector_killed_mid_batch_resumes_without_loss_or_double_count(store_config):
    app = RoyaltyLedger(store_config)
    db = ViewDB(store_config)
    try:
        seed_catalogue(app)
        app.set_rights_pie(
            {"*:*": {"platform": 300_000, "master": 500_000, "publishing": 200_000}},
            app.clock().replace(year=2025),
            "initial",
            "test",
        )
        record_some_plays(app, batches=12, per_batch=40)
        head = app.head_position()

        victim = start_projector(store_config.describe(), sleep=0.02)
        assert victim.stderr is not None
        markers = 0
        deadline = time.monotonic() + 60
        while markers < 40 and time.monotonic() < deadline:
            if "in batch" in victim.stderr.readline():
                markers += 1
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        assert markers == 40, "the projector never got into its batches"
        interrupted = Projector(app, db).positions()
        assert 0 < min(interrupted.values()) < head, interrupted

        survivor = start_projector(store_config.describe(), sleep=0)
        _, err = survivor.communicate(timeout=120)
        assert survivor.returncode == 0, err
        assert set(Projector(app, db).positions().values()) == {head}
        after_restart = dump_views(db)

        rebuild(app, db=db)  # the uninterrupted run: every model folded afresh from position 0
        assert dump_views(db) == after_restart
        ((plays,),) = db.execute("SELECT SUM(plays) FROM stats_minute")
        assert plays == 480
        ((earned,),) = db.execute("SELECT SUM(amount_micros) FROM earn_account_day")
        ((gross,),) = db.execute("SELECT SUM(gross_micros) FROM usage_rows")
        assert earned == gross  # every micro-unit allocated once: none lost, none doubled
    finally:
        db.close()
        app.close()


@pytest.fixture(autouse=True)
def _no_leftover_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TEST_SLEEP_ENV, raising=False)
