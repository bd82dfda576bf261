"""f(period, as_of): every account's statement lines for a period as known at a position.

A line is (currency, recording, usage kind, territory, right, pie ppm of the right, the
account's ppm of the right, escrow release source) with units, gross and amount. Lines of one
key add up to the key's gross exactly, because they are the key's largest-remainder parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from ledger.domain.period import Period
from ledger.royalties import RightsHistory, UsageKey, allocate_key_detailed, key_context
from ledger.royalties.allocation import AllocationContext, right_weights
from ledger.store.config import StoreConfig
from projections.statements.usage import usage_keys

PPM = 1_000_000


class LineKey(NamedTuple):
    currency: str
    isrc: str
    kind: str
    territory: str
    right: str
    right_ppm: int
    share_ppm: int
    released_from: str  # dispute id for an escrow release, else ""


@dataclass(slots=True)
class LineAmounts:
    units: int = 0
    gross_micros: int = 0
    amount_micros: int = 0


@dataclass
class PeriodResult:
    period: Period
    as_of: int
    gross: dict[str, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    lines: dict[str, dict[LineKey, LineAmounts]] = field(default_factory=dict)

    def totals(self, account: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for key, amounts in self.lines.get(account, {}).items():
            out[key.currency] = out.get(key.currency, 0) + amounts.amount_micros
        return out


def _shares(ctx: AllocationContext, right: str, account: str, released: str) -> tuple[int, int]:
    if right == "all" or ctx.pie_parts is None:
        return PPM, PPM
    platform, master, publishing = ctx.pie_parts
    if right == "platform":
        return platform, PPM
    pie = master if right == "master" else publishing
    if released:
        return pie, 0
    return pie, right_weights(ctx.master if right == "master" else ctx.publishing).get(account, 0)


def compute_period(config: StoreConfig, history: RightsHistory, period: Period, as_of: int) -> PeriodResult:
    keys, timelines = usage_keys(config, history, period, as_of)
    result = PeriodResult(period, as_of)
    for key, totals in keys.items():
        add_key(result, key, totals.units, totals.gross_micros, key_context(key, timelines))
    return result


def add_key(result: PeriodResult, key: UsageKey, units: int, gross: int, ctx: AllocationContext) -> None:
    result.gross[key.currency] = result.gross.get(key.currency, 0) + gross
    result.units[key.currency] = result.units.get(key.currency, 0) + units
    for (account, right, released), micros in allocate_key_detailed(gross, ctx).items():
        right_ppm, share_ppm = _shares(ctx, right, account, released)
        line = LineKey(key.currency, key.isrc, key.kind, key.territory, right, right_ppm, share_ppm, released)
        amounts = result.lines.setdefault(account, {}).setdefault(line, LineAmounts())
        amounts.units += units
        amounts.gross_micros += gross
        amounts.amount_micros += micros
