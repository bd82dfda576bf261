"""Live earnings at position X equal what the statement rules give for X, however batched.

Two references: issue 4's statement computation (`compute_period`), and ledger.royalties
applied from scratch here: the rights timeline as known at X, usage
rows with position ≤ X grouped into allocation keys (period, currency, recording, kind,
territory, context), LR of each key's cumulative gross. The projector must agree to the
micro-unit per account × currency × recording × period, after any sequence of plays, back-dated
split changes, disputes and pie changes, folded in batches of any size.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.usage_feed import record_plays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.royalties.allocation import allocate_key
from ledger.royalties.history import read_rights_history
from ledger.royalties.timeline import rights_timeline
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations
from projections.db import ViewDB
from projections.earnings_view import month_bounds
from projections.projector import Projector
from projections.statements.compute import compute_period
from tests.integration.projection_fixtures import ISRCS, seed_catalogue

DEC_1 = datetime(2025, 12, 1, tzinfo=UTC)
PIE = {"*:*": {"platform": 333_333, "master": 466_667, "publishing": 200_000}}

play = st.tuples(
    st.integers(0, 61 * 24 - 1),  # hour of Dec 2025 … Jan 2026
    st.sampled_from(ISRCS),
    st.sampled_from(["DE", "FR"]),
    st.sampled_from(["stream", "download"]),
    st.integers(-50_000, 2_000_001),  # gross micros, refunds included
)
step = st.one_of(
    st.tuples(st.just("plays"), st.lists(play, min_size=1, max_size=12)),
    st.tuples(st.just("split"), st.sampled_from(ISRCS), st.integers(0, 61 * 24 - 1), st.integers(1, 999_999)),
    st.tuples(st.just("dispute"), st.sampled_from(ISRCS), st.integers(0, 61 * 24 - 1), st.integers(1, 1_000_000)),
    st.tuples(st.just("pie"), st.integers(0, 61 * 24 - 1), st.integers(0, 1_000_000)),
    st.tuples(st.just("project"), st.integers(1, 6)),
)


def apply_step(app: RoyaltyLedger, s: tuple, counter: list[int]) -> None:  # type: ignore[type-arg]
    if s[0] == "plays":
        rows = []
        for hour, isrc, territory, kind, gross in s[1]:
            counter[0] += 1
            at = DEC_1 + timedelta(hours=hour, minutes=counter[0] % 60)
            us = int(at.timestamp()) * 1_000_000
            rows.append(
                (
                    "store",
                    f"u{counter[0]}",
                    0,
                    kind,
                    us,
                    isrc,
                    None,
                    hashlib.sha256(b"l1").hexdigest(),  # an HMAC, as ingest stores it
                    territory,
                    None,
                    "EUR",
                    gross,
                    "sale",
                    1,
                    None,
                    True,
                    hashlib.sha256(str(counter[0]).encode()).hexdigest(),
                    None,
                )
            )
        record_plays(app, rows, source="store")
    elif s[0] == "split":
        _, isrc, hour, aria = s
        app.set_split(
            "master",
            isrc,
            {"aria": aria, "lbl": 1_000_000 - aria},
            DEC_1 + timedelta(hours=hour),
            "test",
            "back-dated change",
        )
    elif s[0] == "dispute":
        _, isrc, hour, ppm = s
        app.open_dispute("master", isrc, "pub", ppm, DEC_1 + timedelta(hours=hour), "mine", "test", by_operator=True)
    elif s[0] == "pie":
        _, hour, platform = s
        rest = 1_000_000 - platform
        app.set_rights_pie(
            {"*:*": {"platform": platform, "master": rest - rest // 3, "publishing": rest // 3}},
            DEC_1 + timedelta(hours=hour),
            "pie change",
            "test",
        )


def statement_rules(app: RoyaltyLedger, db: ViewDB, as_of: int) -> dict[tuple, int]:  # type: ignore[type-arg]
    h = read_rights_history(app, upto=as_of)
    rows = db.execute(
        "SELECT isrc, occurred_at_us, currency, kind, territory, pricing_model, gross_micros "
        "FROM usage_rows WHERE position <= ?",
        [as_of],
    )
    keys: dict[tuple, int] = defaultdict(int)  # type: ignore[type-arg]
    for isrc, at, currency, kind, territory, model, gross in rows:
        start, end = month_bounds(at - at % 86_400_000_000)
        segment = next(s for s in rights_timeline(h, isrc, start, end, as_of) if s.start_us <= at < s.end_us)
        ctx = segment.context.for_usage(kind, model, territory)
        keys[(isrc, start, currency, kind, territory, ctx)] += gross
    totals: dict[tuple, int] = defaultdict(int)  # type: ignore[type-arg]
    for (isrc, start, currency, _, _, ctx), gross in keys.items():
        for account, micros in allocate_key(gross, ctx).items():
            totals[(account, currency, isrc, start)] += micros
    return {k: v for k, v in totals.items() if v}


def statement_engine(app: RoyaltyLedger, as_of: int) -> dict[tuple, int]:  # type: ignore[type-arg]
    """What issue 4's statement computation gives for both months, per account and recording."""
    h = read_rights_history(app, upto=as_of)
    totals: dict[tuple, int] = defaultdict(int)  # type: ignore[type-arg]
    for period in (Period(2025, 12), Period(2026, 1)):
        result = compute_period(app.config, h, period, as_of)
        start = month_bounds(int(period.start.timestamp()) * 1_000_000)[0]
        for account, lines in result.lines.items():
            for key, amounts in lines.items():
                totals[(account, key.currency, key.isrc, start)] += amounts.amount_micros
    return {k: v for k, v in totals.items() if v}


def live_earnings(db: ViewDB) -> dict[tuple, int]:  # type: ignore[type-arg]
    totals: dict[tuple, int] = defaultdict(int)  # type: ignore[type-arg]
    for account, currency, isrc, day, amount in db.execute(
        "SELECT account, currency, isrc, day_us, amount_micros FROM earn_account_day"
    ):
        totals[(account, currency, isrc, month_bounds(day)[0])] += amount
    return {k: v for k, v in totals.items() if v}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=10), st.integers(1, 8))
def test_live_earnings_equal_the_statement_rules_at_every_position(steps, final_batch):
    with tempfile.TemporaryDirectory() as tmp:
        config = StoreConfig.from_url(str(Path(tmp) / "p.db"))
        apply_migrations(config)
        app = RoyaltyLedger(config)
        db = ViewDB(config)
        try:
            seed_catalogue(app)
            app.set_rights_pie(PIE, DEC_1 - timedelta(days=1), "initial", "test")
            counter = [0]
            follower = Projector(app, db)  # keeps its caches from one step to the next
            for s in steps:
                if s[0] == "project":
                    follower.batch_size = s[1]
                    follower.catch_up()
                    as_of = min(Projector(app, db).positions().values())
                    assert live_earnings(db) == statement_rules(app, db, as_of) == statement_engine(app, as_of)
                else:
                    apply_step(app, s, counter)
            Projector(app, db, batch_size=final_batch).catch_up()
            head = app.head_position()
            assert live_earnings(db) == statement_rules(app, db, head) == statement_engine(app, head)
        finally:
            db.close()
            app.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.integers(-3, 25), min_size=1, max_size=6), min_size=3, max_size=8))
def test_a_month_folded_day_after_day_matches_the_statement_rules(rounds):
    """Plays arriving in time order, projected after each day: the incremental path (cumulative
    kept from earlier days) must give the same micro-units as allocating the month at once."""
    with tempfile.TemporaryDirectory() as tmp:
        config = StoreConfig.from_url(str(Path(tmp) / "p.db"))
        apply_migrations(config)
        app = RoyaltyLedger(config)
        db = ViewDB(config)
        try:
            seed_catalogue(app)
            app.set_rights_pie(PIE, DEC_1 - timedelta(days=1), "initial", "test")
            counter = [0]
            projector = Projector(app, db, batch_size=1)  # one follower: its caches carry over
            for day, grosses in enumerate(rounds):
                plays = [(24 * (day + 1) + 1, ISRCS[0], "DE", "stream", gross) for gross in grosses]
                apply_step(app, ("plays", plays), counter)
                projector.catch_up()
                head = app.head_position()
                assert live_earnings(db) == statement_rules(app, db, head) == statement_engine(app, head)
        finally:
            db.close()
            app.close()
