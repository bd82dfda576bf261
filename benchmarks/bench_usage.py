"""Usage ingest at volume: 1 000 000 generated plays from Parquet, end to end, on PostgreSQL and SQLite.

End to end = read Parquet, normalise, validate, hash listeners, deduplicate, price (stream2own
play numbers from the store), write one UsageBatch event per 50 000 rows plus its rows in the
same transaction. Printed beside baselines measured in this run on the same file:
  (a) raw psycopg binary COPY of the same rows (every row and column of the same Parquet, in
      one transaction) into a bare table with a unique key on the play id — the practical
      limit on PostgreSQL; on SQLite the same with executemany into a bare table;
  (b) the same plays as one eventsourcing event per play, 1 000 per save() — the naive path,
      on every play of the file (ROYALTY_BENCH_NAIVE=N: only the first N, for a quick look; a
      smaller store is a faster one, so that flatters the naive path).
Also printed: bytes per stored usage row (table plus indexes, after the ingest) beside the bare
keyed table's, and the ingest's CPU seconds per million rows — this process (plus the SQLite
writer) apart from the PostgreSQL server's backends — which move far less than wall time with
the machine's other load, so before/after comparisons read them beside the rates.
Each measurement runs in its own process so its peak RSS is its own.
ROYALTY_BENCH_USAGE_PLAYS changes the count (default 1 000 000); ROYALTY_BENCH_ROUNDS the number
of interleaved rounds whose medians are printed (default 3); ROYALTY_BENCH_BACKENDS which stores.
ROYALTY_BENCH_USAGE_MONTHS=N (N > 1) fills the ingest's store beforehand, untimed, with the plays of
the N - 1 months before (ROYALTY_BENCH_USAGE_PREFILL plays each, default a third of the plays), so
on PostgreSQL every batch of the timed month meets N - 1 other months' partitions (migration 0047)
— or, before it, one table that much larger.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pyarrow.compute as pc
import pyarrow.parquet as pq
from eventsourcing.domain import Aggregate, event
from psycopg import sql
from stdnum import ean

from benchmarks.report import Figure, emit, peak_rss_with_children_mib
from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, pg_conninfo
from ledger.usage.generator import GenerateOptions, generate_usage
from ledger.usage.ingest import ingest_files
from ledger.usage.pricing_commands import demo_pricing

BENCH = "usage"
PG_ADMIN = os.environ.get("ROYALTY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = b"benchmark-listener-secret-0123456789"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
RELEASES, TRACKS = 40, 10


def clock() -> datetime:
    return NOW


class BenchPlay(Aggregate):
    """The naive path: one aggregate, one event per play."""

    @event("Played")
    def __init__(
        self,
        play_id: str,
        kind: str,
        occurred_at_us: int,
        isrc: str | None,
        upc: str | None,
        listener_id: str,
        territory: str,
        seconds_played: int | None,
        amount_micros: int | None,
        currency: str | None,
    ) -> None:
        pass


MONTHS = int(os.environ.get("ROYALTY_BENCH_USAGE_MONTHS", "1"))
# With earlier months to fill, the catalogue is released a year earlier, so they have plays.
RELEASE_YEAR = 2026 if MONTHS <= 1 else 2025


def build_catalogue(app: RoyaltyLedger) -> None:
    app.upsert_party("bench-artist", "Bench Artist", ["artist"], "bench")
    for r in range(RELEASES):
        isrcs = [f"USBN1260{r * TRACKS + t:04d}" for t in range(TRACKS)]
        for n, isrc in enumerate(isrcs):
            app.upsert_recording(isrc, f"Track {r}-{n}", "Bench Artist", 200_000, "bench")
        body = f"{r + 1:011d}"
        app.deliver_release(
            body + ean.calc_check_digit(body), f"Release {r}", isrcs, date(RELEASE_YEAR, 1, 1 + r % 28), "bench"
        )
    app.set_pricing(demo_pricing("EUR"), "benchmark", "bench")


def fresh_store(backend: str, workdir: Path) -> StoreConfig:
    if backend == "sqlite":
        config = StoreConfig.from_url(str(workdir / f"bench-{uuid.uuid4().hex[:8]}.db"))
    else:
        admin = StoreConfig.from_url(PG_ADMIN)
        config = StoreConfig.from_url(
            f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/royalty_bench_usage_{uuid.uuid4().hex[:8]}"
        )
    apply_migrations(config)
    return config


def drop_store(config: StoreConfig) -> None:
    if config.backend == "postgres":
        with psycopg.connect(pg_conninfo(config, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(config.pg_dbname)))
    elif config.sqlite_path:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{config.sqlite_path}{suffix}").unlink(missing_ok=True)


# --- the measurements, each run in a child process -------------------------------------


# What a stored usage line costs on disk: usage_rows (with every partition, should it be
# partitioned) and its indexes; on PostgreSQL usage_positions too (the watermark, one row per
# batch, migration 0040); `usage_play_counts`, should stream2own counters replace the numbering
# index (absent, skipped); on SQLite `usage_listeners`, each listener's HMAC once (migration 0050).
USAGE_TABLES = ("usage_rows", "usage_positions", "usage_play_counts", "usage_listeners")


def _one(conn: Any, query: Any, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def stored_bytes(config: StoreConfig, tables: tuple[str, ...], rows_of: str) -> tuple[int, int]:
    """(bytes of the tables with their indexes, rows in `rows_of`), after a checkpoint."""
    if config.backend == "postgres":
        with psycopg.connect(pg_conninfo(config), autocommit=True) as conn:
            total = 0
            for table in tables:
                if _one(conn, "SELECT to_regclass(%s)", (table,)) is None:
                    continue
                # A partitioned table's size is its partitions' (pg_partition_tree lists only those).
                total += int(
                    _one(
                        conn,
                        "SELECT pg_total_relation_size(%s::regclass) + COALESCE((SELECT sum(pg_total_relation_size"
                        "(relid)) FROM pg_partition_tree(%s) WHERE relid <> %s::regclass), 0)",
                        (table, table, table),
                    )
                )
            rows = int(_one(conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(rows_of))))
        return total, rows
    import sqlite3

    lite = sqlite3.connect(str(config.sqlite_path))
    try:
        lite.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        names = {str(t) for t in tables}
        indexes = {
            str(r[0])
            for r in lite.execute(
                f"SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ({','.join('?' * len(names))})",
                sorted(names),
            )
        }
        sizes = lite.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        total = sum(int(size) for name, size in sizes if name in names | indexes)
        rows = int(_one(lite, f"SELECT count(*) FROM {rows_of}"))
    finally:
        lite.close()
    return total, rows


def _client_cpu() -> float:
    """CPU seconds of this process and the children it waited for (the SQLite writer)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _server_cpu(config: StoreConfig) -> float:
    """CPU seconds so far of the PostgreSQL backends connected to the store's database (the
    server runs on this machine); 0 on SQLite. CPU time, unlike wall time, barely moves with
    what else the machine runs, so before/after comparisons read it beside the rates."""
    if config.backend != "postgres":
        return 0.0
    with psycopg.connect(pg_conninfo(config, "postgres"), autocommit=True) as conn:
        pids = [
            int(r[0])
            for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (config.pg_dbname,)).fetchall()
        ]
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _partitions(config: StoreConfig) -> int:
    """Partitions of usage_rows (0: one table, or SQLite)."""
    if config.backend != "postgres":
        return 0
    with psycopg.connect(pg_conninfo(config), autocommit=True) as conn:
        return int(_one(conn, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'usage_rows'::regclass"))


def prefill(config: StoreConfig, files: list[Path]) -> None:
    """The earlier months' plays, ingested untimed before the measured month."""
    app = RoyaltyLedger(config, clock=clock)
    ingest_files(app, files, actor="bench", secret=SECRET, batch_size=50_000)
    app.close()


def measure_ingest(config: StoreConfig, parquet: Path) -> dict[str, Any]:
    app = RoyaltyLedger(config, clock=clock)
    client, server = _client_cpu(), _server_cpu(config)
    started = time.perf_counter()
    summary = ingest_files(app, [parquet], actor="bench", secret=SECRET, batch_size=50_000)
    seconds = time.perf_counter() - started
    server = _server_cpu(config) - server  # before the pool's connections close
    app.close()
    client = _client_cpu() - client
    size, stored = stored_bytes(config, USAGE_TABLES, "usage_rows")
    return {
        "partitions": _partitions(config),
        "rows": summary.rows,
        "seconds": seconds,
        "accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "quarantined": sum(summary.quarantined.values()),
        "bytes": size,
        "stored_rows": stored,
        "client_cpu": client,
        "server_cpu": server,
    }


BARE_COLUMNS = (
    "play_id text PRIMARY KEY, kind text, occurred_at_us bigint, isrc text, upc text, "
    "listener_id text, territory text, seconds_played int, amount_micros bigint, currency text"
)
BARE_TYPES = ["text", "text", "int8", "text", "text", "text", "text", "int4", "int8", "text"]


def _raw_rows(parquet: Path, limit: int | None = None) -> Any:
    """Every row of the file as a plain tuple, all its columns (what both baselines write)."""
    table = pq.read_table(parquet)
    if limit:
        table = table.slice(0, limit)
    cols = [pc.coalesce(table["play_id"], table["sale_id"]).to_pylist()] + [
        table[c].cast("int64").to_pylist() if c == "occurred_at" else table[c].to_pylist()
        for c in (
            "kind",
            "occurred_at",
            "isrc",
            "upc",
            "listener_id",
            "territory",
            "seconds_played",
            "amount_micros",
            "currency",
        )
    ]
    return list(zip(*cols, strict=True))


def measure_copy(config: StoreConfig, parquet: Path) -> dict[str, Any]:
    """(a) Read the same Parquet, binary COPY into a bare table with a unique play id."""
    started = time.perf_counter()
    rows = _raw_rows(parquet)
    seen: set[str] = set()
    unique = [r for r in rows if not (r[0] in seen or seen.add(r[0]))]  # duplicates in the file
    ddl = f"CREATE TABLE bare_plays ({BARE_COLUMNS})"
    if config.backend == "postgres":
        with psycopg.connect(pg_conninfo(config)) as conn, conn.cursor() as cur:
            cur.execute(ddl)
            with cur.copy("COPY bare_plays FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(BARE_TYPES)
                for row in unique:
                    copy.write_row(row)
        seconds = time.perf_counter() - started
        size, stored = stored_bytes(config, ("bare_plays",), "bare_plays")
        return {"rows": len(rows), "seconds": seconds, "bytes": size, "stored_rows": stored}
    else:
        import sqlite3

        conn = sqlite3.connect(str(config.sqlite_path), isolation_level=None)
        conn.execute(ddl)
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO bare_plays VALUES ({', '.join('?' * len(BARE_TYPES))})", unique)
        conn.execute("COMMIT")
        conn.close()
    seconds = time.perf_counter() - started
    size, stored = stored_bytes(config, ("bare_plays",), "bare_plays")
    return {"rows": len(rows), "seconds": seconds, "bytes": size, "stored_rows": stored}


def measure_naive(config: StoreConfig, parquet: Path, limit: int) -> dict[str, Any]:
    """(b) One eventsourcing event per play, 1 000 aggregates per save()."""
    app = RoyaltyLedger(config, clock=clock)
    rows = _raw_rows(parquet, limit)
    seen: set[str] = set()
    unique = [r for r in rows if not (r[0] in seen or seen.add(r[0]))]
    started = time.perf_counter()
    for start in range(0, len(unique), 1_000):
        app.save(*[BenchPlay(*row) for row in unique[start : start + 1_000]])
    return {"rows": len(unique), "seconds": time.perf_counter() - started}


def child(argv: list[str]) -> None:
    what, backend_url, parquet = argv[0], argv[1], Path(argv[2])
    config = StoreConfig.from_url(backend_url)
    if what == "ingest":
        result = measure_ingest(config, parquet)
    elif what == "copy":
        result = measure_copy(config, parquet)
    else:
        result = measure_naive(config, parquet, int(argv[3]))
    print(json.dumps({**result, "peak_rss_mib": peak_rss_with_children_mib()}))


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_usage", "--child", *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def store_url(config: StoreConfig) -> str:
    return config.describe() if config.backend == "postgres" else str(config.sqlite_path)


def measure_once(
    backend: str, workdir: Path, parquet: Path, naive: int, earlier: list[Path]
) -> tuple[dict[str, Any], ...]:
    """One round: the ingest and both baselines back to back, each on a fresh store (the
    ingest's holding the `earlier` months' plays first)."""
    stores = [fresh_store(backend, workdir) for _ in range(3)]
    try:
        for config in stores[0], stores[2]:
            app = RoyaltyLedger(config, clock=clock)
            build_catalogue(app)
            app.close()
        if earlier:
            prefill(stores[0], earlier)
        ingest = run_child("ingest", store_url(stores[0]), str(parquet))
        copy = run_child("copy", store_url(stores[1]), str(parquet))
        slow = run_child("naive", store_url(stores[2]), str(parquet), str(naive))
    finally:
        for config in stores:
            drop_store(config)
    return ingest, copy, slow


def bench_backend(backend: str, workdir: Path, parquet: Path, naive: int, rounds: int, earlier: list[Path]) -> None:
    """Rounds interleave the three measurements, so a noisy neighbour hits all of them; the
    figures are medians over rounds."""
    results = [measure_once(backend, workdir, parquet, naive, earlier) for _ in range(rounds)]
    ingest = max((r[0] for r in results), key=lambda d: d["peak_rss_mib"])
    slow = results[0][2]
    rate = statistics.median(r[0]["rows"] / r[0]["seconds"] for r in results)
    copy_rate = statistics.median(r[1]["rows"] / r[1]["seconds"] for r in results)
    naive_rate = statistics.median(r[2]["rows"] / r[2]["seconds"] for r in results)
    if rounds > 1:
        print(
            f"[{BENCH}] {backend}: medians of {rounds} rounds; ingest rounds "
            + ", ".join(f"{r[0]['rows'] / r[0]['seconds']:,.0f}" for r in results)
            + " plays/s"
        )
    target = "≥ 0.6x (a) (issue 18)"
    copy_name = "(a) raw binary COPY, bare table" if backend == "postgres" else "(a) raw executemany, bare table"
    emit(Figure(BENCH, f"{backend}: ingest end to end", rate, "plays/s", copy_name, copy_rate, target))
    emit(
        Figure(
            BENCH,
            f"{backend}: ingest end to end",
            rate,
            "plays/s",
            f"(b) 1 event per play ({slow['rows']:,} plays)",
            naive_rate,
            "≥ 5x (b)",
        )
    )
    per_row = statistics.median(r[0]["bytes"] / max(1, r[0]["stored_rows"]) for r in results)
    bare_per_row = statistics.median(r[1]["bytes"] / max(1, r[1]["stored_rows"]) for r in results)
    emit(
        Figure(
            BENCH,
            f"{backend}: bytes per stored usage row (usage_rows + its indexes)",
            per_row,
            "B/row",
            "bare keyed table + its key index",
            bare_per_row,
            "≤ 1.6x the bare table",
        )
    )
    emit(
        Figure(
            BENCH,
            f"{backend}: peak RSS of the ingest (+ its writer process)",
            ingest["peak_rss_mib"],
            "MiB",
            target="< 2048 MiB",
        )
    )
    client_cpu = statistics.median(r[0]["client_cpu"] for r in results)
    server_cpu = statistics.median(r[0]["server_cpu"] for r in results)
    print(
        f"[{BENCH}] {backend}: ingest CPU per 1 000 000 rows (median of rounds): this process "
        f"(+ its writer) {client_cpu * 1e6 / ingest['rows']:.1f} s, database server "
        f"{server_cpu * 1e6 / ingest['rows']:.1f} s" + (" (in-process)" if backend == "sqlite" else ""),
        flush=True,
    )
    print(
        f"[{BENCH}] {backend}: {ingest['rows']:,} rows in {ingest['seconds']:.1f} s — accepted "
        f"{ingest['accepted']:,}, duplicates {ingest['duplicates']:,}, quarantined "
        f"{ingest['quarantined']:,}; usage_rows partitions after it: {ingest['partitions']}"
        + (f" (the store held {len(earlier)} earlier months' plays first)" if earlier else ""),
        flush=True,
    )


def main() -> None:
    plays = int(os.environ.get("ROYALTY_BENCH_USAGE_PLAYS", "1000000"))
    naive = int(os.environ.get("ROYALTY_BENCH_NAIVE", "0"))  # 0: every play
    backends = os.environ.get("ROYALTY_BENCH_BACKENDS", "postgres,sqlite").split(",")
    rounds = int(os.environ.get("ROYALTY_BENCH_ROUNDS", "3"))
    with tempfile.TemporaryDirectory(prefix="bench-usage-") as tmp:
        workdir = Path(tmp)
        parquet = workdir / "plays.parquet"
        config = fresh_store("sqlite", workdir)
        app = RoyaltyLedger(config, clock=clock)
        build_catalogue(app)
        info = generate_usage(app, GenerateOptions(plays, Period.parse("2026-10"), seed=42), parquet)
        earlier = []
        prefill_plays = int(os.environ.get("ROYALTY_BENCH_USAGE_PREFILL", str(max(1, plays // 3))))
        for back in range(MONTHS - 1, 0, -1):
            month = Period.parse("2026-10")
            for _ in range(back):
                month = month.previous()
            earlier.append(workdir / f"plays-{month}.parquet")
            generate_usage(app, GenerateOptions(prefill_plays, month, seed=100 + back), earlier[-1])
        app.close()
        print(
            f"[{BENCH}] {info['rows']:,} rows generated ({plays:,} plays + duplicates, late "
            f"and bad rows), {RELEASES * TRACKS} recordings, "
            f"{parquet.stat().st_size / 1e6:.0f} MB Parquet",
            flush=True,
        )
        for backend in backends:
            bench_backend(backend, workdir, parquet, naive, rounds, earlier)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        main()
