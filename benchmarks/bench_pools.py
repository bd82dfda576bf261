"""Close a month with a user-centric pool, beside the pro-rata close of the same data (PostgreSQL).

Setup (not timed): a fresh database; the statements benchmark's catalogue (parties, recordings,
works, splits as aggregates in bulk); usage rows straight into usage_rows by generate_series
(counted streams; listener HMAC-like 64-hex ids, 95 % of the subscribers play); one contribution
per subscriber straight into pool_contributions; pool "subs" (subscription, EUR).
Timed, same data, same run:
- the month's statements with the pool under pro-rata (rule version 1): everything a close
  computes (rights history, usage pre-sum, allocation, pool, every statement and its hash) —
  the baseline;
- the real close with the pool under user-centric (version 2, recorded later, in force for the
  month): `close_period`, which records PeriodClosed; then `replay_period` (must match);
- the pool step alone under each rule (`pool_periods`: the store's SQL and the rules).

    python -m benchmarks pools [--plays N] [--subscribers N] [--recordings N] [--parties N]
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from benchmarks.bench_statements import PERIOD, build_catalogue
from benchmarks.report import Figure, emit, peak_rss_mib
from ledger.application import RoyaltyLedger
from ledger.royalties import to_us
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, pg_conninfo
from projections.statements.close import close_period, compute_statements, engine_for, replay_period
from projections.statements.pools import pool_periods

BENCH = "pools"
ADMIN = os.environ.get("ROYALTY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
_LISTENER = "md5(({n})::text) || md5((({n}) + 1000000007)::text)"  # 64 hex digits, like an HMAC


def generate(config: StoreConfig, plays: int, subscribers: int, recordings: int, position: int) -> None:
    start, length = to_us(PERIOD.start), to_us(PERIOD.end) - to_us(PERIOD.start)
    players = max(1, subscribers * 95 // 100)
    chunk = 1_000_000
    with psycopg.connect(pg_conninfo(config), autocommit=True) as conn:
        conn.execute("SELECT royalty_usage_month(%s)", (str(PERIOD),))  # its partition (migration 0047)
        for low in range(0, plays, chunk):
            high = min(plays, low + chunk) - 1
            conn.execute(
                sql.SQL(
                    # The lean table (migration 0040): bytea hashes, no batch id, keys in its indexes.
                    "INSERT INTO usage_rows (position, source, usage_id, line_no, kind, occurred_at_us, "
                    "isrc, upc, listener_hash, territory, seconds_played, currency, gross_micros, pricing_model, "
                    "pricing_version, play_number, counted, pair_last, payload_sha256, refund_of) "
                    "SELECT {pos}, 'bench', i::text, 0, 'stream', "
                    "{start} + (i::bigint * 7919) % {length}, "
                    "'QZBEN26' || lpad(((i::bigint * 7919 + i / {players}) % {recs})::text, 5, '0'), "
                    "NULL, decode(" + _LISTENER.format(n="i % {players}") + ", 'hex'), 'DE', 60, 'EUR', 1000 + i % 13, "
                    "'fixed_rate', 1, NULL, true, false, '\\x00'::bytea, NULL FROM generate_series({low}, {high}) AS i"
                ).format(pos=position, start=start, length=length, recs=recordings, players=players, low=low, high=high)
            )
        conn.execute(
            sql.SQL(
                "INSERT INTO pool_contributions SELECT {pos}, 'bench', 'bench', 'c' || j, 'subs', 'payment', "
                "{start} + j, " + _LISTENER.format(n="j") + ", NULL, 'EUR', 9990000 + j % 7, NULL, 'x' "
                "FROM generate_series(0, {last}) AS j"
            ).format(pos=position, start=start, last=subscribers - 1)
        )
        conn.execute(sql.SQL("INSERT INTO usage_positions VALUES ({pos})").format(pos=position))
        conn.execute("ANALYZE usage_rows")
        conn.execute("ANALYZE pool_contributions")


def _statements(app: RoyaltyLedger, config: StoreConfig) -> tuple[float, int]:
    """Everything a close computes, at the head, without recording it."""
    started = time.perf_counter()
    head = app.head_position()
    engine = engine_for(app, config, head, prefetch=[(PERIOD, head)])
    done = compute_statements(engine, PERIOD, head, display=False)
    _ = done.hashes
    return time.perf_counter() - started, len(done.documents)


def _pool_step(app: RoyaltyLedger, config: StoreConfig) -> float:
    engine = engine_for(app, config, app.head_position())
    started = time.perf_counter()
    [pp] = pool_periods(config, engine.history, PERIOD, app.head_position())
    elapsed = time.perf_counter() - started
    print(
        f"[{BENCH}] {pp.line_kind}: {pp.inputs.uc.subscribers:,} subscribers, {len(pp.distribution.recordings):,} "
        f"recordings paid, {sum(pp.inputs.plays.values()):,} counted plays, fallback {pp.distribution.components}",
        flush=True,
    )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plays", type=int, default=10_000_000)
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--recordings", type=int, default=20_000)
    parser.add_argument("--parties", type=int, default=5_000)
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    args = parser.parse_args()
    admin = StoreConfig.from_url(ADMIN)
    name = f"royalty_bench_{uuid.uuid4().hex[:8]}"
    print(f"[{BENCH}] database {name}", flush=True)
    config = StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}")
    apply_migrations(config)
    app = RoyaltyLedger(config, clock=lambda: datetime(2026, 2, 2, tzinfo=UTC))
    try:
        t0 = time.perf_counter()
        build_catalogue(app, args.recordings, args.parties)
        app.configure_pool("subs", "Subscriptions", "subscription", "EUR", "bench")
        t1 = time.perf_counter()
        generate(config, args.plays, args.subscribers, args.recordings, app.head_position())
        t2 = time.perf_counter()
        print(
            f"[{BENCH}] setup: catalogue {t1 - t0:.1f} s, {args.plays:,} plays and {args.subscribers:,} "
            f"contributions {t2 - t1:.1f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
            flush=True,
        )
        app.set_pool_rule("subs", {"method": "pro-rata"}, str(PERIOD), "bench", "bench")
        pro_rata_step = _pool_step(app, config)
        pro_rata_s, documents = _statements(app, config)
        app.set_pool_rule("subs", {"method": "user-centric", "fallback": "coop-fund"}, str(PERIOD), "bench", "bench")
        user_centric_step = _pool_step(app, config)
        started = time.perf_counter()
        close_period(app, config, PERIOD, "bench")
        close_s = time.perf_counter() - started
        started = time.perf_counter()
        replay = replay_period(app, config, PERIOD)
        replay_s = time.perf_counter() - started
        assert replay.ok, replay.differences[:3]
        print(
            f"[{BENCH}] {args.plays:,} plays, {args.subscribers:,} subscribers, {args.recordings:,} recordings, "
            f"{documents:,} statements; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        emit(Figure(BENCH, "close, user-centric pool", close_s, "s", "pro-rata, same data", pro_rata_s, "≤ 60 s"))
        emit(Figure(BENCH, "replay, user-centric pool", replay_s, "s", "pro-rata, same data", pro_rata_s, "≤ 60 s"))
        emit(Figure(BENCH, "pool step, user-centric", user_centric_step, "s", "pro-rata step", pro_rata_step))
        emit(Figure(BENCH, "peak RSS (this process)", peak_rss_mib(), "MiB", target="≤ 4096 MiB"))
    finally:
        app.close()
        if not args.keep:
            with psycopg.connect(pg_conninfo(admin), autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
