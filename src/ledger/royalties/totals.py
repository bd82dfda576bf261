"""Per-key and per-account totals for one period as known at one position, from grouped usage.

Grouped usage is usage_rows summed by (recording, segment of the rights timeline, kind,
pricing model, territory, currency); each such group is one allocation key, allocated once on
its cumulative gross — so the result never depends on how usage was batched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ledger.domain.period import Period
from ledger.royalties.allocation import AllocationContext, allocate_key
from ledger.royalties.history import RightsHistory, to_us
from ledger.royalties.timeline import Segment, rights_timelines


class UsageKey(NamedTuple):
    isrc: str
    segment_start_us: int
    kind: str
    pricing_model: str
    territory: str
    currency: str


@dataclass(slots=True)
class KeyTotals:
    units: int = 0
    counted_units: int = 0
    gross_micros: int = 0


def period_bounds_us(period: Period) -> tuple[int, int]:
    return to_us(period.start), to_us(period.end)


def timelines_for(history: RightsHistory, isrcs: Iterable[str], period: Period, as_of: int) -> dict[str, list[Segment]]:
    """The rights timeline of each recording over the period, as known at `as_of`."""
    start, end = period_bounds_us(period)
    return rights_timelines(history, sorted(set(isrcs)), start, end, as_of)


def key_context(key: UsageKey, timelines: Mapping[str, list[Segment]]) -> AllocationContext:
    for segment in timelines[key.isrc]:
        if segment.start_us == key.segment_start_us:
            return segment.context.for_usage(key.kind, key.pricing_model, key.territory)
    raise KeyError(f"{key.isrc}: no rights segment starts at {key.segment_start_us}")


def account_totals(
    keys: Mapping[UsageKey, KeyTotals], timelines: Mapping[str, list[Segment]]
) -> dict[tuple[str, str], int]:
    """(currency, account) → micro-units earned in the period; sums to the period's gross."""
    totals: dict[tuple[str, str], int] = {}
    for key, amounts in keys.items():
        for account, micros in allocate_key(amounts.gross_micros, key_context(key, timelines)).items():
            totals[(key.currency, account)] = totals.get((key.currency, account), 0) + micros
    return totals
