"""The allocation key — the one grouping that live earnings and statements both allocate by.

DESIGN.md "Money": a key holds everything that decides who is paid — (period, currency,
recording, usage kind, territory, rights-pie rule version, master split version, publishing
split version, open disputes) — the last four as one `AllocationContext`. Time enters a key only
through its context: plays whose contexts are equal share a key wherever they fall in the
period, so a takedown (which is not about who is paid) never splits the keys of the plays it
does not stop; the plays it stops share the one blocked context (all to suspense).

Refunds (DESIGN.md "Refunds reverse the sale they refund"): a refund row names its sale, and is
keyed by the sale's key — the sale's kind, territory and the context in force at the sale's
occurred_at — together with the sale's period, in the period in which the refund occurred. A
refund key's cumulative |gross| is allocated like a sale, then negated, so the refunds of a key
in one period together take back exactly LR of their total: a sale alone in its key and fully
refunded within one period nets to zero for every account, to the micro-unit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple

from ledger.royalties.allocation import AllocationContext, Part, allocate_key_detailed
from ledger.royalties.history import RightsHistory
from ledger.royalties.timeline import context_at

REFUND = "refund"


class AllocationKey(NamedTuple):
    """One key of one period; `sale_period_us` is set for refunds only (the sale's period start)."""

    currency: str
    isrc: str
    kind: str  # the usage kind; for a refund, the kind of the sale it reverses
    territory: str
    context: AllocationContext
    sale_period_us: int | None = None

    @property
    def line_kind(self) -> str:
        """The kind a statement or earnings line shows: "refund" for a refund key."""
        return REFUND if self.sale_period_us is not None else self.kind


@lru_cache(maxsize=4_096)
def month_start_us(at_us: int) -> int:
    """The start (epoch µs) of the calendar month in UTC that contains `at_us`."""
    at = datetime.fromtimestamp(at_us // 1_000_000, tz=UTC)
    return int(datetime(at.year, at.month, 1, tzinfo=UTC).timestamp()) * 1_000_000


def refund_key(
    h: RightsHistory,
    as_of: int,
    *,
    currency: str,
    isrc: str,
    sale_kind: str,
    sale_model: str,
    territory: str,
    sale_at_us: int,
) -> AllocationKey:
    """The key of a refund: the key of the sale it reverses (context at the sale's instant)."""
    ctx = context_at(h, isrc, sale_at_us, as_of).for_usage(sale_kind, sale_model, territory)
    return AllocationKey(currency, isrc, sale_kind, territory, ctx, month_start_us(sale_at_us))


def allocate_refund(gross_micros: int, ctx: AllocationContext) -> dict[Part, int]:
    """Symmetric rounding: allocate |gross| exactly as a sale of that amount would be, then negate."""
    return {part: -micros for part, micros in allocate_key_detailed(abs(gross_micros), ctx).items()}


def allocate(key: AllocationKey, gross_micros: int) -> dict[Part, int]:
    """A key's cumulative gross to (account, right, released_from) parts summing to it exactly."""
    if key.sale_period_us is not None:
        return allocate_refund(gross_micros, key.context)
    return allocate_key_detailed(gross_micros, key.context)


def allocate_accounts(key: AllocationKey, gross_micros: int) -> dict[str, int]:
    """The same allocation, summed per account."""
    totals: dict[str, int] = {}
    for (account, _, _), micros in allocate(key, gross_micros).items():
        totals[account] = totals.get(account, 0) + micros
    return {a: m for a, m in totals.items() if m}
