"""The dashboard's main page with millions of plays in the store, beside the JSON API route it
builds on, measured against the same server in the same run.

A store (PostgreSQL by default) gets ROYALTY_BENCH_DASH_PLAYS plays (10 000 000) over 90 days,
200 recordings and 20 territories, written as UsageBatch events of 20 000 rows through the
recorder's seam (benchmarks.usage_feed), then folded by the projector. An artist holds 70 % of
20 recordings, the label 30 % of those and 100 % of the rest. A real `royalty serve` process
(one worker, no in-process projector) answers over loopback with a kept-alive connection:
  - the artist's overview `/` (logged in as a dashboard user) and the label's;
  - the baseline: `GET /v1/parties/artist/earnings?by=recording` with the artist's party key,
    the JSON route the overview's figures build on.
Each: 5 warm-up loads, then 50 sequential loads; p50 and p95 of server time (the server's
`Server-Timing: app;dur=` header: request in to answer headers out). Target: overview p95 ≤ 150 ms.
The server keeps a page's figures per read-model position (as the API keeps its answers), so
sequential loads with no new plays are cache hits; the cold figures are the work behind a miss
— the overview's data computed in-process, uncached, 20 times (beside the API's earnings
query, computed the same way) — which is what each load costs while plays keep arriving.
After the fold the benchmark runs ANALYZE (autovacuum's job on a live server).

The cold figures also time, in the same run, the reads the overview made before the per-party
sums of migration 0016 (its earnings per day × recording × territory and plays per day, summed
per page) — what the kept sums replaced.

Environment: ROYALTY_BENCH_DASH_PLAYS (10 000 000), ROYALTY_BENCH_DASH_STORE (postgres | sqlite),
ROYALTY_BENCH_DASH_LOADS (50), ROYALTY_BENCH_DASH_KEEP=1: keep the PostgreSQL store
(`royalty_bench_dash_kept`) after the run and reuse it on the next (migrations applied, no
second fill) — the fill of 10 M plays is most of a run's time.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from stdnum import ean

from api.auth import create_key
from api.users import create_user
from benchmarks.report import Figure, emit
from benchmarks.usage_feed import make_plays, record_plays
from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, pg_conninfo
from ledger.usage.pricing_commands import demo_pricing
from projections.db import ViewDB
from projections.projector import Projector

BENCH = "dashboard"
PG_ADMIN = os.environ.get("ROYALTY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PLAYS = int(os.environ.get("ROYALTY_BENCH_DASH_PLAYS", "10000000"))
STORE = os.environ.get("ROYALTY_BENCH_DASH_STORE", "postgres")
LOADS = int(os.environ.get("ROYALTY_BENCH_DASH_LOADS", "50"))
KEEP = os.environ.get("ROYALTY_BENCH_DASH_KEEP") == "1" and STORE == "postgres"
KEPT_DB = "royalty_bench_dash_kept"
WARM_UP = 5
RECORDINGS, ARTIST_RECORDINGS, PER_BATCH = 200, 20, 20_000
TERRITORIES = [
    *("DE", "GB", "FR", "SE", "NL", "US", "CA", "AU", "JP", "BR"),
    *("ES", "IT", "PL", "NO", "DK", "FI", "IE", "AT", "BE", "CH"),
]
START = datetime(2026, 8, 1, tzinfo=UTC)
SPAN_US = 90 * 86_400_000_000
PASSWORD = "bench-dashboard-password"  # noqa: S105 - a fixture, not a credential
ROYALTY = str(Path(sys.executable).with_name("royalty"))


def fresh_store(folder: Path) -> tuple[StoreConfig, bool]:
    """The store, and whether it is a kept one already filled (ROYALTY_BENCH_DASH_KEEP=1)."""
    if STORE == "sqlite":
        config = StoreConfig.from_url(str(folder / "royalty.db"))
    else:
        admin = StoreConfig.from_url(PG_ADMIN)
        name = KEPT_DB if KEEP else f"royalty_bench_dash_{uuid.uuid4().hex[:8]}"
        config = StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}")
    filled = KEEP and _kept_filled(config)
    apply_migrations(config)
    return config, filled


def _kept_filled(config: StoreConfig) -> bool:
    try:
        with psycopg.connect(pg_conninfo(config)) as c:
            found = c.execute("SELECT value FROM bench_dash_kept WHERE key = 'plays'").fetchone()
    except psycopg.Error:
        return False
    return found is not None and int(found[0]) == PLAYS


def _mark_filled(config: StoreConfig) -> None:
    with psycopg.connect(pg_conninfo(config), autocommit=True) as c:
        c.execute("CREATE TABLE IF NOT EXISTS bench_dash_kept (key text PRIMARY KEY, value text)")
        c.execute("INSERT INTO bench_dash_kept VALUES ('plays', %s) ON CONFLICT (key) DO NOTHING", [str(PLAYS)])


def drop_store(config: StoreConfig) -> None:
    if config.backend == "postgres":
        with psycopg.connect(pg_conninfo(StoreConfig.from_url(PG_ADMIN)), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{config.pg_dbname}" WITH (FORCE)'.encode())


def seed(app: RoyaltyLedger) -> tuple[list[str], str]:
    """The catalogue, splits, money rules, two dashboard users; the artist's API key token."""
    app.upsert_party("artist", "Bench Artist", ["artist"], "bench")
    app.upsert_party("label", "Bench Label", ["label"], "bench")
    app.set_rights_pie({"*:*": {"platform": 300_000, "master": 600_000, "publishing": 100_000}}, START, "bench", "b")
    app.set_pricing(demo_pricing(), "bench", "bench")
    isrcs = [f"QZDSH26{n:05d}" for n in range(RECORDINGS)]
    for n, isrc in enumerate(isrcs):
        mine = n < ARTIST_RECORDINGS
        app.upsert_recording(
            isrc,
            f"Track {n}",
            "Bench Artist" if mine else "Other Artist",
            200_000,
            "bench",
            credits=[{"party": "artist", "role": "main_artist"}] if mine else [],
        )
        shares = {"artist": 700_000, "label": 300_000} if mine else {"label": 1_000_000}
        app.set_split("master", isrc, shares, START, "bench", "initial")
    for n in range(0, RECORDINGS, 10):
        code = f"50988{n:07d}"
        upc = code + ean.calc_check_digit(code)
        app.deliver_release(upc, f"Album {n}", isrcs[n : n + 10], date(2026, 8, 1), "bench", label_key="label")
    create_user(app, "artist-user", "party", "artist", PASSWORD, "bench")
    create_user(app, "label-user", "party", "label", PASSWORD, "bench")
    return isrcs, create_key(app, "party", "bench", "artist", "bench").token


def fill(app: RoyaltyLedger, isrcs: list[str]) -> tuple[float, float]:
    """Write PLAYS plays and fold them; seconds for each."""
    rng = random.Random(19)
    started = time.perf_counter()
    for first in range(0, PLAYS, PER_BATCH):
        count = min(PER_BATCH, PLAYS - first)
        start_us = int(START.timestamp()) * 1_000_000
        record_plays(app, make_plays(rng, count, isrcs, TERRITORIES, start_us, SPAN_US, first_id=first))
    written = time.perf_counter() - started
    started = time.perf_counter()
    db = ViewDB(app.config)
    try:
        Projector(app, db, batch_size=5_000).catch_up()
    finally:
        db.close()
    return written, time.perf_counter() - started


def day_table_reads(db: ViewDB, party: str, isrcs: list[str], now: datetime) -> None:
    """The overview's heavy reads before migration 0016: the party's earnings per day ×
    recording × territory summed (pies, totals), its last 31 days per day (timeline) and month
    (live figures), and its recordings' plays per day summed (rankings, sources)."""
    from projections import rollups

    db.execute(
        "SELECT isrc, territory, currency, SUM(amount_micros) FROM earn_account_day WHERE account = ? "
        "GROUP BY isrc, territory, currency",
        [f"party:{party}"],
    )
    rollups.earnings(db, party, by="day", start=now - timedelta(days=31))
    rollups.earnings(db, party, start=now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    db.execute(
        "SELECT isrc, territory, source, SUM(plays), SUM(counted_plays) FROM stats_day "
        f"WHERE isrc IN ({','.join('?' * len(isrcs))}) GROUP BY isrc, territory, source",
        isrcs,
    )


def cold_figures(config: StoreConfig) -> dict[str, tuple[list[float], list[float], list[float]]]:
    from api.dashboard import data
    from projections import queries

    app = RoyaltyLedger(config)
    db = ViewDB(config)
    out = {}
    try:
        for party in ("artist", "label"):
            isrcs = queries.party_catalogue(db, party)
            page, api, before = [], [], []
            for n in range(22):
                started = time.perf_counter()
                data.overview(app, db, party, "day", app.clock())
                middle = time.perf_counter()
                queries.earnings(db, party, by="recording")
                third = time.perf_counter()
                day_table_reads(db, party, isrcs, app.clock())
                if n >= 2:
                    page.append((middle - started) * 1000)
                    api.append((third - middle) * 1000)
                    before.append((time.perf_counter() - third) * 1000)
            out[party] = (page, api, before)
    finally:
        db.close()
        app.close()
    return out


def logged_in(url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60, follow_redirects=True)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "no CSRF token on the login form"
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)})
    assert answer.status_code == 200 and "This month" in answer.text, answer.status_code
    return client


def timings(client: httpx.Client, path: str, headers: dict[str, str] | None = None) -> list[float]:
    """Server time of each load after the warm-up, from its `Server-Timing: app;dur=` header."""
    out = []
    for n in range(WARM_UP + LOADS):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.status_code)
        if n >= WARM_UP:
            out.append(float(answer.headers["server-timing"].partition("dur=")[2]))
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
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


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="royalty-bench-dashboard-"))
    config, filled = fresh_store(folder)
    server: subprocess.Popen[bytes] | None = None
    try:
        app = RoyaltyLedger(config)
        if filled:
            token = create_key(app, "party", "bench", "artist", "bench").token
            how = f"kept store {KEPT_DB}, filled by an earlier run"
        else:
            isrcs, token = seed(app)
            written, folded = fill(app, isrcs)
            how = f"written in {written:.0f} s, folded in {folded:.0f} s"
            if KEEP:
                _mark_filled(config)
        app.close()
        print(
            f"[{BENCH}] store: {config.backend}, {PLAYS:,} plays over 90 days, {RECORDINGS} recordings "
            f"({ARTIST_RECORDINGS} the artist's), {len(TERRITORIES)} territories; {how}",
            flush=True,
        )
        if config.backend == "postgres":
            with psycopg.connect(pg_conninfo(config), autocommit=True) as c:
                c.execute("VACUUM ANALYZE")
        cold = cold_figures(config)
        port = _free_port()
        env = {**os.environ, "ROYALTY_DATABASE_URL": config.describe()}
        server = subprocess.Popen(
            [ROYALTY, "serve", "--port", str(port), "--no-projector"], env=env, stdout=subprocess.DEVNULL
        )
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        with httpx.Client(base_url=url, timeout=60) as machine:
            api = timings(machine, "/v1/parties/artist/earnings?by=recording", {"Authorization": f"Bearer {token}"})
        artist = logged_in(url, "artist-user")
        page = timings(artist, "/")
        artist.close()
        label = logged_in(url, "label-user")
        label_page = timings(label, "/")
        label.close()
        base = "GET /v1/parties/artist/earnings?by=recording p95"
        emit(Figure(BENCH, "artist overview / p95", p95(page), "ms", base, p95(api), "<= 150 ms"))
        emit(Figure(BENCH, "artist overview / p50", statistics.median(page), "ms", base.replace("p95", "p50"),
                    statistics.median(api)))  # fmt: skip
        emit(Figure(BENCH, "label overview / p95 (200 recordings)", p95(label_page), "ms", base, p95(api)))
        for party, (page_ms, api_ms, before_ms) in cold.items():
            emit(Figure(BENCH, f"{party} overview data, uncached, p95", p95(page_ms), "ms",
                        "earnings by recording query, uncached, p95", p95(api_ms), "<= 150 ms"))  # fmt: skip
            emit(Figure(BENCH, f"{party} overview data, uncached, p50", statistics.median(page_ms), "ms",
                        "earnings by recording query, uncached, p50", statistics.median(api_ms)))  # fmt: skip
            emit(Figure(BENCH, f"{party} overview data, uncached, p95", p95(page_ms), "ms",
                        "the same reads from the per-day tables (before 0016), p95", p95(before_ms)))  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not KEEP:
            drop_store(config)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()
