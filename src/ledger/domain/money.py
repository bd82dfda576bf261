"""Money: integer micro-units with an ISO 4217 currency, and largest-remainder allocation.

"Never use floating point in an accounting system." One unit of a currency is 1 000 000
micro-units; cents appear only when money leaves the ledger (payouts, rendered statements).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

MICROS_PER_UNIT = 1_000_000

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount in micro-units of one currency. Arithmetic refuses to mix currencies."""

    currency: str
    amount_micros: int

    def __post_init__(self) -> None:
        if not isinstance(self.amount_micros, int) or isinstance(self.amount_micros, bool):
            raise TypeError(f"amount_micros must be int, got {type(self.amount_micros).__name__}")

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.currency, self.amount_micros + other.amount_micros)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.currency, self.amount_micros - other.amount_micros)

    def __neg__(self) -> Money:
        return Money(self.currency, -self.amount_micros)

    def __str__(self) -> str:
        return f"{format_micros(self.amount_micros)} {self.currency}"


def format_micros(amount_micros: int, decimals: int = 6) -> str:
    """Render micro-units as a decimal string without floats: 1234567 -> '1.234567'."""
    sign = "-" if amount_micros < 0 else ""
    whole, frac = divmod(abs(amount_micros), MICROS_PER_UNIT)
    text = f"{sign}{whole}.{frac:06d}"
    return text[: len(text) - (6 - decimals)] if decimals < 6 else text


# One optional sign, ASCII digits, an optional fraction ("12.34", "-0.000001", ".5", "7.").
_DECIMAL = re.compile(r"(?P<sign>[+-])?(?P<whole>[0-9]*)(?:\.(?P<frac>[0-9]*))?")


def parse_decimal_micros(text: str) -> int:
    """Parse '12.34' or '-0.000001' into micro-units exactly; more than 6 decimals is an error."""
    found = _DECIMAL.fullmatch(text.strip())
    if found is None or not (found["whole"] or found["frac"]):
        raise ValueError(f"amount {text!r}: not a decimal number")
    sign = -1 if found["sign"] == "-" else 1
    whole, frac = found["whole"], found["frac"] or ""
    if len(frac) > 6:
        raise ValueError(f"amount {text!r}: more than 6 decimal places")
    return sign * (int(whole or "0") * MICROS_PER_UNIT + int(frac.ljust(6, "0") or "0"))


def allocate_largest_remainder(amount: int, weights: Sequence[tuple[K, int]]) -> dict[K, int]:
    """Split `amount` by integer weights so the parts sum to exactly `amount`.

    Each key first gets floor(amount·w/W); the leftover units go one each to the largest
    remainders. Equal remainders are broken by the order of `weights`, so callers pass keys
    in their tie-break order (DESIGN.md: account id order; platform, master, publishing for
    the rights pie). Works for negative amounts too (a claw-back): floors still leave a
    non-negative leftover, so the parts still sum to `amount`.
    """
    total = sum(w for _, w in weights)
    if total <= 0 or any(w < 0 for _, w in weights):
        raise ValueError("weights must be non-negative with a positive total")
    parts: dict[K, int] = {}
    remainders: list[tuple[int, int, K]] = []
    for index, (key, weight) in enumerate(weights):
        if key in parts:
            raise ValueError(f"duplicate allocation key {key!r}")
        quotient, remainder = divmod(amount * weight, total)
        parts[key] = quotient
        remainders.append((-remainder, index, key))
    leftover = amount - sum(parts.values())
    for _, _, key in sorted(remainders)[:leftover]:
        parts[key] += 1
    return parts


def allocate_by_shares(amount: int, shares: Mapping[K, int]) -> dict[K, int]:
    """Largest-remainder over a share mapping, ties going to the key that sorts first."""
    ordered = sorted(shares.items(), key=lambda item: str(item[0]))
    return allocate_largest_remainder(amount, ordered)
