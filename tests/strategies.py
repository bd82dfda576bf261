"""Shared Hypothesis strategies: amounts in micro-units, ppm share vectors, currencies."""

from __future__ import annotations

from hypothesis import strategies as st

from ledger.domain.shares import PPM_WHOLE

amounts = st.integers(min_value=0, max_value=10**15)
signed_amounts = st.integers(min_value=-(10**15), max_value=10**15)
currencies = st.sampled_from(["EUR", "USD", "GBP", "JPY"])


@st.composite
def ppm_shares(draw: st.DrawFn, max_parties: int = 8) -> dict[str, int]:
    """Positive integer shares summing to exactly 1 000 000, keyed by party."""
    n = draw(st.integers(min_value=1, max_value=max_parties))
    cuts = sorted(draw(st.lists(st.integers(1, PPM_WHOLE - 1), min_size=n - 1, max_size=n - 1, unique=True)))
    bounds = [0, *cuts, PPM_WHOLE]
    return {f"party-{i:02d}": bounds[i + 1] - bounds[i] for i in range(n)}
