"""Hypothesis: allocating a key never creates or loses a micro-unit, follows the pie and shares
to within one micro-unit per account, breaks ties in the stated order, and escrows exactly
the claimed share."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.shares import PPM_WHOLE
from ledger.royalties import (
    AllocationContext,
    DisputeClaim,
    RightContext,
    allocate_key,
    allocate_key_detailed,
)
from ledger.royalties.allocation import allocate_key_parts
from projections.statements.batch import allocate_many
from tests.strategies import ppm_shares, signed_amounts


@st.composite
def pies(draw: st.DrawFn) -> tuple[int, int, int]:
    a, b = sorted(draw(st.lists(st.integers(0, PPM_WHOLE), min_size=2, max_size=2)))
    return a, b - a, PPM_WHOLE - b


@st.composite
def rights(draw: st.DrawFn, with_disputes: bool = True) -> RightContext:
    if draw(st.integers(0, 9)) == 0:
        return RightContext(None, suspense_reason=draw(st.sampled_from(["no-work", "no-master-split"])))
    shares = draw(ppm_shares(max_parties=5))
    claims = []
    if with_disputes:
        for n in range(draw(st.integers(0, 2))):
            outcome = draw(st.sampled_from([None, "upheld", "rejected", "partial"]))
            claimed = draw(st.integers(1, PPM_WHOLE))
            awarded = {"upheld": claimed, "rejected": 0, None: 0}.get(outcome, draw(st.integers(0, claimed)))
            claims.append(
                DisputeClaim(
                    f"d{n}",
                    draw(st.sampled_from([*shares, "claimant"])),
                    draw(st.sampled_from([None, *shares])),
                    claimed,
                    outcome,
                    awarded,
                )
            )
    return RightContext(1, tuple(sorted(shares.items())), tuple(claims))


@st.composite
def contexts(draw: st.DrawFn, with_disputes: bool = True) -> AllocationContext:
    return AllocationContext(
        1,
        draw(st.one_of(st.none(), pies())),
        draw(rights(with_disputes)),
        draw(rights(with_disputes)),
        draw(st.sampled_from([None] * 9 + ["rights lapsed"])),
    )


@given(signed_amounts, contexts())
def test_a_key_is_allocated_to_the_last_micro_unit(gross, ctx):
    assert sum(allocate_key(gross, ctx).values()) == gross
    assert sum(allocate_key_detailed(gross, ctx).values()) == gross


@given(st.integers(0, 10**12), contexts(with_disputes=False))
def test_every_account_gets_its_exact_share_within_one_micro_unit_per_cut(gross, ctx):
    if ctx.pie_parts is None or ctx.blocked_reason is not None:
        return
    parts = allocate_key(gross, ctx)
    expected: dict[str, Fraction] = {"platform": Fraction(gross * ctx.pie_parts[0], PPM_WHOLE)}
    for right, pie in (("master", ctx.pie_parts[1]), ("publishing", ctx.pie_parts[2])):
        rc = getattr(ctx, right)
        holders = dict(rc.shares) if rc.suspense_reason is None else {}
        if not holders:
            key = f"suspense:{rc.suspense_reason}"
            expected[key] = expected.get(key, Fraction(0)) + Fraction(gross * pie, PPM_WHOLE)
        for party, ppm in holders.items():
            key = f"party:{party}"
            expected[key] = expected.get(key, Fraction(0)) + Fraction(gross * pie * ppm, PPM_WHOLE**2)
    for account, exact in expected.items():
        assert abs(parts.get(account, 0) - exact) < 3  # two LR cuts (pie, share) per right


@given(st.integers(0, 10**9), st.integers(0, PPM_WHOLE))
def test_pie_ties_go_to_platform_then_master_then_publishing(gross, platform):
    half = (PPM_WHOLE - platform) // 2
    if (PPM_WHOLE - platform) % 2:
        return
    ctx = AllocationContext(
        1, (platform, half, half), RightContext(None, suspense_reason="m"), RightContext(None, suspense_reason="p")
    )
    parts = allocate_key(gross, ctx)
    assert parts.get("suspense:m", 0) >= parts.get("suspense:p", 0)
    assert parts.get("suspense:m", 0) - parts.get("suspense:p", 0) <= 1


def test_one_micro_unit_over_equal_pie_parts_goes_to_platform():
    ctx = AllocationContext(
        1, (500_000, 500_000, 0), RightContext(1, (("a", PPM_WHOLE),)), RightContext(None, suspense_reason="no-work")
    )
    assert allocate_key(1, ctx) == {"platform": 1}


@given(st.integers(0, 10**12), ppm_shares(max_parties=4), st.integers(1, PPM_WHOLE))
def test_an_open_dispute_escrows_exactly_the_claimed_part_of_the_respondent(gross, shares, claimed):
    respondent = sorted(shares)[0]
    take = min(claimed, shares[respondent])
    ctx = AllocationContext(
        1,
        (0, PPM_WHOLE, 0),
        RightContext(1, tuple(sorted(shares.items())), (DisputeClaim("d", "claimant", respondent, claimed),)),
        RightContext(None, suspense_reason="no-work"),
    )
    parts = allocate_key(gross, ctx)
    assert abs(parts.get("escrow:d", 0) - Fraction(gross * take, PPM_WHOLE)) < 1
    for party, ppm in shares.items():
        own = ppm - (take if party == respondent else 0)
        assert abs(parts.get(f"party:{party}", 0) - Fraction(gross * own, PPM_WHOLE)) < 1


@given(
    st.integers(0, 10**12),
    ppm_shares(max_parties=4),
    st.integers(1, PPM_WHOLE),
    st.sampled_from(["upheld", "rejected"]),
)
def test_resolution_releases_the_escrow_to_claimant_or_back_to_the_holders(gross, shares, claimed, outcome):
    base = RightContext(1, tuple(sorted(shares.items())))
    open_ = AllocationContext(
        1,
        (0, PPM_WHOLE, 0),
        RightContext(1, base.shares, (DisputeClaim("d", "claimant", None, claimed),)),
        RightContext(None, suspense_reason="no-work"),
    )
    awarded = claimed if outcome == "upheld" else 0
    resolved = AllocationContext(
        1,
        (0, PPM_WHOLE, 0),
        RightContext(1, base.shares, (DisputeClaim("d", "claimant", None, claimed, outcome, awarded),)),
        RightContext(None, suspense_reason="no-work"),
    )
    before, after = allocate_key(gross, open_), allocate_key(gross, resolved)
    escrowed = before.get("escrow:d", 0)
    assert "escrow:d" not in after
    if outcome == "upheld":
        assert after.get("party:claimant", 0) == escrowed
    else:
        assert "party:claimant" not in after
        gains = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        assert all(g >= 0 for g in gains.values())
        assert sum(gains.values()) == escrowed


@given(signed_amounts, contexts())
def test_the_statement_hot_path_gives_the_same_parts_as_the_detailed_allocation(gross, ctx):
    parts, amounts = allocate_key_parts(gross, ctx)
    merged: dict[tuple[str, str, str], int] = {}
    for part, micros in zip(parts, amounts, strict=True):
        if micros:
            merged[part] = merged.get(part, 0) + micros
    assert merged == allocate_key_detailed(gross, ctx)


@given(
    st.lists(
        st.tuples(st.one_of(signed_amounts, st.integers(-(10**9), 10**9)), contexts()),
        min_size=1,
        max_size=30,
    )
)
def test_the_batched_numpy_allocation_equals_the_per_key_allocation(keys):
    grosses = [g for g, _ in keys]
    ctxs = [c for _, c in keys]
    assert allocate_many(grosses, ctxs) == [allocate_key_parts(g, c) for g, c in keys]
