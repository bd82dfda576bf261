"""Shares: integer parts per million. One split version's shares sum to exactly 1 000 000."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

PPM_WHOLE = 1_000_000


class InvalidShares(ValueError):
    """Shares that cannot form a split version; the message names the problem."""


def validate_shares(shares: Mapping[str, int]) -> dict[str, int]:
    """Return the shares sorted by party if they are positive integers summing to 10⁶."""
    if not shares:
        raise InvalidShares("a split needs at least one share")
    for party, ppm in shares.items():
        if not isinstance(ppm, int) or isinstance(ppm, bool):
            raise InvalidShares(f"share of {party} must be an integer ppm, got {ppm!r}")
        if ppm <= 0:
            raise InvalidShares(f"share of {party} must be positive, got {ppm}")
    total = sum(shares.values())
    if total != PPM_WHOLE:
        raise InvalidShares(f"shares sum to {total:,} ppm, not 1,000,000 (off by {total - PPM_WHOLE:+,})")
    return dict(sorted(shares.items()))


def percent_to_ppm(text: str) -> int:
    """'33.3334' % -> 333 334 ppm exactly; a percentage finer than 0.0001 % is refused."""
    try:
        value = Decimal(text.strip().rstrip("%"))
    except InvalidOperation:
        raise InvalidShares(f"share {text!r}: not a number") from None
    ppm = value * 10_000
    if ppm != ppm.to_integral_value():
        raise InvalidShares(f"share {text!r}: finer than 0.0001 % (one ppm)")
    return int(ppm)


def format_ppm(ppm: int) -> str:
    """333334 -> '33.3334%' without floats."""
    whole, frac = divmod(ppm, 10_000)
    return f"{whole}.{frac:04d}%".replace(".0000%", "%")
