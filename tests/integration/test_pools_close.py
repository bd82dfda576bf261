"""Pools at a period close, hand-computed (docs/pools.md), on SQLite and PostgreSQL.

Pie (every kind): platform 30 %, master 70 %, publishing 0. R1: master a 100 %; R2: b 100 %.
Pool "subs" (subscription, EUR). January: s1 pays 10.000000 and plays R1 ×3, R2 ×1; s2 pays
10.000000 and plays R2 ×1; s3 pays 5.000000 and plays nothing; a non-subscriber plays R1 ×5.
"""

from __future__ import annotations

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from projections.statements.close import close_period, engine_for, replay_period
from projections.statements.money import verify_money_equation
from tests.pools_helpers import T, insert_plays, listener_secret, payment  # noqa: F401

R1, R2 = "USRC17607839", "GBAYE0601498"
JAN, FEB = Period(2026, 1), Period(2026, 2)
pytestmark = pytest.mark.usefixtures("listener_secret")


@pytest.fixture
def app(store_config):
    ledger = RoyaltyLedger(store_config, clock=lambda: T(2026, 3, 5))
    for key in ("a", "b", "c", "d"):
        ledger.upsert_party(key, key.upper(), ["artist"], "t")
    ledger.upsert_recording(R1, "One", "A", 200_000, "t")
    ledger.upsert_recording(R2, "Two", "B", 200_000, "t")
    ledger.set_rights_pie({"*:*": {"platform": 300_000, "master": 700_000, "publishing": 0}}, T(2020, 1, 1), "p", "t")
    ledger.set_split("master", R1, {"a": 1_000_000}, T(2025, 1, 1), "t", "v1")
    ledger.set_split("master", R2, {"b": 1_000_000}, T(2025, 1, 1), "t", "v1")
    ledger.configure_pool("subs", "Subscriptions", "subscription", "EUR", "t")
    yield ledger
    ledger.close()


def _january(app: RoyaltyLedger, rule: dict) -> None:
    app.set_pool_rule("subs", rule, "2026-01", "test", "t")
    result = app.record_contributions(
        [
            payment("c1", "subs", "s1", "10"),
            payment("c2", "subs", "s2", "10"),
            payment("c3", "subs", "s3", "5"),
        ],
        "csv:test",
        "t",
    )
    assert result.accepted == 3 and result.quarantined == {}
    day = T(2026, 1, 10)
    plays = [("s1", R1, day)] * 3 + [("s1", R2, day), ("s2", R2, day)] + [("x", R1, day)] * 5
    insert_plays(app.config, app.head_position(), plays)


def _amounts(app: RoyaltyLedger, period: Period = JAN) -> dict[str, int]:
    result = engine_for(app, app.config).period_result(period, app.head_position())
    return {a: t["EUR"] for a in result.lines if (t := result.totals(a)).get("EUR")}


def test_user_centric_pays_each_subscriber_s_plays_and_sends_the_silent_one_to_the_fallback(app):
    _january(app, {"method": "user-centric", "fallback": "coop-fund"})
    # s1: R1 7 500 000, R2 2 500 000; s2: R2 10 000 000; s3 → the co-op fund 5 000 000.
    # R1 7.5 M → platform 2 250 000, a 5 250 000; R2 12.5 M → platform 3 750 000, b 8 750 000.
    # The usage itself: 10 plays of 1 µ (R1 8: platform 2, a 6; R2 2: platform 1, b 1).
    amounts = _amounts(app)
    assert amounts == {
        "platform": 2_250_000 + 3_750_000 + 2 + 1,
        "party:a": 5_250_000 + 6,
        "party:b": 8_750_000 + 1,
        "coop-fund": 5_000_000,
    }


def test_pro_rata_counts_the_subscribers_plays_and_the_lines_name_the_rule_version(app):
    _january(app, {"method": "pro-rata"})
    # contributors' plays: R1 3, R2 2 → 25 M: R1 15 M, R2 10 M.
    amounts = _amounts(app)
    assert amounts["party:a"] == 10_500_000 + 6
    assert amounts["party:b"] == 7_000_000 + 1
    result = engine_for(app, app.config).period_result(JAN, app.head_position())
    pool_lines = {
        k.kind: (v.units, v.gross_micros) for k, v in result.lines["party:a"].items() if k.kind.startswith("pool")
    }
    assert pool_lines == {"pool:subs/v1/pro-rata": (3, 15_000_000)}


def test_close_replays_and_the_money_equation_holds_with_the_pool_accounts(app):
    _january(app, {"method": "user-centric", "fallback": "coop-fund"})
    close_period(app, app.config, JAN, "t")
    assert replay_period(app, app.config, JAN).ok
    check = verify_money_equation(app, app.config)
    assert check["ok"], check
    head = next(c for c in check["checks"] if c["at"] == "head")
    assert head["pool_contributions_micros"] == 25_000_000 and head["coop_fund_micros"] == 5_000_000
    # a late refund of s2's payment in February: February's pool takes it back, January is untouched
    app.record_contributions(
        [payment("r2", "subs", None, "4", at="2026-02-02T00:00:00Z", kind="refund", refund_of="c2")], "csv:test", "t"
    )
    assert replay_period(app, app.config, JAN).ok
    assert verify_money_equation(app, app.config)["ok"]
    # s2 has a negative net in February: not a subscriber of the month; it goes where money nobody
    # played goes (the fallback, here the co-op fund)
    assert _amounts(app, FEB) == {"coop-fund": -4_000_000}


def test_a_hybrid_with_floors_caps_an_equal_share_and_patronage_of_a_collective_closes_and_replays(app):
    # c is a collective of a 60 % / d 40 %. A patronage pool: "fans" pays 3.000001 to c directly.
    app.set_collective_members("c", {"a": 600_000, "d": 400_000}, "2026-01", "t")
    app.configure_pool("patrons", "Patronage", "patronage", "EUR", "t")
    app.set_pool_rule("patrons", {"method": "equal-share", "eligible": ["b", "c"]}, "2026-01", "t", "t")
    app.record_contributions(
        [
            payment("f1", "patrons", "fan", "3.000001", target="c"),
            payment("f2", "patrons", None, "1.000001", funder="coop"),
        ],
        "csv:test",
        "t",
    )
    _january(
        app,
        {
            "method": "hybrid",
            "weights": {"pro-rata": 400_000, "user-centric": 500_000, "equal-share": 100_000},
            "eligible": ["c", "d"],
            "floor_micros": 1_000_000,
            "cap_micros": 9_000_000,
            "fallback": "pro-rata",
        },
    )
    amounts = _amounts(app)
    # patronage: c's 3 000 001 → a 1 800 001 (LR .6: remainder .6 beats .4), d 1 200 000;
    # the co-op's 1 000 001 equally to b 500 001 and c 500 000 → a 300 000, d 200 000.
    # subs: 25 M; each subscriber's payment cut 40/50/10 → pro-rata 10 M (4 + 4 + 2), user-centric
    # 12.5 M (s1: R1 3.75 M, R2 1.25 M; s2: R2 5 M; s3: 2.5 M to the fallback, pro-rata), equal 2.5 M
    # (c 1.25 M → a 750 000, d 500 000; d 1.25 M). Pro-rata 12.5 M: floors 1 M each, 10.5 M by
    # plays 3:2 → R1 6.3 M, R2 4.2 M. R1 = 3.75 + 1 + 6.3 = 11.05 M, capped at 9 M (2.05 M to the
    # co-op fund); R2 = 1.25 + 5 + 1 + 4.2 = 11.45 M, capped at 9 M (2.45 M to the co-op fund).
    assert amounts["coop-fund"] == 2_050_000 + 2_450_000
    assert amounts["party:a"] == 1_800_001 + 300_000 + 750_000 + 6_300_000 + 6
    assert amounts["party:b"] == 500_001 + 6_300_000 + 1
    assert amounts["party:d"] == 1_200_000 + 200_000 + 500_000 + 1_250_000
    assert amounts["platform"] == 2_700_000 + 2_700_000 + 3
    close_period(app, app.config, JAN, "t")
    assert replay_period(app, app.config, JAN).ok
    assert verify_money_equation(app, app.config)["ok"]


def test_contributions_that_cannot_be_accepted_are_quarantined_with_their_reason(app):
    app.set_pool_rule("subs", {"method": "pro-rata"}, "2026-01", "t", "t")
    first = app.record_contributions([payment("ok", "subs", "s1", "1")], "csv:test", "t")
    result = app.record_contributions(
        [
            payment("ok", "subs", "s1", "1"),  # the same row again: a counted duplicate
            payment("ok", "subs", "s1", "2"),  # the same id, other content
            payment("x1", "nope", "s1", "1"),
            {**payment("x2", "subs", "s1", "1"), "currency": "USD"},
            payment("x3", "subs", "s1", "abc"),
            payment("x4", "subs", "s1", "1", at="2027-01-01T00:00:00Z"),
            payment("x5", "subs", "s1", "1", target="nobody"),
            payment("x6", "subs", None, "2", kind="refund", refund_of="ok"),
            payment("x7", "subs", None, "1", kind="refund", refund_of="missing"),
        ],
        "csv:test",
        "t",
    )
    assert first.accepted == 1 and result.accepted == 0 and result.duplicates == 1
    assert result.quarantined == {
        "conflict": 1,
        "unknown_pool": 1,
        "currency_mismatch": 1,
        "malformed": 1,
        "future_time": 1,
        "unknown_party": 1,
        "absurd_amount": 1,
        "unknown_payment": 1,
    }
    assert all("s1" not in str(q) for q in result.reasons)  # the raw listener id is never kept


def test_the_comparison_puts_every_rule_side_by_side_with_equal_totals(app):
    from projections.pools_compare import compare_pools

    _january(app, {"method": "user-centric", "fallback": "coop-fund", "eligible": ["a", "b"]})
    engine = engine_for(app, app.config)
    doc = compare_pools(app.config, engine.history, JAN, app.head_position()).as_dict()
    assert doc["rules"] == ["configured", "pro-rata", "user-centric", "equal-share"]
    assert doc["equal_totals"] and doc["totals"] == {"EUR": dict.fromkeys(doc["rules"], 25_000_000)}
    by = {row["account"]: row["micros"] for row in doc["accounts"]}
    assert by["party:a"] == {
        "configured": 5_250_000,
        "pro-rata": 10_500_000,
        "user-centric": 5_250_000,
        "equal-share": 12_500_000,
    }
    assert by["coop-fund"]["user-centric"] == 5_000_000 and by["coop-fund"]["pro-rata"] == 0
    assert doc["pools"][0]["subscribers"] == 3 and doc["pools"][0]["counted_plays"] == 5


def test_audit_verify_recomputes_every_contribution_against_its_batch(app):
    import sqlite3

    from ledger.pools.verify import verify_contributions

    _january(app, {"method": "pro-rata"})
    app.record_contributions([payment("c1", "subs", "s1", "10"), payment("bad", "nope", "s1", "1")], "csv:again", "t")
    report = verify_contributions(app)
    assert report.ok, report.problems
    assert (report.batches, report.rows, report.quarantine_rows) == (2, 4, 1)
    if app.config.backend != "sqlite":
        return
    conn = sqlite3.connect(app.config.sqlite_path)  # tamper: drop the trigger, change an amount
    with conn:
        conn.execute("DROP TRIGGER pool_contributions_no_update")
        conn.execute("UPDATE pool_contributions SET amount_micros = 1 WHERE contribution_id = 'c2'")
    conn.close()
    problems = [text for _, text in verify_contributions(app).problems]
    assert any("c2" in text for text in problems) and any("sum to" in text for text in problems)


def test_an_earlier_month_s_pools_are_computed_once_while_nothing_of_theirs_is_recorded(app):
    """A close computes each earlier month at two positions (adjustments); the pool SQL runs once
    when nothing the month's pools read was recorded in between, and again when something was."""
    _january(app, {"method": "user-centric", "fallback": "coop-fund"})
    close_period(app, app.config, JAN, "t")
    closed = app.head_position()
    app.record_contributions([payment("f1", "subs", "s1", "10", at="2026-02-03T10:00:00Z")], "csv:test", "t")
    insert_plays(app.config, app.head_position(), [("s1", R2, T(2026, 2, 4))], start=100)
    engine = engine_for(app, app.config)
    at_close = engine.pool_periods(JAN, closed)
    assert engine.pool_periods(JAN, app.head_position()) is at_close  # February's money only
    insert_plays(app.config, app.head_position(), [("s2", R1, T(2026, 1, 20))], start=200)  # late January
    engine = engine_for(app, app.config)
    at_close = engine.pool_periods(JAN, closed)
    late = engine.pool_periods(JAN, app.head_position())
    assert late is not at_close and late[0].inputs.plays != at_close[0].inputs.plays
    assert replay_period(app, app.config, JAN).ok
