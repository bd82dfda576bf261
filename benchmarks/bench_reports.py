"""Import and distribute a store's sales report of 1 000 000 lines on PostgreSQL (issue 20),
beside a plain pyarrow read + group-by of the same CSV file, in the same run.

Setup (not timed): a fresh database; 20 000 recordings, each with a master split of 1–4
parties, saved as aggregates in bulk; the rights pie; the source's column mapping; a USD/EUR
rate; the CSV (EUR and 20 % USD lines, ten territories, one month).
Timed, end to end: `import_report` (read the CSV, check and convert column-wise, one event and
COPY of the lines) and then the month's distribution as known at the head (`period_result`:
the store's GROUP BY, matching, keys, largest-remainder allocation of every key to every
account; each account's statement line objects are built when first used, so building all of
them is timed apart, after). The headline end-to-end figure includes building every line object,
as a close does; the figure without it is printed beside. Baseline: `pyarrow.csv.read_csv` of the same file and a
`group_by(ISRC, Country)` sum. Medians of `--rounds` (each round imports a new copy of the file into a new database).

    python -m benchmarks reports [--lines N] [--recordings N] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

from benchmarks.report import Figure, emit, peak_rss_mib
from ledger.application import RoyaltyLedger
from ledger.domain.party import Party
from ledger.domain.period import Period
from ledger.domain.recording import Recording
from ledger.domain.split_agreement import SplitAgreement
from ledger.reports.commands import set_mapping, set_rates
from ledger.reports.importer import import_report
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, pg_conninfo
from projections.statements.close import engine_for

BENCH = "reports"
PERIOD = Period(2026, 1)
ADMIN = os.environ.get("ROYALTY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TERRITORIES = ["DE", "FR", "US", "GB", "SE", "NO", "ES", "IT", "NL", "JP"]
MAPPING = {
    "format": "csv",
    "columns": {
        "isrc": "ISRC",
        "territory": "Country",
        "period": "Month",
        "units": "Quantity",
        "gross": "Gross",
        "net": "Net",
        "currency": "Currency",
    },
    "defaults": {"right_type": "master"},
    "target_currency": "EUR",
}


def isrc(n: int) -> str:
    return f"QZREP26{n:05d}"


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
        batch.append(
            Recording(
                isrc=isrc(r),
                title=f"T{r}",
                display_artist="A",
                duration_ms=1000,
                work_key=None,
                credits=[],
                actor="bench",
            )
        )
        holders = [f"p{(r * 7 + k * 13) % parties}" for k in range(1 + r % 4)]  # 1–4 parties
        shares = {h: 1_000_000 // len(holders) for h in holders}
        shares[holders[0]] += 1_000_000 - sum(shares.values())
        master = SplitAgreement(right="master", subject_key=isrc(r), actor="bench")
        master.activate(master.propose(shares, start, "bench", "", "bench"), "bench", override_reason="bench")
        batch.append(master)
        flush()
    flush(force=True)
    app.set_rights_pie(
        {
            "*:*": {"platform": 300_000, "master": 700_000, "publishing": 0},
            "master:*": {"platform": 150_000, "master": 850_000, "publishing": 0},
        },
        start,
        "bench",
        "bench",
    )
    set_mapping(app, "store", MAPPING, "bench", "bench")
    set_rates(app, {"USD/EUR": "0.9213"}, start, "bench", "bench")


def write_csv(path: Path, lines: int, recordings: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rec = np.minimum(rng.zipf(1.3, lines) - 1, recordings - 1)  # a few hits, a long tail
    gross = rng.integers(1_000, 5_000_000, lines)  # micro-units
    net = gross * 7 // 10

    def decimal(micros: np.ndarray) -> pa.Array:
        whole, frac = np.divmod(micros, 1_000_000)
        return pa.array(np.char.add(np.char.add(whole.astype(str), "."), np.char.zfill(frac.astype(str), 6)))

    table = pa.table(
        {
            "ISRC": pa.array(np.char.add("QZREP26", np.char.zfill(rec.astype(str), 5))),
            "Country": pa.array(np.array(TERRITORIES)[rng.integers(0, len(TERRITORIES), lines)]),
            "Month": pa.array(np.full(lines, "2026-01")),
            "Quantity": pa.array(rng.integers(1, 1_000, lines)),
            "Gross": decimal(gross),
            "Net": decimal(net),
            "Currency": pa.array(np.where(rng.random(lines) < 0.2, "USD", "EUR")),
        }
    )
    pacsv.write_csv(table, path)


def pyarrow_baseline(path: Path) -> float:
    started = time.perf_counter()
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types={"Net": pa.decimal128(24, 6)}))
    table.group_by(["ISRC", "Country"]).aggregate([("Net", "sum"), ("Quantity", "sum")])
    return time.perf_counter() - started


def one_round(admin: StoreConfig, path: Path, recordings: int, parties: int) -> tuple[float, float, float, int, float]:
    name = f"royalty_bench_{uuid.uuid4().hex[:8]}"
    config = StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}")
    apply_migrations(config)
    app = RoyaltyLedger(config, clock=lambda: datetime(2026, 2, 2, tzinfo=UTC))
    try:
        build_catalogue(app, recordings, parties)
        data = path.read_bytes()
        started = time.perf_counter()
        result = import_report(app, data, source="store", actor="bench", file_name=path.name)
        imported = time.perf_counter() - started
        head = app.head_position()
        engine = engine_for(app, config, head)
        distributed = engine.period_result(PERIOD, head)
        total = time.perf_counter() - started
        # Every account's statement line objects, which period_result builds per account on
        # first use (a statement for one party builds only that party's): timed apart.
        built = time.perf_counter()
        lines = sum(len(account_lines) for account_lines in distributed.lines.values())
        built = time.perf_counter() - built
        accounts = len(distributed.lines)
        assert result.lines > 0 and not result.quarantined, result.quarantined
        converted = sum(t["net"] for c, t in result.totals.items() if c == "EUR") + sum(
            c["converted_micros"] for c in result.conversions
        )
        assert sum(distributed.gross.values()) == converted  # every micro-unit distributed
        assert lines > accounts
        return imported, total, total - imported, accounts, built
    finally:
        app.close()
        with psycopg.connect(pg_conninfo(admin), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--recordings", type=int, default=20_000)
    parser.add_argument("--parties", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    admin = StoreConfig.from_url(ADMIN)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store-report.csv"
        # Generated in a child process: the generator's NumPy text arrays are not the import's
        # memory, and the peak RSS printed is the importing process's.
        with ProcessPoolExecutor(max_workers=1) as pool:
            pool.submit(write_csv, path, args.lines, args.recordings, 1).result()
        size = path.stat().st_size
        runs, floors = [], []
        for _ in range(args.rounds):  # interleaved: the baseline beside each round
            floors.append(pyarrow_baseline(path))
            runs.append(one_round(admin, path, args.recordings, args.parties))
    imported = float(np.median([r[0] for r in runs]))
    total = float(np.median([r[1] for r in runs]))
    # The headline counts every account's line objects built, as a close builds them.
    whole = float(np.median([r[1] + r[4] for r in runs]))
    distribute = float(np.median([r[2] for r in runs]))
    built = float(np.median([r[4] for r in runs]))
    floor = float(np.median(floors))
    print(
        f"[{BENCH}] {args.lines:,} lines ({size / 2**20:.0f} MiB CSV), {args.recordings:,} recordings, "
        f"{runs[0][3]:,} accounts; median of {args.rounds}; load average {load:.1f} at the start",
        flush=True,
    )
    emit(
        Figure(
            BENCH,
            "import + distribute, every line object built (end to end)",
            args.lines / whole,
            "lines/s",
            "pyarrow read + group-by",
            args.lines / floor,
            "≥ 200 000 lines/s",
        )
    )
    emit(
        Figure(
            BENCH,
            "import + distribute (line objects not built)",
            args.lines / total,
            "lines/s",
            "pyarrow read + group-by",
            args.lines / floor,
        )
    )
    emit(Figure(BENCH, "import alone", args.lines / imported, "lines/s", "pyarrow read + group-by", args.lines / floor))
    emit(Figure(BENCH, "distribute alone (period_result)", distribute, "s", "pyarrow read + group-by", floor))
    emit(Figure(BENCH, "then every account's line objects built", built, "s", "pyarrow read + group-by", floor))
    emit(Figure(BENCH, "peak RSS (catalogue setup included)", peak_rss_mib(), "MiB", target="≤ 1024 MiB"))


if __name__ == "__main__":
    main()
