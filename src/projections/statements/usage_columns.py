"""A period's usage and refunds as statement lines, column-wise (issue 18's close benchmark).

The same lines as keying every pre-summed group one by one (`compute.allocation_keys`),
allocating each key (`batch.allocate_many`, `keys.allocate`) and merging its parts one by one
(`compute.add_parts`) — `compute.reference_usage_lines` keeps that path and a property test
checks the two agree — with the per-group work cut to what cannot be shared: each group finds
its rights segment by a sorted merge (NumPy), each distinct (segment, kind, pricing model[,
territory where a takedown can matter]) gets its context once, the groups are summed into keys
by number, every key is cut by largest remainder with integer matrix arithmetic per context
layout (`batch.layout_rows`: floors, remainders, leftover units; never floats), and the parts stay
columns (`part_lines.PartLines`) until a statement reads them.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ledger.domain.period import Period
from ledger.royalties import KeyTotals, RightsHistory, timelines_for
from ledger.royalties.allocation import AllocationContext, allocate_key_parts, key_plan_once
from ledger.royalties.keys import AllocationKey, allocate, refund_key
from ledger.royalties.timeline import SegmentContext
from ledger.store.config import StoreConfig
from projections.statements.batch import _SAFE, layout_rows, number_layouts
from projections.statements.column_codes import combined, lexsort_packed, numbered
from projections.statements.part_lines import KeyPrefixes, PartLines
from projections.statements.usage import StoreUsage, UsageReader

_INT64 = 2**63


def sorted_codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[Any]]:
    """(a code per row, the distinct values sorted): codes compare as the values do."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column)
    values = encoded.dictionary.to_pylist()
    order = sorted(range(len(values)), key=values.__getitem__)
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values), dtype=np.int64)
    indices = np.asarray(encoded.indices, dtype=np.int64)
    return rank[indices] if len(values) else indices, [values[i] for i in order]


class UsageKeys:
    """A period's usage keys in columns: each key's (currency, recording, kind, territory) as a
    prefix number, its context number, units and gross; contexts numbered as first found."""

    def __init__(self) -> None:
        self.contexts: list[AllocationContext] = []
        self.context_ids: dict[AllocationContext, int] = {}
        self.prefixes = KeyPrefixes()
        self.key_prefix = np.zeros(0, dtype=np.int64)
        self.key_cid = np.zeros(0, dtype=np.int64)
        self.key_units: np.ndarray | list[int] = np.zeros(0, dtype=np.int64)
        self.key_gross: np.ndarray | list[int] = np.zeros(0, dtype=np.int64)

    def number(self, ctx: AllocationContext) -> int:
        found = self.context_ids.get(ctx)
        if found is None:
            found = self.context_ids[ctx] = len(self.contexts)
            self.contexts.append(ctx)
        return found


def _segment_of_rows(
    row_isrc: np.ndarray, row_at: np.ndarray, seg_isrc: np.ndarray, seg_start: np.ndarray, first_seg: np.ndarray
) -> np.ndarray:
    """Each row's segment: the last of its recording's segments starting at or before its instant
    (the first one if none does, as usage._group_small) — one sorted merge, not a search per row."""
    if len(seg_isrc) == len(first_seg) - 1:  # one segment per recording
        only: np.ndarray = first_seg[row_isrc]
        return only
    segments, rows = len(seg_isrc), len(row_isrc)
    isrc = np.concatenate([seg_isrc, row_isrc])
    at = np.concatenate([seg_start, row_at])
    is_row = np.concatenate([np.zeros(segments, dtype=np.int8), np.ones(rows, dtype=np.int8)])
    order = np.lexsort((is_row, at, isrc))  # a segment before the rows at its start instant
    position = np.where(order < segments, np.arange(len(order)), 0)
    last = order[np.maximum.accumulate(position)]  # the last segment at or before, in sorted order
    out = np.empty(rows, dtype=np.int64)
    row_positions = order >= segments
    found = last[row_positions]
    mine = order[row_positions] - segments
    own = (found < segments) & (seg_isrc[np.minimum(found, segments - 1)] == row_isrc[mine])
    out[mine] = np.where(own, found, first_seg[row_isrc[mine]])
    return out


def usage_key_columns(
    config: StoreConfig,
    history: RightsHistory,
    period: Period,
    as_of: int,
    coarse: Future[pa.Table] | None,
    reader: UsageReader | None,
) -> UsageKeys:
    """The period's usage keys as known at `as_of`: groups cut by rights segment and summed by
    (currency, recording, kind, territory, context) — compute.allocation_keys, column-wise."""
    groups = (reader or StoreUsage(config)).groups(history, period, as_of, coarse)
    out = UsageKeys()
    if groups.num_rows == 0:
        return out
    isrc_column = groups.column("isrc").combine_chunks()
    isrcs = sorted(pc.unique(isrc_column).to_pylist())
    timelines = timelines_for(history, isrcs, period, as_of)
    row_isrc = np.asarray(pc.index_in(isrc_column, value_set=pa.array(isrcs, pa.string())), dtype=np.int64)
    seg_isrc_list: list[int] = []
    seg_start_list: list[int] = []
    seg_ctx: list[SegmentContext] = []
    first_seg = np.zeros(len(isrcs) + 1, dtype=np.int64)
    for code, isrc in enumerate(isrcs):
        first_seg[code] = len(seg_ctx)
        for segment in timelines[isrc]:
            seg_isrc_list.append(code)
            seg_start_list.append(segment.start_us)
            seg_ctx.append(segment.context)
    first_seg[len(isrcs)] = len(seg_ctx)
    seg = _segment_of_rows(
        row_isrc,
        np.asarray(groups.column("at_us"), dtype=np.int64),
        np.array(seg_isrc_list, dtype=np.int64),
        np.array(seg_start_list, dtype=np.int64),
        first_seg,
    )
    kind, kinds = sorted_codes(groups.column("kind"))
    model, models = sorted_codes(groups.column("pricing_model"))
    territory, territories = sorted_codes(groups.column("territory"))
    currency, currencies = sorted_codes(groups.column("currency"))
    # The order the per-key path meets them in: by recording, segment, kind, model, territory, currency.
    order = lexsort_packed((currency, territory, model, kind, seg))
    seg, kind, model, territory, currency = seg[order], kind[order], model[order], territory[order], currency[order]
    row_isrc = row_isrc[order]
    units = np.asarray(groups.column("units"), dtype=np.int64)[order]
    gross = np.asarray(groups.column("gross_micros"), dtype=np.int64)[order]
    # A segment's territory matters only through a takedown (SegmentContext.for_usage).
    territorial = np.array([bool(c.availability) for c in seg_ctx], dtype=bool)
    combo_first, combo_of = numbered(combined([seg, kind, model, np.where(territorial[seg], territory + 1, 0)]))
    combo_cid = np.fromiter(
        (
            out.number(seg_ctx[s].for_usage(kinds[k], models[m], territories[t]))
            for s, k, m, t in zip(
                seg[combo_first].tolist(),
                kind[combo_first].tolist(),
                model[combo_first].tolist(),
                territory[combo_first].tolist(),
                strict=True,
            )
        ),
        dtype=np.int64,
        count=len(combo_first),
    )
    cid = combo_cid[combo_of]
    key_first, key_of = numbered(combined([currency, row_isrc, kind, territory, cid]))
    out.key_cid = cid[key_first]
    out.key_units = _sums(key_of, units, len(key_first))
    out.key_gross = _sums(key_of, gross, len(key_first))
    prefix_first, out.key_prefix = numbered(
        combined([currency[key_first], row_isrc[key_first], kind[key_first], territory[key_first]])
    )
    rows = key_first[prefix_first]
    out.prefixes.extend(
        (currency[rows], currencies), (row_isrc[rows], isrcs), (kind[rows], kinds), (territory[rows], territories)
    )
    return out


def _sums(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray | list[int]:
    """Each number's sum, exact: int64 when no sum can overflow, else Python's integers."""
    if not len(values) or int(np.abs(values).max()) * len(values) < _INT64:
        sums = np.zeros(size, dtype=np.int64)
        np.add.at(sums, index, values)
        return sums
    exact = [0] * size
    for k, v in zip(index.tolist(), values.tolist(), strict=True):
        exact[k] += v
    return exact


def refund_keys(
    config: StoreConfig, history: RightsHistory, period: Period, as_of: int, reader: UsageReader | None
) -> dict[AllocationKey, KeyTotals]:
    """The period's refunds by the key of the sale each reverses (few: one by one)."""
    grouped: dict[AllocationKey, KeyTotals] = {}
    for g in (reader or StoreUsage(config)).refunds(period, as_of):
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
        found = grouped.get(key)
        if found is None:
            grouped[key] = KeyTotals(g.units, 0, g.gross_micros)
        else:
            found.units += g.units
            found.gross_micros += g.gross_micros
    return grouped


def allocate_key_columns(parts: PartLines, contexts: list[AllocationContext], key_cid: np.ndarray, gross: Any) -> None:
    """Every key's largest-remainder parts into `parts`: keys cut together by context layout
    (pie, number of master and publishing accounts); a key whose context has no fixed layout
    (takedown, no pie, escrow release), or too large for int64 products, one by one."""
    plans = [key_plan_once(ctx) for ctx in contexts]  # each context is used once
    layouts, layout_of = number_layouts(plans)
    if isinstance(gross, np.ndarray):
        safe = (gross > -_SAFE) & (gross < _SAFE)
        amounts = np.where(safe, gross, 0)
    else:
        safe = np.fromiter((-_SAFE < g < _SAFE for g in gross), dtype=bool, count=len(gross))
        amounts = np.array([g if ok else 0 for g, ok in zip(gross, safe.tolist(), strict=True)], dtype=np.int64)
    key_layout = np.where(safe, layout_of[key_cid], -1) if len(key_cid) else key_cid
    for k in np.flatnonzero(key_layout < 0).tolist():
        ctx = contexts[int(key_cid[k])]
        key_parts, micros = allocate_key_parts(int(gross[k]), ctx)
        metas = np.array(parts.meta_row(ctx, key_parts), dtype=np.int64)
        parts.add(np.full(len(micros), k, dtype=np.int64), metas, np.array(micros, dtype=np.int64))
    for layout, (pie, _, _) in enumerate(layouts):
        members = np.flatnonzero(key_layout == layout)
        if members.size:
            _cut_layout(parts, contexts, plans, members, key_cid, amounts[members], pie)


def _cut_layout(
    parts: PartLines,
    contexts: list[AllocationContext],
    plans: list[Any],
    members: np.ndarray,
    key_cid: np.ndarray,
    gross: np.ndarray,
    pie: tuple[int, int, int],
) -> None:
    cids, at = np.unique(key_cid[members], return_inverse=True)
    at = at.reshape(-1)
    shape_plans = [plans[c] for c in cids.tolist()]
    rows = layout_rows(gross, pie, shape_plans, at)
    metas = np.array(
        [parts.plan_row(contexts[c], p) for c, p in zip(cids.tolist(), shape_plans, strict=True)],
        dtype=np.int64,
    )[at]
    parts.add(np.repeat(members, rows.shape[1]), metas.ravel(), rows.ravel())


def add_usage_lines(
    result: Any,
    config: StoreConfig,
    history: RightsHistory,
    period: Period,
    as_of: int,
    coarse: Future[pa.Table] | None,
    reader: UsageReader | None,
) -> bool:
    """Add the period's usage and refund lines at `as_of` to `result` (compute.PeriodResult);
    False (nothing added) when a key's gross does not fit int64 — the per-key path then runs."""
    keys = usage_key_columns(config, history, period, as_of, coarse, reader)
    refunds = refund_keys(config, history, period, as_of, reader)
    if not isinstance(keys.key_gross, np.ndarray) or any(abs(t.gross_micros) >= _INT64 for t in refunds.values()):
        return False
    parts = PartLines()
    allocate_key_columns(parts, keys.contexts, keys.key_cid, keys.key_gross)
    first_refund = len(keys.key_cid)
    # Refund lines show the kind "refund" (usage groups never have it): their prefixes are new.
    refund_prefixes: dict[tuple[str, str, str, str], int] = {}
    refund_prefix = []
    for n, (key, totals) in enumerate(refunds.items()):
        detailed = allocate(key, totals.gross_micros)
        prefix = (key.currency, key.isrc, key.line_kind, key.territory)
        refund_prefix.append(keys.prefixes.size + refund_prefixes.setdefault(prefix, len(refund_prefixes)))
        parts.add(
            np.full(len(detailed), first_refund + n, dtype=np.int64),
            np.array(parts.meta_row(key.context, tuple(detailed)), dtype=np.int64),
            np.array(list(detailed.values()), dtype=np.int64),
        )
    keys.prefixes.append(list(refund_prefixes))
    key_prefix = np.concatenate([keys.key_prefix, np.array(refund_prefix, dtype=np.int64)])
    key_units = np.concatenate([keys.key_units, np.array([t.units for t in refunds.values()], dtype=np.int64)])
    key_gross = np.concatenate([keys.key_gross, np.array([t.gross_micros for t in refunds.values()], dtype=np.int64)])
    _add_totals(result, keys.prefixes, key_prefix, key_units, key_gross)
    parts.add_columns(result, keys.prefixes, key_prefix, key_units, key_gross)
    return True


def _add_totals(
    result: Any, prefixes: KeyPrefixes, key_prefix: np.ndarray, key_units: np.ndarray, key_gross: np.ndarray
) -> None:
    """The period's units and gross per currency (compute.add_parts adds them key by key)."""
    if not len(key_prefix):
        return
    key_currency = prefixes.codes(0)[key_prefix]
    present, first = np.unique(key_currency, return_index=True)
    for code in present[np.argsort(first)].tolist():
        mine = key_currency == code
        currency = prefixes.values[0][code]
        result.gross[currency] = result.gross.get(currency, 0) + sum(key_gross[mine].tolist())
        result.units[currency] = result.units.get(currency, 0) + sum(key_units[mine].tolist())
