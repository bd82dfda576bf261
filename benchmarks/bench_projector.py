"""Projector benchmark on PostgreSQL: catch-up over a log of 1 000 000 plays, and live lag.

Figures, each beside a baseline measured in the same run:
- catch-up plays/s folded into stats + earnings (+ catalogue) by the batched projector, beside
  (a) the stock eventsourcing ProjectionRunner over the same log, one UsageBatch event per
  transaction, folding that event's rows into stats with the same set-based SQL, and
  (b) the stock ProjectionRunner on the naive log of one event per play (a separate, smaller
  log of BENCH_NAIVE_PLAYS one-play events, one transaction per play) — DESIGN.md's naive path;
- lag while plays are written at BENCH_LAG_RATE plays/s for BENCH_LAG_SECONDS: p50/p99 seconds
  from a batch's commit to its earnings being visible, with the projector following in its own
  process (LISTEN/NOTIFY). Plays are written as UsageBatch events + usage_rows directly (the
  usage contract, synthetic fixed-rate pricing), not through `royalty usage ingest`.
- pools (issue 17): catch-up plays/s of a log whose month has a user-centric subscription pool
  (BENCH_POOL_SUBSCRIBERS subscribers of the 5 000 listeners paid before the plays, so every usage
  batch of the month moves the pool's money and the month's pool is distributed again), beside
  the same plays without a pool, in the same run: the catch-up from position 0, then
  BENCH_POOL_TAIL more plays of the month's last day folded one usage event (10 000 plays) a step,
  the way a follower sees a steady feed.
`python -m benchmarks.bench_projector lag` runs one part.
Sizes: BENCH_PLAYS, BENCH_SPAN_SECONDS, BENCH_NAIVE_PLAYS, BENCH_LAG_RATE, BENCH_LAG_SECONDS,
BENCH_RECORDINGS, BENCH_POOL_PLAYS, BENCH_POOL_SUBSCRIBERS, BENCH_POOL_TAIL.
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from eventsourcing.utils import get_topic

from benchmarks.report import Figure, emit
from benchmarks.usage_feed import make_plays, record_plays
from ledger.application import RoyaltyLedger
from ledger.domain.usage_batch import UsageBatch
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, pg_conninfo
from ledger.usage.listener import SECRET_ENV, ListenerHasher
from projections.db import ViewDB
from projections.pools_earnings import PoolEarnings
from projections.projector import Projector

BENCH = "projector"
PLAYS = int(os.environ.get("BENCH_PLAYS", 1_000_000))
NAIVE_PLAYS = int(os.environ.get("BENCH_NAIVE_PLAYS", 20_000))
LAG_RATE = int(os.environ.get("BENCH_LAG_RATE", 20_000))
LAG_SECONDS = int(os.environ.get("BENCH_LAG_SECONDS", 60))
RECORDINGS = int(os.environ.get("BENCH_RECORDINGS", 300))
# The catch-up log's plays occurred within this many seconds (an hour of traffic at ~280
# plays/s by default); per-minute stats cells grow with it, so it is printed with the figure.
SPAN_US = int(os.environ.get("BENCH_SPAN_SECONDS", 3_600)) * 1_000_000
PER_EVENT = 10_000
POOL_PLAYS = int(os.environ.get("BENCH_POOL_PLAYS", 500_000))
POOL_SUBSCRIBERS = int(os.environ.get("BENCH_POOL_SUBSCRIBERS", 4_000))
POOL_TAIL = int(os.environ.get("BENCH_POOL_TAIL", 100_000))
TERRITORIES = ["DE", "FR", "GB", "US", "NL", "SE", "ES", "IT", "BR", "JP"]
ADMIN = os.environ.get("ROYALTY_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
OCT_US = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp()) * 1_000_000
DAY_US = 86_400_000_000
STATS_SQL = """
INSERT INTO stock_stats (isrc, minute_us, territory, currency, plays, counted_plays, gross_micros)
SELECT isrc, occurred_at_us - (occurred_at_us %% 60000000), territory, currency, COUNT(*),
       SUM(CASE WHEN counted THEN 1 ELSE 0 END), SUM(gross_micros)
FROM usage_rows WHERE position = %s GROUP BY 1, 2, 3, 4
ON CONFLICT (isrc, minute_us, territory, currency) DO UPDATE SET
    plays = stock_stats.plays + excluded.plays,
    counted_plays = stock_stats.counted_plays + excluded.counted_plays,
    gross_micros = stock_stats.gross_micros + excluded.gross_micros
"""


def fresh_database(tag: str) -> StoreConfig:
    admin = StoreConfig.from_url(ADMIN)
    name = f"royalty_bench_{tag}_{uuid.uuid4().hex[:8]}"
    config = StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}")
    apply_migrations(config)
    with psycopg.connect(pg_conninfo(config), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE stock_stats (isrc text, minute_us bigint, territory text, currency text, "
            "plays bigint, counted_plays bigint, gross_micros bigint, "
            "PRIMARY KEY (isrc, minute_us, territory, currency))"
        )
    return config


def drop_database(config: StoreConfig) -> None:
    with psycopg.connect(pg_conninfo(StoreConfig.from_url(ADMIN)), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{config.pg_dbname}" WITH (FORCE)'.encode())  # type: ignore[arg-type]


def seed(app: RoyaltyLedger) -> list[str]:
    app.upsert_party("artist", "Bench Artist", ["artist"], "bench")
    app.upsert_party("label", "Bench Label", ["label"], "bench")
    app.set_rights_pie(
        {"*:*": {"platform": 300_000, "master": 500_000, "publishing": 200_000}},
        datetime(2026, 1, 1, tzinfo=UTC),
        "bench",
        "bench",
    )
    isrcs = [f"QZBEN26{n:05d}" for n in range(RECORDINGS)]
    for isrc in isrcs:
        app.upsert_recording(isrc, f"Track {isrc}", "Bench Artist", 200_000, "bench")
        app.set_split(
            "master", isrc, {"artist": 700_000, "label": 300_000}, datetime(2026, 1, 1, tzinfo=UTC), "bench", "initial"
        )
    return isrcs


class StockView(PostgresTrackingRecorder):
    def fold_event(self, tracking: Any) -> None:
        """One event, one transaction: its rows into stats, then the tracking record.

        On the naive log each event carries one play, so this is one play per transaction.
        """
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(STATS_SQL.encode(), (tracking.notification_id,))  # type: ignore[arg-type]
            self._insert_tracking(curs, tracking)


class StockStats(Projection[StockView]):
    name = "stockstats"
    topics = (get_topic(UsageBatch.Recorded),)  # type: ignore[attr-defined]

    def process_event(self, domain_event: Any, tracking: Any) -> None:
        self.view.fold_event(tracking)


def stock_runner_seconds(config: StoreConfig, last_position: int) -> float:
    class BenchLedger(RoyaltyLedger):
        def __init__(self, env: Any = None) -> None:
            super().__init__(config)

    env = {**config.eventsourcing_env(), "CREATE_TABLE": "y", "STOCKSTATS_PERSISTENCE_MODULE": "eventsourcing.postgres"}
    started = time.perf_counter()
    with ProjectionRunner(
        application_class=BenchLedger, projection_class=StockStats, view_class=StockView, env=env
    ) as runner:
        runner.wait(last_position, timeout=3600)
    return time.perf_counter() - started


def catch_up() -> None:
    config = fresh_database("catchup")
    try:
        app = RoyaltyLedger(config)
        isrcs = seed(app)
        rng = random.Random(5)
        for first in range(0, PLAYS, PER_EVENT):
            rows = make_plays(rng, PER_EVENT, isrcs, TERRITORIES, OCT_US, SPAN_US, first_id=first)
            last = record_plays(app, rows)
        started = time.perf_counter()
        Projector(app, batch_size=5_000).catch_up()
        ours = PLAYS / (time.perf_counter() - started)
        stock = PLAYS / stock_runner_seconds(config, last)
        shape = f"{PLAYS:,} plays, {RECORDINGS} recordings, {SPAN_US // 60_000_000} min"
        print(f"[{BENCH}] catch-up log: {shape}, {PER_EVENT:,} plays per UsageBatch", flush=True)
        emit(
            Figure(
                BENCH,
                "catch-up: plays/s into stats+earnings",
                ours,
                "plays/s",
                "stock runner, same log, stats only",
                stock,
            )
        )
        app.close()
    finally:
        drop_database(config)
    naive = fresh_database("naive")
    try:
        app = RoyaltyLedger(naive)
        isrcs = seed(app)
        rng = random.Random(6)
        for n in range(NAIVE_PLAYS):
            last = record_plays(app, make_plays(rng, 1, isrcs, TERRITORIES, OCT_US, DAY_US, first_id=n))
        per_play = NAIVE_PLAYS / stock_runner_seconds(naive, last)
        emit(
            Figure(
                BENCH,
                "catch-up vs one event per play",
                ours,
                "plays/s",
                f"stock runner, {NAIVE_PLAYS:,}-event one-play-per-event log",
                per_play,
                ">= 200,000 plays/s and >= 50x",
            )
        )
        app.close()
    finally:
        drop_database(naive)


def lag() -> None:
    config = fresh_database("lag")
    try:
        app = RoyaltyLedger(config)
        isrcs = seed(app)
        env = {**os.environ, "ROYALTY_DATABASE_URL": config.describe()}
        follower = subprocess.Popen(
            [sys.executable, "-m", "projections.projector", "--follow"], env=env, stdout=subprocess.DEVNULL
        )
        committed: list[tuple[int, float]] = []
        visible: dict[int, float] = {}
        done = threading.Event()
        threading.Thread(target=_watch, args=(config, committed, visible, done), daemon=True).start()
        rng = random.Random(7)
        per_write = LAG_RATE // 4
        started = time.monotonic()
        for tick in range(LAG_SECONDS * 4):
            now_us = int(time.time() * 1_000_000)
            rows = make_plays(
                rng, per_write, isrcs, TERRITORIES, now_us - 60_000_000, 60_000_000, first_id=tick * per_write
            )
            committed.append((record_plays(app, rows), time.monotonic()))
            time.sleep(max(0.0, started + (tick + 1) / 4 - time.monotonic()))
        achieved = LAG_SECONDS * 4 * per_write / (time.monotonic() - started)
        deadline = time.monotonic() + 60
        while len(visible) < len(committed) and time.monotonic() < deadline:
            time.sleep(0.05)
        done.set()
        follower.terminate()
        follower.wait(timeout=30)
        lags = sorted(visible[p] - t for p, t in committed if p in visible)
        p50, p99 = statistics.median(lags), lags[int(len(lags) * 0.99) - 1]
        emit(Figure(BENCH, "write rate during lag run", achieved, "plays/s", "asked", LAG_RATE))
        emit(Figure(BENCH, "lag p50: commit -> visible in earnings", p50, "s"))
        emit(Figure(BENCH, "lag p99: commit -> visible in earnings", p99, "s", target="<= 1 s"))
        app.close()
    finally:
        drop_database(config)


def _watch(
    config: StoreConfig, committed: list[tuple[int, float]], visible: dict[int, float], done: threading.Event
) -> None:
    db = ViewDB(config)
    while not done.is_set():
        rows = db.execute("SELECT position FROM projection_tracking WHERE model = 'earnings'")
        seen, now = (int(rows[0][0]) if rows else 0), time.monotonic()
        for position, _ in list(committed):
            if position <= seen and position not in visible:
                visible[position] = now
        time.sleep(0.01)
    db.close()


def _pool_log(with_pool: bool) -> tuple[StoreConfig, RoyaltyLedger, list[str]]:
    """POOL_PLAYS plays of October in UsageBatch events of PER_EVENT (listeners as HMACs), after
    a user-centric pool paid by POOL_SUBSCRIBERS of the listeners (`with_pool`), or none."""
    config = fresh_database("pool" if with_pool else "nopool")
    app = RoyaltyLedger(config, clock=lambda: datetime(2026, 11, 2, tzinfo=UTC))
    isrcs = seed(app)
    if with_pool:
        app.configure_pool("subs", "Subscriptions", "subscription", "EUR", "bench")
        app.set_pool_rule("subs", {"method": "user-centric", "fallback": "pro-rata"}, "2026-10", "bench", "bench")
        rows = [
            {
                "contribution_id": f"c{n}",
                "pool": "subs",
                # The listener ids benchmarks.usage_feed's plays carry (hashed again by the ingest).
                "listener": hashlib.sha256(f"l{n:05d}".encode()).hexdigest(),
                "occurred_at": "2026-10-01T12:00:00Z",
                "amount": "9.99",
                "currency": "EUR",
            }
            for n in range(POOL_SUBSCRIBERS)
        ]
        assert app.record_contributions(rows, "csv:bench", "bench").accepted == POOL_SUBSCRIBERS
    _october_plays(app, isrcs, 0, POOL_PLAYS)
    # Statistics as autovacuum keeps them on a running store: just after a bulk load the planner
    # may join the month's usage to the subscribers row by row (one run: 338 s instead of ~3 s).
    with psycopg.connect(pg_conninfo(config), autocommit=True) as conn:
        conn.execute("ANALYZE usage_rows")
        conn.execute("ANALYZE pool_contributions")
    return config, app, isrcs


def _october_plays(
    app: RoyaltyLedger, isrcs: list[str], first: int, count: int, start_us: int = OCT_US, span_us: int = 28 * DAY_US
) -> None:
    hasher = ListenerHasher(os.environ[SECRET_ENV].encode())
    rng = random.Random(8 + first)
    for n in range(first, first + count, PER_EVENT):
        plays = make_plays(rng, PER_EVENT, isrcs, TERRITORIES, start_us, span_us, first_id=n)
        record_plays(app, [(*r[:7], hasher(r[7]), *r[8:]) for r in plays])


def _project(app: RoyaltyLedger, batch_size: int, plays: int) -> float:
    """Plays/s folded by a fresh projector up to the head (and the time in the pool fold)."""
    db = ViewDB(app.config)
    in_pools = [0.0]
    fold = PoolEarnings.fold

    def timed(self: PoolEarnings, *args: Any, **kwargs: Any) -> None:
        began = time.perf_counter()
        try:
            fold(self, *args, **kwargs)
        finally:
            in_pools[0] += time.perf_counter() - began

    PoolEarnings.fold = timed  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        Projector(app, db, batch_size=batch_size).catch_up()
        elapsed = time.perf_counter() - started
    finally:
        PoolEarnings.fold = fold  # type: ignore[method-assign]
    pooled = db.execute("SELECT COALESCE(SUM(amount_micros), 0) FROM earn_pool_month WHERE account LIKE 'party:%'")
    print(
        f"[{BENCH}]   {plays:,} plays, batch {batch_size}: {elapsed:.1f} s, of which the pool fold "
        f"{in_pools[0]:.1f} s; pool money to parties {int(pooled[0][0]):,} µ",
        flush=True,
    )
    db.close()
    return plays / elapsed


def pools() -> None:
    os.environ.setdefault(SECRET_ENV, "bench-listener-secret-0123456789")
    made = [_pool_log(with_pool) for with_pool in (False, True)]
    try:
        shape = f"{POOL_PLAYS:,} plays of October, {PER_EVENT:,} per UsageBatch, {RECORDINGS} recordings"
        print(f"[{BENCH}] pool log: {shape}; {POOL_SUBSCRIBERS:,} of 5,000 listeners subscribe", flush=True)
        rates = [_project(app, 5_000, POOL_PLAYS) for _, app, _ in made]
        print(f"[{BENCH}]   load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        emit(
            Figure(BENCH, "catch-up plays/s, user-centric pool in the month", rates[1], "plays/s", "no pool", rates[0])
        )
        # A follower: POOL_TAIL more plays of the month's last day (today's, as a live feed has
        # them) arrive, folded one usage event a step: without a pool a step re-allocates that
        # day; with one it also distributes the whole month's pool again.
        tail = POOL_TAIL // PER_EVENT * PER_EVENT
        for _, app, isrcs in made:
            _october_plays(app, isrcs, POOL_PLAYS, tail, OCT_US + 27 * DAY_US, DAY_US)
        rates = [_project(app, 1, tail) for _, app, _ in made]
        print(f"[{BENCH}]   load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        emit(
            Figure(
                BENCH,
                "following: plays/s, one usage event a step, pool in the month",
                rates[1],
                "plays/s",
                "no pool",
                rates[0],
            )
        )
    finally:
        for config, app, _ in made:
            app.close()
            drop_database(config)


if __name__ == "__main__":
    # `python -m benchmarks.bench_projector [catch_up] [lag] [pools]`: all by default.
    for part in sys.argv[1:] or ["catch_up", "lag", "pools"]:
        {"catch_up": catch_up, "lag": lag, "pools": pools}[part]()
