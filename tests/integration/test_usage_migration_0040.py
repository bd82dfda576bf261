"""Migration 0040 converts an existing usage table: every row copied with its key (and a refund's
sale key), the stream2own counters built from the plays, append-only still enforced, and the
ingest numbering on from where the stored plays stopped."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, migrations_dir, pg_conninfo
from ledger.usage import keys
from ledger.usage.ingest import ingest_rows
from ledger.usage.listener import ListenerHasher
from ledger.usage.store import UsageStore
from ledger.usage.verify import verify_usage
from tests.conftest import _admin_config, _drop_database
from tests.usage_helpers import ISRCS, SECRET, build_catalogue, clock, play

OLD = (
    "position, batch_id, source, usage_id, line_no, kind, occurred_at_us, isrc, upc, listener_hash, territory, "
    "seconds_played, currency, gross_micros, pricing_model, pricing_version, play_number, counted, "
    "payload_sha256, refund_of, pair_last"
)
LISTENER = ListenerHasher(SECRET)("l1")
OCT, SEP = 1_791_194_400_000_000, 1_788_602_400_000_000  # 2026-10-05 10:00, 2026-09-05 10:00 UTC


def _old_rows(sqlite: bool) -> list[tuple[Any, ...]]:
    true, false = (1, 0) if sqlite else (True, False)
    s2o = [
        (9, "b", "player", f"old{n}", 0, "stream", SEP + n, ISRCS[0], None, LISTENER, "DE", 60, "EUR",
         2**n * 1000, "stream2own", 1, n, true, "x" * 64, None, true if n == 2 else false)
        for n in (1, 2)
    ]  # fmt: skip
    sale = [
        (9, "b", "player", "sale", n, "purchase", OCT, isrc, None, LISTENER, "DE", None, "EUR", 1_000_000,
         "sale", 1, None, true, "y" * 64, None, None)
        for n, isrc in enumerate(ISRCS[:2])
    ]  # fmt: skip
    refund = [
        (9, "b", "player", "back", n, "refund", OCT + 1, isrc, None, LISTENER, "DE", None, "EUR", -500_000,
         "sale", 1, None, true, "z" * 64, "sale", None)
        for n, isrc in enumerate(ISRCS[:2])
    ]  # fmt: skip
    return s2o + sale + refund


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def before_0040(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StoreConfig]:
    """A store migrated up to 0039 holding old-layout usage rows; the full migrations after."""
    backend = request.param
    if backend == "postgres":
        request.getfixturevalue("pg_template")  # the server check
    older = tmp_path / "migrations"
    for side in ("sqlite", "postgres"):
        (older / side).mkdir(parents=True)
        for path in sorted((migrations_dir() / side).glob("*.sql")):
            if path.name < "0040":
                shutil.copy(path, older / side / path.name)
    if backend == "sqlite":
        config = StoreConfig.from_url(str(tmp_path / "old.db"))
    else:
        admin, name = _admin_config(), f"royalty_test_{uuid.uuid4().hex[:12]}"
        config = StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}")
    monkeypatch.setenv("ROYALTY_MIGRATIONS_DIR", str(older))
    apply_migrations(config)
    monkeypatch.delenv("ROYALTY_MIGRATIONS_DIR")
    rows = _old_rows(backend == "sqlite")
    if backend == "sqlite":
        conn = sqlite3.connect(str(config.sqlite_path))
        with conn:
            conn.executemany(f"INSERT INTO usage_rows ({OLD}) VALUES ({', '.join('?' * 21)})", rows)
        conn.close()
    else:
        with psycopg.connect(pg_conninfo(config)) as pg:
            pg.cursor().executemany(f"INSERT INTO usage_rows ({OLD}) VALUES ({', '.join(['%s'] * 21)})", rows)
    yield config
    if backend == "postgres":
        _drop_database(config.pg_dbname)


def test_0040_converts_the_stored_usage_rows(before_0040: StoreConfig) -> None:
    config = before_0040
    assert apply_migrations(config)[0] == "0040"
    app = RoyaltyLedger(config, clock=clock)
    try:
        store = UsageStore(app)
        sql = "SELECT usage_id, line_no, usage_key, refund_key FROM usage_rows ORDER BY usage_id, line_no"
        got = {(u, int(n)): (k, r) for u, n, k, r in store.query(sql, sql)}
        assert len(got) == 6
        for (uid, line), (key, refund_key) in got.items():
            assert key == keys.line_key(keys.slot_of("player", uid), line)
            assert refund_key == (got[("sale", line)][0] if uid == "back" else None)
        counters = store.query(*["SELECT listener_hash, isrc, plays, position FROM usage_play_counts"] * 2)
        assert [tuple(c) for c in counters] == [(LISTENER, ISRCS[0], 2, 9)]
        with pytest.raises(Exception, match="append-only"):
            store.query(*["UPDATE usage_rows SET gross_micros = 0 RETURNING 1"] * 2)
        if config.backend == "postgres":
            parts = store.query("", "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                "WHERE i.inhparent = 'usage_rows'::regclass ORDER BY 1")  # fmt: skip
            assert [p[0] for p in parts] == ["usage_rows_2026m09", "usage_rows_2026m10", "usage_rows_default"]
            assert store.watermark() == 9
        # The ingest numbers on from the converted plays, and a new month gets its partition.
        build_catalogue(app)
        ingest_rows(app, [play("new", at="2026-11-02T10:00:00Z")], actor="test", secret=SECRET)
        numbers = store.query(*["SELECT play_number FROM usage_rows WHERE usage_id = 'new'"] * 2)
        assert numbers == [(3,)]
        if config.backend == "postgres":
            assert store.query("", "SELECT to_regclass('usage_rows_2026m11') IS NOT NULL") == [(True,)]
        assert verify_usage(app).problems == [(0, "6 usage lines stored at positions no batch event holds")]
    finally:
        app.close()
