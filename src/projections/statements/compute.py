"""f(period, as_of): every account's statement lines for a period as known at a position.

A line is (currency, recording, usage kind, territory, right, pie ppm of the right, the
account's ppm of the right, escrow release source) with units, gross and amount. Lines of one
key add up to the key's gross exactly, because they are the key's largest-remainder parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from ledger.domain.period import Period
from ledger.royalties import RightsHistory, UsageKey
from ledger.royalties.allocation import AllocationContext, Part, allocate_key_parts, right_weights
from ledger.store.config import StoreConfig
from projections.statements.batch import allocate_many
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
    segments = {(isrc, seg.start_us): seg.context for isrc, segs in timelines.items() for seg in segs}
    items = list(keys.items())
    contexts = [
        segments[(k.isrc, k.segment_start_us)].for_usage(k.kind, k.pricing_model, k.territory) for k, _ in items
    ]
    allocated = allocate_many([totals.gross_micros for _, totals in items], contexts)
    for (key, totals), ctx, (parts, amounts) in zip(items, contexts, allocated, strict=True):
        add_parts(result, key, totals.units, totals.gross_micros, ctx, parts, amounts)
    return result


@lru_cache(maxsize=262_144)
def _line_meta(ctx: AllocationContext, parts: tuple[Part, ...]) -> tuple[tuple[str, str, int, int, str], ...]:
    return tuple((a, r, *_shares(ctx, r, a, rel), rel) for a, r, rel in parts)


def add_key(result: PeriodResult, key: UsageKey, units: int, gross: int, ctx: AllocationContext) -> None:
    parts, amounts = allocate_key_parts(gross, ctx)
    add_parts(result, key, units, gross, ctx, parts, amounts)


def add_parts(
    result: PeriodResult,
    key: UsageKey,
    units: int,
    gross: int,
    ctx: AllocationContext,
    parts: tuple[Part, ...],
    amounts: list[int],
) -> None:
    currency, lines = key.currency, result.lines
    result.gross[currency] = result.gross.get(currency, 0) + gross
    result.units[currency] = result.units.get(currency, 0) + units
    for (account, right, right_ppm, share_ppm, released), micros in zip(_line_meta(ctx, parts), amounts, strict=True):
        if not micros:
            continue
        line = LineKey(currency, key.isrc, key.kind, key.territory, right, right_ppm, share_ppm, released)
        per_account = lines.get(account)
        if per_account is None:
            per_account = lines[account] = {}
        amounts_ = per_account.get(line)
        if amounts_ is None:
            per_account[line] = LineAmounts(units, gross, micros)
        else:
            amounts_.units += units
            amounts_.gross_micros += gross
            amounts_.amount_micros += micros
