"""The earnings route under load on loopback, beside the same route unloaded in the same run.

A real `royalty serve` process (one worker, PostgreSQL by default) answers
`GET /v1/parties/label/earnings?by=recording` with a party key, driven by an open-loop asyncio
client at 200 requests/s for 30 s: each request is scheduled at its time whether or not
earlier ones have answered, and latency counts from the scheduled time (no coordinated
omission). Set-up and health checks use httpx; the load itself is raw keep-alive HTTP/1.1,
because an httpx AsyncClient cost more CPU per request than the server being measured.
Two phases, same server, same data:
  (a) baseline: nothing else running;
  (b) loaded: a feeder process ingests plays at 10 000/s (1 000-row batches every 0.1 s
      through ledger.usage.ingest, the function the API's usage routes call) while a separate
      projector process (`python -m projections.projector --follow`) folds them into the
      earnings and stats read models; measured from 2 s after the feeder is up (its imports
      and catalogue load are start-up, not load).
Figures: p50, p99, errors, achieved request rate, achieved ingest rate, the projector's worst
lag while loaded. Target: p99 ≤ 25 ms, no errors.

Environment: ROYALTY_BENCH_API_SECONDS (30), ROYALTY_BENCH_API_RATE (200 req/s),
ROYALTY_BENCH_API_PLAYS (10 000 plays/s), ROYALTY_BENCH_API_STORE (postgres | sqlite).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from stdnum import ean

from api.auth import create_key
from benchmarks.http_load import drive, percentile
from benchmarks.report import Figure, emit
from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, pg_conninfo
from ledger.usage.ingest import UsageIngest
from ledger.usage.pricing_commands import demo_pricing
from ledger.usage.rows import normalise_dicts

BENCH = "api"
PG_ADMIN = os.environ.get("ROYALTY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "benchmark-listener-secret-0123456789"  # noqa: S105 - a fixture, not a credential
SECONDS = float(os.environ.get("ROYALTY_BENCH_API_SECONDS", "30"))
RATE = float(os.environ.get("ROYALTY_BENCH_API_RATE", "200"))
PLAYS_PER_S = int(os.environ.get("ROYALTY_BENCH_API_PLAYS", "10000"))
STORE = os.environ.get("ROYALTY_BENCH_API_STORE", "postgres")
RECORDINGS = 200
TICK_S = 0.1
ROUTE = "/v1/parties/label/earnings?by=recording"
ROYALTY = str(Path(sys.executable).with_name("royalty"))


def fresh_store(folder: Path) -> StoreConfig:
    if STORE == "sqlite":
        config = StoreConfig.from_url(str(folder / "royalty.db"))
    else:
        admin = StoreConfig.from_url(PG_ADMIN)
        name = f"royalty_bench_api_{uuid.uuid4().hex[:8]}"
        config = StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}")
    apply_migrations(config)
    return config


def drop_store(config: StoreConfig) -> None:
    if config.backend == "postgres":
        with psycopg.connect(pg_conninfo(StoreConfig.from_url(PG_ADMIN)), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{config.pg_dbname}" WITH (FORCE)'.encode())


def isrcs() -> list[str]:
    return [f"QZAPI26{n:05d}" for n in range(RECORDINGS)]


def seed(app: RoyaltyLedger) -> str:
    """Two parties, RECORDINGS recordings with 70/30 master splits, pricing, a rights pie;
    returns a party key token for the label."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    app.upsert_party("artist", "Bench Artist", ["artist"], "bench")
    app.upsert_party("label", "Bench Label", ["label"], "bench")
    app.set_rights_pie(
        {"*:*": {"platform": 300_000, "master": 600_000, "publishing": 100_000}}, start, "bench", "bench"
    )
    app.set_pricing(demo_pricing(), "bench", "bench")
    for isrc in isrcs():
        app.upsert_recording(isrc, f"Track {isrc}", "Bench Artist", 200_000, "bench")
        app.set_split("master", isrc, {"artist": 700_000, "label": 300_000}, start, "bench", "initial")
    for n in range(0, RECORDINGS, 10):
        code = f"50999{n:07d}"
        app.deliver_release(
            code + ean.calc_check_digit(code),
            f"Album {n}",
            isrcs()[n : n + 10],
            date(2026, 1, 1),
            "bench",
            label_key="label",
        )
    return create_key(app, "party", "bench", "label", "bench").token


def plays(first: int, count: int, now: datetime) -> list[dict[str, Any]]:
    names = isrcs()
    return [
        {
            "play_id": f"b{i}",
            "isrc": names[i % RECORDINGS],
            "listener_id": f"l{i % 50_000}",
            "territory": ("GB", "DE", "SE", "US")[i % 4],
            "seconds_played": 60 + i % 180,
            "occurred_at": (now - timedelta(seconds=i % 3600)).isoformat(),
        }
        for i in range(first, first + count)
    ]


def feed(seconds: float, per_second: int, first: int) -> None:
    """The feeder process: ingest `per_second` plays each second in TICK_S batches."""
    app = RoyaltyLedger(StoreConfig.from_env())
    run = UsageIngest(app, "bench:feeder", secret=SECRET.encode())
    print("READY", flush=True)
    per_tick = int(per_second * TICK_S)
    started = time.perf_counter()
    done, tick = 0, 0
    while time.perf_counter() - started < seconds:
        rows = plays(first + done, per_tick, datetime.now(tz=UTC))
        prepared, _ = run.record(normalise_dicts(rows, "player"), "bench")
        done += prepared.accepted
        tick += 1
        time.sleep(max(0.0, started + tick * TICK_S - time.perf_counter()))
    elapsed = time.perf_counter() - started
    print(f"FED {done} {elapsed:.3f}", flush=True)
    app.close()


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("royalty serve exited during start-up")
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("royalty serve did not answer in time")


def watch_lag(url: str, stop: threading.Event, worst: dict[str, float]) -> None:
    while not stop.wait(0.5):
        try:
            lag = httpx.get(f"{url}/v1/health", timeout=2).json()["projector"]
        except (httpx.HTTPError, KeyError, ValueError):
            continue
        worst["positions"] = max(worst["positions"], lag["behind"])
        worst["seconds"] = max(worst["seconds"], lag["seconds"] or 0.0)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def phase(port: int, token: str, seconds: float = SECONDS) -> tuple[list[float], int, float]:
    started = time.perf_counter()
    latencies, errors = asyncio.run(drive(port, ROUTE, token, seconds, RATE, b"totals_micros", BENCH))
    return latencies, errors, len(latencies) / (time.perf_counter() - started)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="royalty-bench-api-"))
    config = fresh_store(folder)
    env = {**os.environ, "ROYALTY_DATABASE_URL": config.describe(), "ROYALTY_LISTENER_SECRET": SECRET}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        app = RoyaltyLedger(config)
        token = seed(app)
        preload = UsageIngest(app, "bench:preload", secret=SECRET.encode())
        for first in range(0, 100_000, 10_000):
            preload.record(normalise_dicts(plays(first, 10_000, datetime.now(tz=UTC)), "player"))
        app.close()
        projector = subprocess.Popen(
            [sys.executable, "-m", "projections.projector", "--follow"], env=env, stdout=subprocess.DEVNULL
        )
        port = free_port()
        server = subprocess.Popen(
            [ROYALTY, "serve", "--port", str(port), "--no-projector"], env=env, stdout=subprocess.DEVNULL
        )
        processes += [projector, server]
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        while httpx.get(f"{url}/v1/health").json()["projector"]["behind"] > 0:
            time.sleep(0.5)
        httpx.get(
            f"{url}/v1/parties/label/earnings",  # the first call pays argon2 once
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

        phase(port, token, 3.0)  # warm-up, not counted: worker threads, view connections
        base, base_errors, base_rate = phase(port, token)
        base_load = os.getloadavg()[0]

        feeder = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_api", "feed", str(SECONDS + 4), str(PLAYS_PER_S)],
            env=env,
            stdout=subprocess.PIPE,
        )
        processes.append(feeder)
        stop, worst = threading.Event(), {"positions": 0.0, "seconds": 0.0}
        watcher = threading.Thread(target=watch_lag, args=(url, stop, worst))
        watcher.start()
        assert feeder.stdout is not None
        feeder.stdout.readline()  # READY: its start-up (imports, catalogue) is not part of the load
        time.sleep(2.0)  # and the measurement starts once ingest and projector are in their stride
        who = {"server": server, "projector": projector, "feeder": feeder}
        cpu_before = {name: cpu_seconds(p.pid) for name, p in who.items()}
        started = time.perf_counter()
        loaded, loaded_errors, loaded_rate = phase(port, token)
        cores = {
            name: (cpu_seconds(p.pid) - cpu_before[name]) / (time.perf_counter() - started) for name, p in who.items()
        }
        loaded_load = os.getloadavg()[0]
        stop.set()
        watcher.join()
        out, _ = feeder.communicate(timeout=120)
        fed = [line.split() for line in out.decode().splitlines() if line.startswith("FED")]
        plays_per_s = int(fed[-1][1]) / float(fed[-1][2]) if fed else 0.0

        for name, q in (("p50", 50.0), ("p99", 99.0)):
            emit(
                Figure(
                    BENCH,
                    f"earnings {name} while ingesting ({config.backend})",
                    percentile(loaded, q),
                    "ms",
                    f"{name} unloaded",
                    percentile(base, q),
                    target="≤ 25 ms" if name == "p99" else "",
                )
            )
        emit(
            Figure(
                BENCH,
                "earnings errors while ingesting",
                loaded_errors,
                "requests",
                "errors unloaded",
                base_errors,
                target="0",
            )
        )
        emit(
            Figure(
                BENCH,
                "earnings requests/s achieved while ingesting",
                loaded_rate,
                "req/s",
                "unloaded",
                base_rate,
                target=f"{RATE:.0f} req/s",
            )
        )
        emit(
            Figure(
                BENCH,
                "plays ingested/s during the loaded phase",
                plays_per_s,
                "plays/s",
                target=f"{PLAYS_PER_S:,} plays/s",
            )
        )
        emit(Figure(BENCH, "projector worst lag while loaded (time)", worst["seconds"], "s"))
        emit(Figure(BENCH, "projector worst lag while loaded (positions)", worst["positions"], "positions"))
        for name, used in cores.items():
            emit(Figure(BENCH, f"CPU used while loaded: {name}", used, "cores"))
        emit(
            Figure(
                BENCH,
                f"machine load average (1 min, {os.cpu_count()} CPUs), loaded",
                loaded_load,
                "runnable",
                "unloaded phase",
                base_load,
            )
        )
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        drop_store(config)


if __name__ == "__main__":
    if sys.argv[1:2] == ["feed"]:
        feed(float(sys.argv[2]), int(sys.argv[3]), first=1_000_000)
    else:
        main()
