"""SIGKILL `royalty usage ingest` mid-file, run it again: the store equals an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.domain.usage_batch import UsageBatch
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, pg_conninfo
from ledger.usage.generator import GenerateOptions, generate_usage
from ledger.usage.ingest import ingest_files
from ledger.usage.store import UsageStore, sqlite_listener_hex
from tests.usage_helpers import SECRET, build_catalogue, clock

ROYALTY = Path(sys.executable).parent / "royalty"
PLAYS, BATCH = 30_000, 1_000


@pytest.fixture
def reference_config(store_config: StoreConfig, tmp_path: Path) -> Iterator[StoreConfig]:
    """A second, empty store of the same backend for the uninterrupted run."""
    if store_config.backend == "sqlite":
        config = StoreConfig.from_url(str(tmp_path / "reference.db"))
        apply_migrations(config)
        yield config
        return
    name = f"royalty_ref_{uuid.uuid4().hex[:10]}"
    config = StoreConfig.from_url(
        f"postgresql://{store_config.pg_user}@{store_config.pg_host}:{store_config.pg_port}/{name}"
    )
    apply_migrations(config)
    yield config
    with psycopg.connect(pg_conninfo(config, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _snapshot(app: RoyaltyLedger) -> dict[str, Any]:
    store = UsageStore(app)

    def rows(statement: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in store.query(statement, statement)]

    events = [app.decode(n) for n in app.read_log(topics=app.topics_of(UsageBatch.Recorded))]
    return {
        # The lean tables (migrations 0040 and 0045) have no batch id per row: the batch event at
        # the row's position names it; hashes are bytes there, compared as hex.
        "rows": [
            tuple(r)
            for r in store.query(
                "SELECT replace(e.originator_id, '-', ''), source, usage_id, line_no, kind, occurred_at_us, "
                f"isrc, upc, {sqlite_listener_hex('u.')}, territory, seconds_played, currency, gross_micros, "
                "pricing_model, pricing_version, play_number, counted, lower(hex(payload_sha256)) "
                "FROM usage_rows u JOIN stored_events e ON e.rowid = u.position "
                "ORDER BY source, usage_id, line_no",
                "SELECT replace(e.originator_id::text, '-', ''), source, usage_id, line_no, kind, occurred_at_us, "
                "isrc, upc, encode(listener_hash, 'hex'), territory, seconds_played, currency, gross_micros, "
                "pricing_model, pricing_version, play_number, counted, encode(payload_sha256, 'hex') "
                "FROM usage_rows u JOIN stored_events e ON e.notification_id = u.position "
                "ORDER BY source, usage_id, line_no",
            )
        ],
        "quarantine": rows(
            "SELECT quarantine_id, batch_id, reason, raw_row FROM usage_quarantine ORDER BY quarantine_id"
        ),
        "owners": rows(
            "SELECT listener_hash, isrc, batch_id, usage_id FROM usage_ownership ORDER BY listener_hash, isrc"
        ),
        "batches": sorted((e.originator_id.hex, e.row_count, e.rows_sha256, sorted(e.totals.items())) for e in events),
    }


def _prepare(config: StoreConfig) -> RoyaltyLedger:
    app = RoyaltyLedger(config, clock=clock)
    build_catalogue(app)
    return app


@pytest.mark.slow
def test_killing_an_ingest_and_running_it_again_equals_an_uninterrupted_run(
    store_config: StoreConfig, reference_config: StoreConfig, tmp_path: Path
) -> None:
    app = _prepare(store_config)
    usage = tmp_path / "usage.parquet"
    generate_usage(app, GenerateOptions(PLAYS, Period.parse("2026-10"), seed=7), usage)
    env = {
        **os.environ,
        "ROYALTY_DATABASE_URL": store_config.describe(),
        "ROYALTY_LISTENER_SECRET": SECRET.decode(),
        "ROYALTY_ACTOR": "test",
    }
    command = [str(ROYALTY), "usage", "ingest", str(usage), "--batch-size", str(BATCH), "--json"]
    # Its own process group: the kill takes the ingest and, on SQLite, its writer process with
    # it, so a batch is cut off inside its transaction.
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    store = UsageStore(app)
    deadline = time.monotonic() + 60
    while (
        store.query("SELECT COUNT(*) FROM usage_rows", "SELECT COUNT(*) FROM usage_rows")[0][0] < 3 * BATCH
        and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_at = _snapshot(app)
    assert 0 < len(killed_at["rows"]) < PLAYS * 0.95, "the kill should land mid-file"

    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr

    reference = _prepare(reference_config)
    ingest_files(reference, [usage], actor="test", batch_size=BATCH, secret=SECRET)
    assert _snapshot(app) == _snapshot(reference)
    app.close()
    reference.close()
