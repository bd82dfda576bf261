"""Importing bulk ERN deliveries into PostgreSQL: generated ERN 4.3 releases of 10 tracks each.

Figures, measured in this run on the same files:
  floor   check_ern alone (safe parse + validation), releases/s — what the import cannot beat
  import  import_paths end to end (parse, validate, resolve parties, prepare, one transaction per
          release with its parties, works, recordings, splits and release), releases/s
  reimport the same files again (delivery receipts: nothing is prepared, nothing written)
`ROYALTY_BENCH_ERN_IMPORT_RELEASES` changes the count (default 10 000); `ROYALTY_BENCH_PG` the
server (default postgresql://postgres@127.0.0.1:5432/postgres). A fresh database is created and
dropped.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from benchmarks.report import Figure, emit, peak_rss_mib, timed
from ledger.application import RoyaltyLedger
from ledger.ingest.ern import check_ern
from ledger.ingest.ern_generate import write_release_messages
from ledger.ingest.importer import import_paths
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, pg_conninfo

BENCH = "ern_import"
TRACKS = 10


def _database() -> tuple[StoreConfig, StoreConfig, str]:
    admin = StoreConfig.from_url(os.environ.get("ROYALTY_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    name = f"royalty_bench_{uuid.uuid4().hex[:10]}"
    config = StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}")
    apply_migrations(config)
    return admin, config, name


def _drop(admin: StoreConfig, name: str) -> None:
    with psycopg.connect(pg_conninfo(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> None:
    count = int(os.environ.get("ROYALTY_BENCH_ERN_IMPORT_RELEASES", "10000"))
    with tempfile.TemporaryDirectory() as tmp:
        files = write_release_messages(Path(tmp), count, tracks=TRACKS)
        floor_s = timed(lambda: [check_ern(f) for f in files])
        admin, config, name = _database()
        try:
            app = RoyaltyLedger(config)
            import_s = timed(lambda: import_paths(app, files, "bench"))
            events = app.head_position()
            reimport_s = timed(lambda: import_paths(app, files, "bench"))
            assert app.head_position() == events, "re-import wrote events"
            app.close()
        finally:
            _drop(admin, name)
    floor = count / floor_s
    emit(Figure(BENCH, f"import {count} releases ({count * TRACKS} recordings)", count / import_s, "releases/s",
                "parse+validate alone", floor, "≥ 200 releases/s"))
    emit(Figure(BENCH, "events written per second", events / import_s, "events/s"))
    emit(Figure(BENCH, "re-import of the same files (no writes)", count / reimport_s, "releases/s",
                "parse+validate alone", floor))
    emit(Figure(BENCH, "peak RSS", peak_rss_mib(), "MiB"))


if __name__ == "__main__":
    main()
