"""Close and replay a generated month on PostgreSQL, beside a bare DuckDB GROUP BY over Parquet.

Setup (not timed): a fresh database; parties, recordings, works and splits saved as aggregates in
bulk; usage rows generated straight into usage_rows by generate_series (not the ingest path).
Timed: `close_period` (read the rights history, pre-sum usage in the store, DuckDB by segment,
allocate every key, build and hash every statement, record PeriodClosed) and `replay_period`;
the floor is DuckDB grouping the same usage exported to Parquet, in the same run.

    python -m benchmarks.bench_statements [--plays N] [--recordings N] [--parties N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psycopg
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from psycopg import sql

from benchmarks.report import Figure, emit, peak_rss_mib
from ledger.application import RoyaltyLedger
from ledger.domain.party import Party
from ledger.domain.period import Period
from ledger.domain.recording import Recording
from ledger.domain.split_agreement import SplitAgreement
from ledger.domain.work import Work
from ledger.royalties import to_us
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, pg_conninfo
from projections.statements.close import (
    PeriodStatements,
    close_period,
    compute_statements,
    engine_for,
    replay_period,
)

BENCH = "statements"
PERIOD = Period(2026, 1)
ADMIN = os.environ.get("ROYALTY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def isrc(n: int) -> str:
    return f"QZBEN26{n:05d}"


def build_catalogue(app: RoyaltyLedger, recordings: int, parties: int) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    batch: list[object] = []

    def flush(force: bool = False) -> None:
        if batch and (force or len(batch) >= 2_000):
            app.save(*batch)  # type: ignore[arg-type]
            batch.clear()

    for p in range(parties):
        batch.append(Party(key=f"p{p}", name=f"Party {p}", kinds=["artist"], identifiers={}, actor="bench"))
        flush()
    for r in range(recordings):
        work = f"w{r}" if r % 4 == 0 else None
        if work:
            batch.append(Work(key=work, title=work, iswc=None, writers=[], actor="bench"))
            pub = SplitAgreement(right="publishing", subject_key=work, actor="bench")
            v = pub.propose({f"p{(r * 7) % parties}": 1_000_000}, start, "bench", "", "bench")
            pub.activate(v, "bench", override_reason="bench")
            batch.append(pub)
        batch.append(
            Recording(
                isrc=isrc(r),
                title=f"T{r}",
                display_artist="A",
                duration_ms=1000,
                work_key=work,
                credits=[],
                actor="bench",
            )
        )
        master = SplitAgreement(right="master", subject_key=isrc(r), actor="bench")
        artist, label = f"p{r % parties}", f"p{(r // 5 + 1) % parties}"
        shares = {artist: 600_000, label: 400_000} if artist != label else {artist: 1_000_000}
        v = master.propose(shares, start, "bench", "", "bench")
        master.activate(v, "bench", override_reason="bench")
        batch.append(master)
        flush()
    flush(force=True)
    app.set_rights_pie(
        {"*:*": {"platform": 300_000, "master": 560_000, "publishing": 140_000}}, start, "bench", "bench"
    )


def generate_usage(config: StoreConfig, plays: int, recordings: int, position: int) -> None:
    start, length = to_us(PERIOD.start), to_us(PERIOD.end) - to_us(PERIOD.start)
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
                    "{start} + (i::bigint * 7919) % {length}, 'QZBEN26' || lpad((i % {recs})::text, 5, '0'), "
                    "NULL, sha256(convert_to('l' || (i % 50000), 'UTF8')), "
                    "(ARRAY['DE','FR','US','GB','SE'])[1 + (i / {recs}) % 5], 60, 'EUR', "
                    "1000 + i % 13, 'fixed_rate', 1, NULL, true, false, '\\x00'::bytea, NULL "
                    "FROM generate_series({low}, {high}) AS i"
                ).format(pos=position, start=start, length=length, recs=recordings, low=low, high=high)
            )
        conn.execute(sql.SQL("INSERT INTO usage_positions VALUES ({pos})").format(pos=position))
        conn.execute("ANALYZE usage_rows")


def duckdb_floor(config: StoreConfig, folder: Path) -> float:
    """Export the month's usage to Parquet (untimed), then time a bare DuckDB GROUP BY."""
    path = folder / "usage.parquet"
    csv_path = folder / "usage.csv"
    query = (
        "COPY (SELECT isrc, kind, territory, currency, occurred_at_us, gross_micros "
        "FROM usage_rows) TO STDOUT WITH (FORMAT csv)"
    )
    with (
        psycopg.connect(pg_conninfo(config)) as conn,
        conn.cursor() as cur,
        csv_path.open("wb") as fh,
        cur.copy(query) as copy,
    ):
        for block in copy:
            fh.write(block)
    table = pacsv.read_csv(
        csv_path,
        read_options=pacsv.ReadOptions(
            column_names=["isrc", "kind", "territory", "currency", "occurred_at_us", "gross_micros"]
        ),
    )
    pq.write_table(table, path)
    del table
    started = time.perf_counter()
    duckdb.sql(
        f"SELECT isrc, kind, territory, currency, count(*), sum(gross_micros) FROM read_parquet('{path}') GROUP BY ALL"
    ).fetchall()
    return time.perf_counter() - started


def spark_figures(app: RoyaltyLedger, config: StoreConfig, closed: PeriodStatements, close_s: float) -> None:
    """The same month on the Spark engine (local mode): export to the archive, then the statements
    with the archive ready, each beside the single-node close; every hash compared."""
    from projections.statements.spark_engine import SparkUsage, spark_session

    spark_session()  # the JVM's start is not the engine's work
    with tempfile.TemporaryDirectory() as tmp:
        usage = SparkUsage(config, str(Path(tmp) / "archive"))
        started = time.perf_counter()
        usage.archive.export(config, PERIOD, closed.as_of)
        export_s = time.perf_counter() - started
        runs, in_spark = [], []
        for _ in range(3):  # the first run warms the JVM's code generation up; a long-lived driver is warm
            started = time.perf_counter()
            engine = engine_for(app, config, closed.as_of, usage=usage)
            usage.spark_seconds = 0.0
            on_spark = compute_statements(engine, PERIOD, closed.as_of, display=False)
            runs.append(time.perf_counter() - started)
            in_spark.append(usage.spark_seconds)
    print(f"[{BENCH}] of which Spark's sums (s): {', '.join(f'{x:.1f}' for x in in_spark)}", flush=True)
    same = on_spark.hashes == closed.hashes
    print(f"[{BENCH}] spark engine: {len(on_spark.hashes):,} statements, every hash identical: {same}", flush=True)
    assert same, "the Spark engine's hashes differ from the single-node engine's"
    emit(Figure(BENCH, "spark: archive the month (Parquet)", export_s, "s", "single-node close", close_s))
    emit(Figure(BENCH, "spark: statements, first run (cold JVM)", runs[0], "s", "single-node close", close_s))
    emit(
        Figure(
            BENCH,
            "spark: statements, warm (median of 2)",
            statistics.median(runs[1:]),
            "s",
            "single-node close",
            close_s,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plays", type=int, default=10_000_000)
    parser.add_argument("--recordings", type=int, default=100_000)
    parser.add_argument("--parties", type=int, default=20_000)
    parser.add_argument("--keep", default="", help="keep the database under this name (reused)")
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark engine's figures")
    args = parser.parse_args()
    admin = StoreConfig.from_url(ADMIN)
    name = args.keep or f"royalty_bench_{uuid.uuid4().hex[:8]}"
    config = StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}")
    apply_migrations(config)
    app = RoyaltyLedger(config, clock=lambda: datetime(2026, 2, 2, tzinfo=UTC))
    try:
        t0 = time.perf_counter()
        if app.head_position() == 0:
            build_catalogue(app, args.recordings, args.parties)
            t1 = time.perf_counter()
            generate_usage(config, args.plays, args.recordings, app.head_position())
            t2 = time.perf_counter()
        else:
            t1 = t2 = t0
        print(
            f"[{BENCH}] setup: catalogue {t1 - t0:.1f} s ({app.head_position():,} events), "
            f"usage {args.plays:,} rows {t2 - t1:.1f} s",
            flush=True,
        )
        with tempfile.TemporaryDirectory() as tmp:
            floor = duckdb_floor(config, Path(tmp))
        started = time.perf_counter()
        if app.is_period_closed(PERIOD):  # a kept database: time a recompute instead
            head = app.head_position()
            engine = engine_for(app, config, head, prefetch=[(PERIOD, head)])
            closed = compute_statements(engine, PERIOD, head, display=False)  # as close_period computes
        else:
            closed = close_period(app, config, PERIOD, "bench")
        close_s = time.perf_counter() - started
        started = time.perf_counter()
        replay = replay_period(app, config, PERIOD)
        replay_s = time.perf_counter() - started
        assert replay.ok, replay.differences[:3]
        size = f"{args.plays:,} plays, {args.recordings:,} recordings, {len(closed.documents):,} statements"
        print(f"[{BENCH}] {size}", flush=True)
        emit(Figure(BENCH, "close month", close_s, "s", "DuckDB GROUP BY on Parquet", floor, "≤ 30 s at 10M plays"))
        emit(Figure(BENCH, "replay month", replay_s, "s", "DuckDB GROUP BY on Parquet", floor, "≤ 30 s at 10M plays"))
        emit(Figure(BENCH, "peak RSS", peak_rss_mib(), "MiB", target="≤ 4096 MiB"))
        if not args.no_spark:
            spark_figures(app, config, closed, close_s)
    finally:
        app.close()
        if not args.keep:
            with psycopg.connect(pg_conninfo(admin), autocommit=True) as conn:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                conn.execute(drop.format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
