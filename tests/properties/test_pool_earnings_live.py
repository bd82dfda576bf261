"""Live earnings include pool money exactly as a statement at the same position distributes it
(DESIGN.md: "the streaming earnings equal what a statement computes for the same position").

A user-centric subscription pool (pro-rata fallback), a pro-rata surplus pool and a patronage
pool (equal share among b and the collective c, plus patrons' money for a named party), with
plays, contributions, refunds, rule versions, back-dated splits, collective changes and a close
in any order, projected in batches of any size: every account's live earnings per currency,
recording and month equal f(month, as_of) of the statement code at the projector's position, the
kept sums equal the per-day rows, and a rebuilt read model equals the live one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from benchmarks.usage_feed import record_plays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.royalties.history import read_rights_history
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations
from projections.db import ViewDB
from projections.earnings_view import month_bounds
from projections.projector import Projector
from projections.rebuild import rebuild
from projections.statements.close import close_period
from projections.statements.compute import compute_period
from tests.pools_helpers import HASH, listener_secret  # noqa: F401 - a fixture

R1, R2, R3 = "USRC17607839", "GBAYE0601498", "USRC17607847"
JAN = datetime(2026, 1, 1, tzinfo=UTC)
MONTHS = (Period(2026, 1), Period(2026, 2))
LISTENERS = ("s1", "s2", "s3", "x")
pytestmark = pytest.mark.usefixtures("listener_secret")

RULES = {
    "subs": [
        {"method": "user-centric", "fallback": "pro-rata"},
        {"method": "pro-rata", "plays": "contributors"},
        {
            "method": "hybrid",
            "weights": {"pro-rata": 300_000, "user-centric": 600_000, "equal-share": 100_000},
            "eligible": ["c"],
            "fallback": "coop-fund",
        },
    ],
    "surplus": [{"method": "pro-rata"}, {"method": "equal-share", "eligible": ["a", "b"]}],
    "patrons": [{"method": "equal-share", "eligible": ["b", "c"]}, {"method": "user-centric", "fallback": "coop-fund"}],
}

play = st.tuples(st.sampled_from(LISTENERS), st.sampled_from([R1, R2, R3]), st.integers(0, 58))
step = st.one_of(
    st.tuples(st.just("plays"), st.lists(play, min_size=1, max_size=8)),
    st.tuples(
        st.just("pay"),
        st.sampled_from(sorted(RULES)),
        st.sampled_from([*LISTENERS[:3], None]),
        st.integers(1, 30_000_000),
        st.integers(0, 58),
        st.sampled_from([None, None, "a", "c"]),
    ),
    st.tuples(st.just("refund"), st.integers(0, 20)),
    st.tuples(
        st.just("rule"), st.sampled_from(sorted(RULES)), st.integers(0, 2), st.sampled_from(["2026-01", "2026-02"])
    ),
    st.tuples(st.just("split"), st.sampled_from([R1, R2]), st.integers(1, 999_999), st.integers(0, 58)),
    st.tuples(st.just("members"), st.integers(1, 999_999), st.sampled_from(["2026-01", "2026-02"])),
    st.tuples(
        st.just("close"),
    ),
    st.tuples(st.just("project"), st.integers(1, 5)),
)


def seed(app: RoyaltyLedger) -> None:
    for key in ("a", "b", "c", "d"):
        app.upsert_party(key, key.upper(), ["artist"], "t")
    for isrc in (R1, R2, R3):
        app.upsert_recording(isrc, isrc, "A", 200_000, "t")
    app.set_rights_pie({"*:*": {"platform": 300_000, "master": 700_000, "publishing": 0}}, JAN, "p", "t")
    app.set_split("master", R1, {"a": 1_000_000}, JAN - timedelta(days=30), "t", "v1")
    app.set_split("master", R2, {"b": 600_000, "d": 400_000}, JAN - timedelta(days=30), "t", "v1")
    # R3 has no master split: its pool money goes to suspense, as on the statement.
    app.set_collective_members("c", {"a": 600_000, "d": 400_000}, "2026-01", "t")
    for key, kind in (("subs", "subscription"), ("surplus", "surplus"), ("patrons", "patronage")):
        app.configure_pool(key, key.title(), kind, "EUR", "t")
        app.set_pool_rule(key, RULES[key][0], "2026-01", "initial", "t")


class Scenario:
    def __init__(self, app: RoyaltyLedger) -> None:
        self.app = app
        self.n = 0
        self.paid: list[tuple[str, str]] = []
        self.closed = False

    def apply(self, s: tuple[Any, ...]) -> None:
        self.n += 1
        app, n = self.app, self.n
        if s[0] == "plays":
            rows = []
            for i, (listener, isrc, day) in enumerate(s[1]):
                at = int((JAN + timedelta(days=day, minutes=i)).timestamp()) * 1_000_000
                rows.append(
                    ("player", f"p{n}-{i}", 0, "stream", at, isrc, None, HASH(listener), "DE", 60, "EUR", 3_000,
                     "fixed_rate", 1, None, True, hashlib.sha256(f"p{n}-{i}".encode()).hexdigest(), None)
                )  # fmt: skip
            record_plays(app, rows)
        elif s[0] == "pay":
            _, pool, listener, micros, day, target = s
            row = {
                "contribution_id": f"c{n}",
                "pool": pool,
                "occurred_at": (JAN + timedelta(days=day, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "amount": f"{micros // 1_000_000}.{micros % 1_000_000:06d}",
                "currency": "EUR",
            }
            if listener is not None:
                row["listener"] = listener
            if target is not None and pool != "subs":
                row["target"] = target
            result = app.record_contributions([row], "csv:test", "t")
            if result.accepted:
                self.paid.append((f"c{n}", pool))
        elif s[0] == "refund" and self.paid:
            of, pool = self.paid[s[1] % len(self.paid)]
            row = {"contribution_id": f"r{n}", "pool": pool, "kind": "refund", "refund_of": of, "amount": "0.500000"}
            row |= {"occurred_at": "2026-02-20T00:00:00Z", "currency": "EUR"}
            app.record_contributions([row], "csv:test", "t")  # a refund larger than left is quarantined
        elif s[0] == "rule":
            _, pool, index, month = s
            app.set_pool_rule(pool, RULES[pool][index % len(RULES[pool])], month, "change", "t")
        elif s[0] == "split":
            _, isrc, ppm, day = s
            app.set_split("master", isrc, {"a": ppm, "b": 1_000_000 - ppm}, JAN + timedelta(days=day), "t", "change")
        elif s[0] == "members":
            app.set_collective_members("c", {"a": s[1], "d": 1_000_000 - s[1]}, s[2], "t")
        elif s[0] == "close" and not self.closed:
            close_period(app, app.config, MONTHS[0], "t")
            self.closed = True


def statement_totals(app: RoyaltyLedger, as_of: int) -> dict[tuple[str, str, str, int], int]:
    """f(month, as_of) of the statement code, per account, currency, recording and month."""
    h = read_rights_history(app, upto=as_of)
    totals: dict[tuple[str, str, str, int], int] = defaultdict(int)
    for period in MONTHS:
        start = int(period.start.timestamp()) * 1_000_000
        for account, lines in compute_period(app.config, h, period, as_of).lines.items():
            for key, amounts in lines.items():
                totals[(account, key.currency, key.isrc, start)] += amounts.amount_micros
    return {k: v for k, v in totals.items() if v}


def live_totals(db: ViewDB, suffix: str = "") -> dict[tuple[str, str, str, int], int]:
    totals: dict[tuple[str, str, str, int], int] = defaultdict(int)
    for account, currency, isrc, day, amount in db.execute(
        f"SELECT account, currency, isrc, day_us, amount_micros FROM earn_account_day{suffix}"
    ):
        totals[(account, currency, isrc, month_bounds(int(day))[0])] += int(amount)
    return {k: v for k, v in totals.items() if v}


def live_money_equation_holds(db: ViewDB, as_of: int) -> None:
    """Σ every account's live earnings (platform, parties, escrow, suspense, the pools' own
    accounts, the co-op fund) = Σ gross ingested + Σ pool contributions, per currency."""
    live = dict(db.execute("SELECT currency, SUM(amount_micros) FROM earn_account_day GROUP BY currency"))
    money: dict[str, int] = defaultdict(int)
    for table in ("usage_rows", "pool_contributions"):
        amount = "gross_micros" if table == "usage_rows" else "amount_micros"
        for currency, total in db.execute(
            f"SELECT currency, SUM({amount}) FROM {table} WHERE position <= ? GROUP BY currency", [as_of]
        ):
            money[str(currency)] += int(total)
    assert {c: int(v) for c, v in live.items() if v} == {c: v for c, v in money.items() if v}


def kept_sums_agree(db: ViewDB) -> None:
    """earn_party_total and earn_party_day equal the per-day rows summed (pool rows included)."""
    by_total = db.execute(
        "SELECT account, currency, isrc, territory, SUM(amount_micros) FROM earn_account_day "
        "GROUP BY 1, 2, 3, 4 HAVING SUM(amount_micros) <> 0"
    )
    assert sorted(by_total) == sorted(
        db.execute("SELECT account, currency, isrc, territory, amount_micros FROM earn_party_total")
    )
    by_day = db.execute(
        "SELECT account, day_us, currency, SUM(amount_micros) FROM earn_account_day "
        "GROUP BY 1, 2, 3 HAVING SUM(amount_micros) <> 0"
    )
    assert sorted(by_day) == sorted(db.execute("SELECT account, day_us, currency, amount_micros FROM earn_party_day"))


def run(config: StoreConfig, steps: list[tuple[Any, ...]], final_batch: int) -> int:
    """Apply `steps`, comparing at every projection and at the end; return the pool money seen."""
    app = RoyaltyLedger(config)
    db = ViewDB(config)
    try:
        seed(app)
        scenario = Scenario(app)
        follower = Projector(app, db)  # keeps its caches from one step to the next
        for s in steps:
            if s[0] == "project":
                follower.batch_size = s[1]
                follower.catch_up()
                as_of = min(follower.positions().values())
                assert live_totals(db) == statement_totals(app, as_of)
                live_money_equation_holds(db, as_of)
            else:
                scenario.apply(s)
        Projector(app, db, batch_size=final_batch).catch_up()
        head = app.head_position()
        live = live_totals(db)
        assert live == statement_totals(app, head)
        live_money_equation_holds(db, head)
        kept_sums_agree(db)
        rebuild(app, ["earnings"], batch_size=final_batch + 3, db=db)
        assert live_totals(db) == live
        kept_sums_agree(db)
        pooled = db.execute("SELECT COUNT(*) FROM earn_account_day WHERE kind LIKE 'pool:%'")
        return int(pooled[0][0])
    finally:
        db.close()
        app.close()


@settings(
    max_examples=int(os.environ.get("POOL_LIVE_EXAMPLES", 12)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(step, min_size=1, max_size=12), st.integers(1, 9))
def test_live_pool_earnings_equal_the_statement_at_every_position(steps, final_batch):
    with tempfile.TemporaryDirectory() as tmp:
        config = StoreConfig.from_url(str(Path(tmp) / "p.db"))
        apply_migrations(config)
        run(config, steps, final_batch)


SCENARIO: list[tuple[Any, ...]] = [
    ("plays", [("s1", R1, 3), ("s1", R2, 3), ("s2", R2, 4), ("x", R1, 5), ("s3", R3, 6)]),
    ("pay", "subs", "s1", 9_990_000, 2, None),
    ("project", 2),
    ("pay", "subs", "s2", 9_990_000, 2, None),
    ("pay", "subs", "s3", 4_990_001, 2, None),
    ("pay", "surplus", None, 100_000_003, 10, None),
    ("pay", "patrons", "s1", 3_000_001, 11, "c"),
    ("pay", "patrons", None, 1_000_001, 11, None),
    ("project", 3),
    ("plays", [("s2", R1, 20), ("s1", R3, 21), ("x", R2, 22)]),
    ("split", R1, 250_000, 15),
    ("project", 1),
    ("members", 300_000, "2026-01"),
    ("plays", [("s1", R2, 40), ("s2", R2, 41)]),
    ("pay", "subs", "s1", 9_990_000, 40, None),
    ("project", 4),
    ("close",),
    ("plays", [("s1", R1, 12)]),  # late usage of the closed month
    ("rule", "subs", 2, "2026-02"),
    ("refund", 0),
    ("project", 5),
    ("pay", "patrons", "s2", 2_000_000, 45, "a"),
    ("rule", "surplus", 1, "2026-01"),
]


def test_a_month_of_three_pools_projected_live_equals_its_statements(store_config):
    """The same comparison on both backends, over a fixed story (a close, late usage, a refund)."""
    assert run(store_config, SCENARIO, 2) > 10


MIGRATION = Path(__file__).resolve().parents[2] / "migrations"


def _refold_statements(backend: str) -> list[str]:
    """Migration 0021's statements after its table: empty the earnings and restart the model."""
    text = (MIGRATION / backend / "0021_earnings_pools.sql").read_text()
    bodies = ["\n".join(x for x in s.splitlines() if not x.strip().startswith("--")).strip() for s in text.split(";")]
    return [b for b in bodies if b.startswith(("DELETE", "UPDATE"))]


@pytest.mark.parametrize("contributed", [True, False])
def test_migration_0021_refolds_the_earnings_of_a_store_with_pool_contributions_only(store_config, contributed):
    app = RoyaltyLedger(store_config)
    db = ViewDB(store_config)
    try:
        seed(app)
        scenario = Scenario(app)
        scenario.apply(("plays", [("s1", R1, 3), ("s2", R2, 4)]))
        if contributed:
            scenario.apply(("pay", "subs", "s1", 9_990_000, 2, None))
        Projector(app, db).catch_up()
        folded = live_totals(db)
        db.execute("DELETE FROM earn_pool_month")  # as the migration created it: empty
        for statement in _refold_statements(store_config.backend):
            db.execute(statement)
        (position,) = db.execute("SELECT position FROM projection_tracking WHERE model = 'earnings'")[0]
        assert (position == 0) is contributed and (live_totals(db) == {}) is contributed
        Projector(app, db).catch_up()
        assert live_totals(db) == folded == statement_totals(app, app.head_position())
        kept_sums_agree(db)
    finally:
        db.close()
        app.close()
