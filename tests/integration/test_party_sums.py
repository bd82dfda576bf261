"""The dashboard's kept sums (migrations 0016, 0018) on SQLite and PostgreSQL: earnings per party ×
recording × territory (all time) and per party × day, and plays per recording × source ×
territory, always equal the per-day read models summed — through plays over two months, a
back-dated split change that reallocates, a takedown, any batching — and the migrations' own SQL
fills them the same way."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from benchmarks.usage_feed import make_plays, record_plays

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from projections import party_sums, rollups
from projections.db import ViewDB
from projections.earnings_view import month_bounds
from projections.projector import Projector
from tests.integration.projection_fixtures import ISRCS, JAN_US, UPC, seed_catalogue

DAY_US = 86_400_000_000
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config)
    yield ledger
    ledger.close()


@pytest.fixture
def db(store_config: StoreConfig) -> Iterator[ViewDB]:
    view = ViewDB(store_config)
    yield view
    view.close()


def _seed(app: RoyaltyLedger) -> None:
    seed_catalogue(app)
    pie = {"*:*": {"platform": 300_000, "master": 600_000, "publishing": 100_000}}
    app.set_rights_pie(pie, datetime(2025, 1, 1, tzinfo=UTC), "test", "test")


def _plays(app: RoyaltyLedger, seed: int, first_id: int, batches: int = 2) -> None:
    rng = random.Random(seed)
    for b in range(batches):
        rows = make_plays(rng, 40, ISRCS, ["DE", "FR", "GB", "US"], JAN_US, 59 * DAY_US, first_id=first_id + b * 40)
        record_plays(app, rows)


def expected(db: ViewDB) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]], set[tuple[object, ...]]]:
    totals: dict[tuple[object, ...], int] = {}
    days: dict[tuple[object, ...], int] = {}
    for account, isrc, day, territory, currency, amount in db.execute(
        "SELECT account, isrc, day_us, territory, currency, amount_micros FROM earn_account_day"
    ):
        total = (account, currency, isrc, territory)
        totals[total] = totals.get(total, 0) + int(amount)
        days[(account, int(day), currency)] = days.get((account, int(day), currency), 0) + int(amount)
    plays: dict[tuple[object, ...], int] = {}
    for isrc, source, territory, currency, n in db.execute(
        "SELECT isrc, source, territory, currency, plays FROM stats_day"
    ):
        key = (isrc, source, territory, currency)
        plays[key] = plays.get(key, 0) + int(n)
    return (
        {(*k, v) for k, v in totals.items() if v},
        {(*k, v) for k, v in days.items() if v},
        {(*k, v) for k, v in plays.items()},
    )


def aria_b_days(db: ViewDB) -> list[int]:
    rows = db.execute("SELECT day_us FROM earn_account_day WHERE account = 'party:aria' AND isrc = ?", [ISRCS[1]])
    return [int(d) for (d,) in rows]


def kept(db: ViewDB) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]], set[tuple[object, ...]]]:
    def rows(sql: str) -> set[tuple[object, ...]]:
        return {tuple(int(v) if isinstance(v, int) else v for v in r) for r in db.execute(sql)}

    return (
        rows("SELECT account, currency, isrc, territory, amount_micros FROM earn_party_total"),
        rows("SELECT account, day_us, currency, amount_micros FROM earn_party_day"),
        rows("SELECT isrc, source, territory, currency, plays FROM stats_total"),
    )


def test_kept_sums_equal_the_day_tables_through_reallocation_and_takedowns(app: RoyaltyLedger, db: ViewDB) -> None:
    _seed(app)
    _plays(app, seed=1, first_id=0)
    Projector(app, db, batch_size=2).catch_up()
    assert kept(db) == expected(db) and kept(db)[0]
    assert [d for d in aria_b_days(db) if d >= JAN_US + 9 * DAY_US]  # aria earns on it before the change
    # A back-dated change of who holds the master: January and February are reallocated.
    app.set_split("master", ISRCS[1], {"lbl": 1_000_000}, datetime(2026, 1, 10, tzinfo=UTC), "test", "catalogue sale")
    app.take_down("release", UPC, ["GB"], "rights lapsed", datetime(2026, 2, 1, tzinfo=UTC), "test")
    _plays(app, seed=2, first_id=1_000, batches=3)
    Projector(app, db, batch_size=3).catch_up()
    totals, days, plays = kept(db)
    assert (totals, days, plays) == expected(db)
    assert {month_bounds(d[1])[0] for d in days} == {JAN_US, month_bounds(JAN_US + 40 * DAY_US)[0]}  # two months
    assert not [d for d in aria_b_days(db) if d >= JAN_US + 9 * DAY_US]  # reallocated from 10 January
    # The dashboard's reads of them answer what the per-day reads answer.
    for party in ("aria", "lbl", "pub"):
        assert party_sums.earned_totals(db, party) == rollups.earnings(db, party)["totals_micros"]
        for column in ("isrc", "territory"):
            by_day = db.execute(
                f"SELECT {column}, SUM(amount_micros) FROM earn_account_day WHERE account = ? AND currency = 'EUR' "
                f"GROUP BY {column}",
                [f"party:{party}"],
            )
            assert party_sums.earned_by(db, party, column, "EUR") == {str(k): int(v) for k, v in by_day if v}
        plays = db.execute("SELECT territory, SUM(plays), SUM(counted_plays) FROM stats_day GROUP BY territory")
        assert party_sums.plays_by(db, ISRCS, "territory") == {str(t): [int(p), int(c)] for t, p, c in plays}
        for by in ("day", "week", "month", "year"):
            lines = rollups.earnings(db, party, by=by)["lines"]
            assert party_sums.earned_by_bucket(db, party, by) == [
                {k: line[k] for k in ("bucket", "currency", "amount_micros")} for line in lines if line["amount_micros"]
            ]


def test_the_migration_fills_the_sums_from_the_day_tables(app: RoyaltyLedger, db: ViewDB) -> None:
    _seed(app)
    _plays(app, seed=3, first_id=0)
    Projector(app, db).catch_up()
    folded = kept(db)
    for table in ("earn_party_total", "earn_party_day", "stats_total"):
        db.execute(f"DELETE FROM {table}")
    for name in ("0016_party_month_earnings.sql", "0018_party_totals.sql"):
        for statement in (MIGRATIONS / db.backend / name).read_text().split(";"):
            body = "\n".join(line for line in statement.splitlines() if not line.strip().startswith("--")).strip()
            if body.startswith(
                ("INSERT INTO earn_party_day", "INSERT INTO earn_party_total", "INSERT INTO stats_total")
            ):
                db.execute(body)
    assert kept(db) == folded == expected(db)
