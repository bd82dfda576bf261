"""Largest-remainder allocation never creates or loses a micro-unit."""

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.money import allocate_by_shares, allocate_largest_remainder
from ledger.domain.shares import PPM_WHOLE
from tests.strategies import amounts, ppm_shares, signed_amounts


@given(signed_amounts, ppm_shares())
def test_parts_always_sum_to_the_amount(amount, shares):
    assert sum(allocate_by_shares(amount, shares).values()) == amount


@given(amounts, ppm_shares())
def test_non_negative_amounts_give_non_negative_parts_within_one_unit_of_exact(amount, shares):
    parts = allocate_by_shares(amount, shares)
    for party, ppm in shares.items():
        exact_floor = amount * ppm // PPM_WHOLE
        assert parts[party] >= 0
        assert parts[party] - exact_floor in (0, 1)


@given(signed_amounts, ppm_shares())
def test_allocation_is_deterministic_whatever_the_mapping_order(amount, shares):
    reversed_shares = dict(reversed(list(shares.items())))
    assert allocate_by_shares(amount, shares) == allocate_by_shares(amount, reversed_shares)


@given(st.integers(min_value=0, max_value=10**9))
def test_equal_remainders_go_to_the_first_key_in_tie_break_order(amount):
    parts = allocate_largest_remainder(amount, [("platform", 1), ("master", 1), ("publishing", 1)])
    base = amount // 3
    expected = [base + (1 if i < amount % 3 else 0) for i in range(3)]
    assert [parts["platform"], parts["master"], parts["publishing"]] == expected


def test_a_third_each_is_stated_by_the_version_not_rounded_later():
    parts = allocate_by_shares(100, {"a": 333_334, "b": 333_333, "c": 333_333})
    assert parts == {"a": 34, "b": 33, "c": 33}
