"""Hypothesis: a payout is the balance floored to whole minor units; the rest stays, under one unit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ledger.accounting import floor_to_minor_unit, minor_unit_micros

CURRENCIES = st.sampled_from(["EUR", "USD", "JPY", "KWD"])


@given(st.integers(0, 10**15), CURRENCIES)
def test_the_floor_is_whole_minor_units_and_the_rest_is_less_than_one(balance, currency):
    paid = floor_to_minor_unit(balance, currency)
    step = minor_unit_micros(currency)
    assert paid % step == 0
    assert 0 <= balance - paid < step


def test_minor_units_follow_iso_4217():
    assert [minor_unit_micros(c) for c in ("EUR", "JPY", "KWD")] == [10_000, 1_000_000, 1_000]
