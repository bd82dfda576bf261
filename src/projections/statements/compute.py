"""f(period, as_of): every account's statement lines for a period as known at a position.

A line is (currency, recording, usage kind, territory, right, pie ppm of the right, the
account's ppm of the right, escrow release source) with units, gross and amount. Lines of one
key add up to the key's gross exactly, because they are the key's largest-remainder parts.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

import pyarrow as pa

from ledger.domain.period import Period
from ledger.royalties import KeyTotals, RightsHistory
from ledger.royalties.allocation import AllocationContext, Part, allocate_key_parts, right_weights
from ledger.royalties.keys import AllocationKey, allocate, refund_key
from ledger.store.config import StoreConfig
from projections.statements.usage import StoreUsage, UsageReader, usage_keys

if TYPE_CHECKING:
    from projections.statements.pools import PoolPeriod

PPM = 1_000_000
_new_line = tuple.__new__


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
    # The split versions (of the line's right) whose keys make up the line, sorted: a line
    # spans two versions when the account's share is the same in both. Shown, never hashed.
    versions: tuple[int, ...] = ()


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
    if right == "withholding":  # the payee's line shows its rate; the holding account's is whole
        return next((ppm for payee, ppm, _ in ctx.withholding if payee == account), PPM), PPM
    if right == "all" or ctx.pie_parts is None:
        return PPM, PPM
    platform, master, publishing = ctx.pie_parts
    if right == "platform":
        return platform, PPM
    pie = master if right == "master" else publishing
    if released:
        return pie, 0
    return pie, right_weights(ctx.master if right == "master" else ctx.publishing).get(account, 0)


def allocation_keys(
    config: StoreConfig,
    history: RightsHistory,
    period: Period,
    as_of: int,
    coarse: Future[pa.Table] | None = None,
    reader: UsageReader | None = None,
) -> dict[AllocationKey, KeyTotals]:
    """The period's usage and refunds as known at `as_of`, summed by allocation key (imported
    report income is keyed and allocated apart: report_columns.add_report_lines).

    Grouped usage comes cut by rights segment (a stretch of time with one context); segments
    whose contexts are equal for a group — e.g. on both sides of another territory's takedown
    — fall into one key here, so only what decides who is paid ever separates two plays.
    """
    reader = reader or StoreUsage(config)
    keys, timelines = usage_keys(config, history, period, as_of, coarse, reader)
    segments = {(isrc, seg.start_us): seg.context for isrc, segs in timelines.items() for seg in segs}
    grouped: dict[AllocationKey, KeyTotals] = {}
    for k, totals in keys.items():
        ctx = segments[(k.isrc, k.segment_start_us)].for_usage(k.kind, k.pricing_model, k.territory)
        _merge(grouped, AllocationKey(k.currency, k.isrc, k.kind, k.territory, ctx), totals.units, totals.gross_micros)
    for g in reader.refunds(period, as_of):
        key = refund_key(
            history,
            as_of,
            currency=g.currency,
            isrc=g.isrc,
            sale_kind=g.sale_kind,
            sale_model=g.sale_model,
            territory=g.territory,
            sale_at_us=g.sale_at_us,
        )
        _merge(grouped, key, g.units, g.gross_micros)
    return grouped


def _merge(grouped: dict[AllocationKey, KeyTotals], key: AllocationKey, units: int, gross: int) -> None:
    found = grouped.get(key)
    if found is None:
        grouped[key] = KeyTotals(units, 0, gross)
    else:
        found.units += units
        found.gross_micros += gross


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """No cyclic garbage collection while a period is computed.

    Computing a month builds millions of small acyclic objects (keys, lines, statement
    dicts) that reference counting frees; the cyclic collector's full passes over them (and
    over whatever else the process holds, e.g. a close's statements during its replay) took
    a third of the time. Cycles are collected when the block ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compute_period(
    config: StoreConfig,
    history: RightsHistory,
    period: Period,
    as_of: int,
    coarse: Future[pa.Table] | None = None,
    reader: UsageReader | None = None,
    pools: Callable[[Period, int], list[PoolPeriod]] | None = None,
) -> PeriodResult:
    """f(period, as_of); `coarse` is the usage pre-sum started before the history was read;
    `reader` where the usage is summed (default: the store); `pools` the period's pool
    distributions as known at as_of (default: computed afresh; StatementEngine memoises them)."""
    with without_cyclic_gc():  # hundreds of thousands of lines: see without_cyclic_gc
        return _compute_period(config, history, period, as_of, coarse, reader, pools)


def _compute_period(
    config: StoreConfig,
    history: RightsHistory,
    period: Period,
    as_of: int,
    coarse: Future[pa.Table] | None,
    reader: UsageReader | None,
    pools: Callable[[Period, int], list[PoolPeriod]] | None,
) -> PeriodResult:
    from projections.statements.usage_columns import add_usage_lines

    result = PeriodResult(period, as_of)
    if not add_usage_lines(result, config, history, period, as_of, coarse, reader):
        reference_usage_lines(result, config, history, period, as_of, coarse, reader)
    # Imported sales reports (issue 20): their kind (RIGHT@SOURCE) keeps their keys and lines
    # apart from usage, so they are keyed and allocated column-wise on their own.
    from projections.statements.report_columns import add_report_lines

    add_report_lines(result, config, history, period, as_of)
    if history.pools.pools:
        # Pool money (docs/pools.md) is revenue of the period too, distributed as known at as_of.
        from projections.statements.pools import add_pool_lines

        add_pool_lines(config, history, result, pools(period, as_of) if pools is not None else None)
    return result


def reference_usage_lines(
    result: PeriodResult,
    config: StoreConfig,
    history: RightsHistory,
    period: Period,
    as_of: int,
    coarse: Future[pa.Table] | None = None,
    reader: UsageReader | None = None,
) -> None:
    """The period's usage and refund lines key by key: the reference for
    usage_columns.add_usage_lines (a property test checks they agree), and the path for a key
    whose gross does not fit int64."""
    usage: list[tuple[AllocationKey, KeyTotals]] = []
    refunds: list[tuple[AllocationKey, KeyTotals]] = []
    for key, totals in allocation_keys(config, history, period, as_of, coarse, reader).items():
        (refunds if key.sale_period_us is not None else usage).append((key, totals))
    for key, totals in usage:
        parts, amounts = allocate_key_parts(totals.gross_micros, key.context)
        add_parts(result, key, totals.units, totals.gross_micros, parts, amounts)
    for key, totals in refunds:
        detailed = allocate(key, totals.gross_micros)
        add_parts(result, key, totals.units, totals.gross_micros, tuple(detailed), list(detailed.values()))


def _version(ctx: AllocationContext, right: str) -> int | None:
    if right == "master":
        return ctx.master.version
    if right == "publishing":
        return ctx.publishing.version
    return None


@lru_cache(maxsize=262_144)
def _line_meta(
    ctx: AllocationContext, parts: tuple[Part, ...]
) -> tuple[tuple[str, str, int, int, str, int | None], ...]:
    return tuple((a, r, *_shares(ctx, r, a, rel), rel, _version(ctx, r)) for a, r, rel in parts)


def add_parts(
    result: PeriodResult,
    key: AllocationKey,
    units: int,
    gross: int,
    parts: tuple[Part, ...],
    amounts: list[int],
) -> None:
    currency, lines, kind = key.currency, result.lines, key.line_kind
    result.gross[currency] = result.gross.get(currency, 0) + gross
    result.units[currency] = result.units.get(currency, 0) + units
    for (account, right, right_ppm, share_ppm, released, version), micros in zip(
        _line_meta(key.context, parts), amounts, strict=True
    ):
        if not micros:
            continue
        # tuple.__new__: half the cost of LineKey(...)'s keyword-aware constructor, same tuple
        line = _new_line(LineKey, (currency, key.isrc, kind, key.territory, right, right_ppm, share_ppm, released))
        merge_line(lines, account, line, units, gross, micros, version)


def merge_line(
    lines: dict[str, dict[LineKey, LineAmounts]],
    account: str,
    line: LineKey,
    units: int,
    gross: int,
    micros: int,
    version: int | None,
) -> None:
    """Add one part to an account's statement line: a new line, or summed into the one there."""
    per_account = lines.get(account)
    if per_account is None:
        per_account = lines[account] = {}
    amounts = per_account.get(line)
    if amounts is None:
        per_account[line] = LineAmounts(units, gross, micros, () if version is None else (version,))
    else:
        amounts.units += units
        amounts.gross_micros += gross
        amounts.amount_micros += micros
        if version is not None and version not in amounts.versions:
            amounts.versions = tuple(sorted((*amounts.versions, version)))
