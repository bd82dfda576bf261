"""Pools' money rules (issue 17): nothing created or lost, user-centric stays with the subscriber's
plays, equal shares are equal to a micro-unit, and the store's column-wise step is the model's."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger.domain.period import Period
from ledger.domain.pool import validate_rule
from ledger.pools.rules import PoolInputs, distribute, equal_share, user_centric_reference
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, pg_conninfo
from projections.statements.pools import read_user_centric
from tests.accounting_fixtures import insert_usage_rows

FAST = settings(max_examples=50, deadline=None)
RECORDINGS = [f"QZPOL26{i:05d}" for i in range(6)]
LISTENERS = [f"{i:064x}" for i in range(1, 7)]

payments = st.dictionaries(st.sampled_from(LISTENERS), st.integers(-5_000_000, 50_000_000), max_size=6)
plays = st.dictionaries(
    st.sampled_from(LISTENERS),
    st.dictionaries(st.sampled_from(RECORDINGS), st.integers(0, 9), max_size=6),
    max_size=6,
)


@st.composite
def rules(draw: st.DrawFn) -> dict:
    method = draw(st.sampled_from(["pro-rata", "user-centric", "equal-share", "hybrid"]))
    rule: dict = {"method": method, "fallback": draw(st.sampled_from(["pro-rata", "coop-fund"]))}
    if method == "hybrid":
        a = draw(st.integers(0, 1_000_000))
        b = draw(st.integers(0, 1_000_000 - a))
        rule["weights"] = {"pro-rata": a, "user-centric": b, "equal-share": 1_000_000 - a - b}
    if method in ("equal-share", "hybrid"):
        rule["eligible"] = draw(
            st.lists(st.sampled_from(["p1", "p2", "p3", "co"]), min_size=1, max_size=4, unique=True)
        )
    rule["min_plays"] = draw(st.integers(0, 4))
    rule["floor_micros"] = draw(st.sampled_from([0, 1, 250_000]))
    rule["cap_micros"] = draw(st.sampled_from([0, 3_000_000, 10**12]))
    return validate_rule(rule, "subscription")


@FAST
@given(
    payments,
    plays,
    rules(),
    st.integers(-3_000_000, 20_000_000),
    st.dictionaries(st.sampled_from(["p1", "co"]), st.integers(1, 10**7)),
)
def test_distributed_plus_fallback_and_undistributed_equal_the_pool(paid, played, rule, others, targeted):
    uc, eligible = user_centric_reference(paid, played, rule["weights"], rule["min_plays"])
    untargeted = uc.paid + others
    inputs = PoolInputs("subs", rule, untargeted, targeted, eligible, uc)
    dist = distribute(inputs, {"co": {"p2": 600_000, "p3": 400_000}, "p1": None})
    assert dist.total() == untargeted + sum(targeted.values())


@FAST
@given(payments, plays, rules())
def test_a_subscriber_s_user_centric_money_reaches_only_what_that_subscriber_played(paid, played, rule):
    for s, a in paid.items():
        alone, _ = user_centric_reference({s: a}, played, rule["weights"], rule["min_plays"])
        own = {r for r, n in played.get(s, {}).items() if n > 0}
        assert set(alone.per_recording) <= own
        assert sum(alone.per_recording.values()) + alone.no_plays + alone.pro_rata + alone.equal == max(a, 0)


@FAST
@given(
    st.integers(-(10**12), 10**12),
    st.lists(st.text("abcdefgh", min_size=1, max_size=4), min_size=1, max_size=40, unique=True),
)
def test_an_equal_share_among_n_differs_by_at_most_one_micro_unit(amount, members):
    shares = equal_share(amount, members)
    assert sum(shares.values()) == amount
    assert max(shares.values()) - min(shares.values()) <= 1


_TEMPLATE: dict[str, Path] = {}


def _store(tmp: Path) -> StoreConfig:
    """A fresh migrated SQLite file per example (a copy of one migrated once)."""
    if "db" not in _TEMPLATE:
        template = tmp.parent / "pools-template.db"
        apply_migrations(StoreConfig.from_url(str(template)))
        _TEMPLATE["db"] = template
    target = tmp / "pools.db"
    shutil.copyfile(_TEMPLATE["db"], target)
    return StoreConfig.from_url(str(target))


_HALVES = validate_rule({"method": "hybrid", "weights": {"pro-rata": 500_000, "user-centric": 500_000}}, "subscription")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payments, plays, rules())
# equal remainders of two parts: the leftover micro-unit goes to pro-rata (the tie-break order)
@example({LISTENERS[0]: 3}, {LISTENERS[0]: {RECORDINGS[0]: 1, RECORDINGS[1]: 1}}, _HALVES)
def test_the_store_s_column_wise_step_is_the_reference_model(tmp_path_factory, paid, played, rule):
    _check_store(_store(tmp_path_factory.mktemp("uc")), "subs", paid, played, rule)


_EXAMPLES = iter(range(10**9))


@pytest.mark.postgres
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payments, plays, rules())
@example({LISTENERS[0]: 10_000_001}, {LISTENERS[0]: {RECORDINGS[0]: 3, RECORDINGS[1]: 4}}, _HALVES)
def test_the_store_s_column_wise_step_is_the_reference_model_on_postgresql(pg_config, paid, played, rule):
    """One database for every example: each has its own pool and its own listeners (a prefix)."""
    n = next(_EXAMPLES)
    rename = {s: f"{n:08x}{s[8:]}" for s in LISTENERS}
    paid = {rename[s]: a for s, a in paid.items()}
    played = {rename[s]: recs for s, recs in played.items()}
    _check_store(pg_config, f"subs{n}", paid, played, rule)


def _check_store(config: StoreConfig, pool: str, paid, played, rule) -> None:
    jan = Period(2026, 1)
    start = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
    contributions = [(f"{pool}-c{i}", start + 5, s, a) for i, (s, a) in enumerate(sorted(paid.items()))]
    rows = []
    for s, recs in played.items():
        for r, n in recs.items():
            rows += [
                (
                    1,
                    "b",
                    "t",
                    f"{pool}{s}{r}{k}",
                    0,
                    "stream",
                    start + 9,
                    r,
                    None,
                    s,
                    "DE",
                    60,
                    "EUR",
                    1,
                    "fixed_rate",
                    1,
                    None,
                    True,
                    "x",
                    None,
                )
                for k in range(n)
            ]
    first = next(iter(played), LISTENERS[0])
    rows.append(
        (
            1,
            "b",
            "t",
            f"{pool}-uncounted",
            0,
            "stream",
            start + 9,
            RECORDINGS[0],
            None,
            first,
            "DE",
            10,
            "EUR",
            0,
            "fixed_rate",
            1,
            None,
            False,
            "x",
            None,
        )
    )
    insert = (
        "INSERT INTO pool_contributions (position, batch_id, source, contribution_id, pool_key, kind, "
        "occurred_at_us, funder_hash, target, currency, amount_micros, refund_of, payload_sha256) "
        "VALUES (1, 'b', 's', ?, ?, 'payment', ?, ?, NULL, 'EUR', ?, NULL, 'x')"
    )
    values = [(c, pool, at, s, a) for c, at, s, a in contributions]
    if config.backend == "sqlite":
        conn = sqlite3.connect(config.sqlite_path)
        with conn:
            conn.executemany(insert, values)
        conn.close()
    else:
        with psycopg.connect(pg_conninfo(config)) as pg, pg.cursor() as cur:
            cur.executemany(insert.replace("?", "%s"), values)
    insert_usage_rows(config, rows)
    scoped = {**rule, "plays": "contributors"}
    stored, stored_plays = read_user_centric(config, pool, "EUR", scoped, jan, 1)
    expected, expected_plays = user_centric_reference(paid, played, rule["weights"], rule["min_plays"])
    assert stored_plays == expected_plays
    assert (stored.subscribers, stored.paid, stored.pro_rata, stored.equal, stored.no_plays) == (
        expected.subscribers,
        expected.paid,
        expected.pro_rata,
        expected.equal,
        expected.no_plays,
    )
    assert stored.per_recording == {r: m for r, m in expected.per_recording.items() if m}
