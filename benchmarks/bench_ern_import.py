"""Importing bulk ERN deliveries into PostgreSQL (or SQLite): generated ERN 4.3 releases of 10 tracks each.

Figures, measured in this run on the same files, each with the machine's 1-minute load average
when it ended (the machines are shared; other engineers' tests run beside this):
  floor    check_ern alone in this process (safe parse + validation), releases/s
  floor/N  the same checks by N worker processes (ledger.ingest.checking), releases/s
  import   import_paths end to end into a fresh database (parse, validate, resolve parties,
           prepare, group commits of releases with their parties, works, recordings, splits),
           once checking in-process and once checking in the worker processes, releases/s
  reimport the same files again (delivery receipts: nothing is prepared, nothing written)
`ROYALTY_BENCH_ERN_IMPORT_RELEASES` changes the count (default 10 000); `ROYALTY_BENCH_PG` the
server (default postgresql://postgres@127.0.0.1:5432/postgres). Fresh databases are created and
dropped. `ROYALTY_BENCH_ERN_IMPORT_STORE=sqlite` imports into a fresh SQLite file instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from benchmarks.report import Figure, emit, peak_rss_mib, timed
from ledger.application import RoyaltyLedger
from ledger.ingest.checking import POOL_MIN_FILES, checked_in_order, pool_workers
from ledger.ingest.ern import check_ern
from ledger.ingest.ern_generate import write_release_messages
from ledger.ingest.importer import import_paths
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, pg_conninfo

BENCH = "ern_import"
_STORE = os.environ.get("ROYALTY_BENCH_ERN_IMPORT_STORE", "postgres")
TRACKS = 10


def _database() -> tuple[StoreConfig, StoreConfig, str]:
    if _STORE == "sqlite":
        name = tempfile.mkdtemp(prefix="royalty_bench_")
        config = StoreConfig.from_url(f"sqlite:///{name}/ledger.db")
        apply_migrations(config)
        return config, config, name
    admin = StoreConfig.from_url(os.environ.get("ROYALTY_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    name = f"royalty_bench_{uuid.uuid4().hex[:10]}"
    config = StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}")
    apply_migrations(config)
    return admin, config, name


def _drop(admin: StoreConfig, name: str) -> None:
    if _STORE == "sqlite":
        shutil.rmtree(name, ignore_errors=True)
        return
    with psycopg.connect(pg_conninfo(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def _import(files: list[Path], workers: int) -> tuple[float, int, str, float | None]:
    """(seconds, events written, load after, re-import seconds when workers > 0) in a fresh database."""
    os.environ["ROYALTY_IMPORT_WORKERS"] = str(workers)
    admin, config, name = _database()
    try:
        app = RoyaltyLedger(config)
        seconds = timed(lambda: import_paths(app, files, "bench"))
        load = _load()
        events = app.head_position()
        reimport_s = None
        if workers:
            reimport_s = timed(lambda: import_paths(app, files, "bench"))
            assert app.head_position() == events, "re-import wrote events"
        app.close()
    finally:
        _drop(admin, name)
    return seconds, events, load, reimport_s


def main() -> None:
    count = int(os.environ.get("ROYALTY_BENCH_ERN_IMPORT_RELEASES", "10000"))
    workers = max(1, pool_workers(POOL_MIN_FILES))
    with tempfile.TemporaryDirectory() as tmp:
        files = write_release_messages(Path(tmp), count, tracks=TRACKS)
        floor_s = timed(lambda: [check_ern(f) for f in files])
        floor_load = _load()
        pool_s = timed(lambda: list(checked_in_order(files, lambda: datetime.now(tz=UTC), workers)))
        pool_load = _load()
        serial_s, _, serial_load, _ = _import(files, 0)
        import_s, events, import_load, reimport_s = _import(files, workers)
    floor, what = count / floor_s, f"parse+validate alone, {floor_load}"
    emit(
        Figure(
            BENCH,
            f"parse+validate by {workers} worker process(es), {pool_load}",
            count / pool_s,
            "releases/s",
            what,
            floor,
        )
    )
    emit(
        Figure(
            BENCH,
            f"import {count} releases into {_STORE}, checks in-process, {serial_load}",
            count / serial_s,
            "releases/s",
            what,
            floor,
            "≥ 200 releases/s",
        )
    )
    emit(
        Figure(
            BENCH,
            f"import {count} releases into {_STORE}, checks in {workers} worker(s), {import_load}",
            count / import_s,
            "releases/s",
            what,
            floor,
            "≥ 200 releases/s",
        )
    )
    emit(Figure(BENCH, f"events written per second ({events / count:.0f} per release)", events / import_s, "events/s"))
    assert reimport_s is not None
    emit(Figure(BENCH, "re-import of the same files (no writes)", count / reimport_s, "releases/s", what, floor))
    emit(Figure(BENCH, "peak RSS", peak_rss_mib(), "MiB"))


if __name__ == "__main__":
    main()
