"""A period's imported report income as statement lines, column-wise (issue 20's benchmark).

The same numbers as keying every report group (`reports.report_keys`) and allocating each key
(`allocate_key_parts`, then `compute.add_parts`) — a test checks it — with the per-group work cut
to what cannot be shared: each distinct (source, identifiers) is matched once, each distinct
(recording, usage period start, right, source[, territory]) gets its context once, the groups'
units and amounts are summed into keys and each key's gross is cut by largest remainder with
integer matrix arithmetic per context layout (`batch._lr_rows`). Only the statement lines
themselves are built one by one. Report keys never meet usage keys (their kind is
"RIGHT@SOURCE"), so they are allocated apart from them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

from ledger.domain.money import allocate_largest_remainder
from ledger.domain.period import Period
from ledger.royalties import RightsHistory, period_bounds_us
from ledger.royalties.allocation import (
    NO_MASTER_SPLIT,
    NO_PUBLISHING_SPLIT,
    AllocationContext,
    allocate_key_parts,
    key_plan,
)
from ledger.royalties.timeline import SegmentContext, _blocked_at, _pie_at, _right_at
from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo
from projections.statements.batch import _SAFE, _lr_rows
from projections.statements.compute import LineKey, PeriodResult, _line_meta, merge_line
from projections.statements.reports import (
    _GROUPS,
    _ID_COLUMNS,
    _query,
    identity_at,
    match_line,
    superseded_filter,
    unmatched_context,
    with_withholding,
)

_TEXT = ("source", "right_type", "territory", "target_currency", *_ID_COLUMNS)
_NAMES = ("source", "right_type", "territory", "target_currency", "occurred_at_us", *_ID_COLUMNS)
_SCHEMA = pa.schema(
    [(n, pa.int64() if n == "occurred_at_us" else pa.string()) for n in _NAMES]
    + [("lines", pa.int64()), ("units", pa.int64()), ("amount_micros", pa.int64())]
)
_new_line = tuple.__new__


def report_group_table(config: StoreConfig, start_us: int, end_us: int, as_of: int) -> pa.Table:
    """The period's report groups at `as_of` (reports._GROUPS) as one Arrow table: on PostgreSQL
    the server's CSV of the query, parsed by Arrow, not a Python tuple per group."""
    query = _GROUPS.replace("{superseded}", superseded_filter(config, as_of))
    if config.backend == "sqlite":
        rows = _query(config, query, (as_of, start_us, end_us))
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(_SCHEMA)
        return pa.table([pa.array(list(c), f.type) for c, f in zip(columns, _SCHEMA, strict=True)], schema=_SCHEMA)
    text = query.format(p="{}").format(int(as_of), int(start_us), int(end_us))
    out = io.BytesIO()
    with psycopg.connect(pg_conninfo(config)) as pg, pg.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")
        with cur.copy(f"COPY ({text}) TO STDOUT (FORMAT csv)") as copy:
            for chunk in copy:
                out.write(chunk)
    if not out.tell():
        return _SCHEMA.empty_table()
    return pacsv.read_csv(
        io.BytesIO(out.getvalue()),
        read_options=pacsv.ReadOptions(column_names=_SCHEMA.names, block_size=1 << 24),
        convert_options=pacsv.ConvertOptions(
            column_types=_SCHEMA, strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    )


class _Contexts:
    """Allocation contexts of matched report groups, each computed once and numbered."""

    def __init__(self, history: RightsHistory, as_of: int) -> None:
        self.history, self.as_of = history, as_of
        self.ids: dict[AllocationContext, int] = {}
        self.of: list[AllocationContext] = []
        self._segments: dict[tuple[str, int], SegmentContext] = {}
        self._pies: dict[int, Any] = {}
        self._memo: dict[tuple[Any, ...], int] = {}
        self.unmatched = self.number(unmatched_context())

    def number(self, ctx: AllocationContext) -> int:
        found = self.ids.get(ctx)
        if found is None:
            found = self.ids[ctx] = len(self.of)
            self.of.append(ctx)
        return found

    def segment(self, isrc: str, at_us: int) -> SegmentContext:
        """timeline.context_at, with the pie version looked up once per instant (not per recording)."""
        h, as_of = self.history, self.as_of
        pie = self._pies.get(at_us)
        if pie is None:
            pie = self._pies[at_us] = _pie_at(h, at_us, as_of)
        work = h.work_of(isrc, as_of)
        return SegmentContext(
            pie[0],
            pie[1],
            _right_at(h, "master", isrc, at_us, as_of, NO_MASTER_SPLIT),
            _right_at(h, "publishing", work, at_us, as_of, NO_PUBLISHING_SPLIT),
            _blocked_at(h, isrc, at_us, as_of),
        )

    def of_line(self, isrc: str, at_us: int, right: str, source: str, territory: str) -> int:
        seg = self._segments.get((isrc, at_us))
        if seg is None:
            seg = self._segments[(isrc, at_us)] = self.segment(isrc, at_us)
        # The territory matters only through a takedown or a withholding tax.
        memo = (isrc, at_us, right, source) if not seg.availability and not self.history.withholding else None
        if memo is not None and memo in self._memo:
            return self._memo[memo]
        ctx = with_withholding(seg.for_usage(right, source, territory), self.history, territory, at_us, self.as_of)
        number = self.number(ctx)
        if memo is not None:
            self._memo[memo] = number
        return number


class _Keys:
    """Report keys (currency, recording, kind, territory, context number), numbered, with each
    contribution of a group (or of a release track's share of one) to a key."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str, str, str, int], int] = {}
        self.of: list[tuple[str, str, str, str, int]] = []
        self.extra_key: list[int] = []
        self.extra_units: list[int] = []
        self.extra_micros: list[int] = []

    def number(self, key: tuple[str, str, str, str, int]) -> int:
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.of)
            self.of.append(key)
        return found


def add_report_lines(
    result: PeriodResult, config: StoreConfig, history: RightsHistory, period: Period, as_of: int
) -> None:
    """Add the period's report income at `as_of` to `result` (every account's lines)."""
    start, end = period_bounds_us(period)
    table = report_group_table(config, start, end, as_of)
    if table.num_rows == 0:
        return
    identity = identity_at(config, history, max(history.upto, as_of))
    text = {c: table.column(c).to_pylist() for c in _TEXT}
    ats = table.column("occurred_at_us").to_pylist()
    units = np.asarray(table.column("units"), dtype=np.int64)
    micros = np.asarray(table.column("amount_micros"), dtype=np.int64)
    contexts, keys = _Contexts(history, as_of), _Keys()
    matches: dict[tuple[Any, ...], Any] = {}
    kinds: dict[tuple[str, str], str] = {}
    group_key = np.empty(table.num_rows, dtype=np.int64)
    ids_of = zip(*(text[c] for c in _ID_COLUMNS), strict=True)
    rows = zip(text["source"], text["right_type"], text["territory"], text["target_currency"], ats, ids_of, strict=True)
    for index, (source, right, territory, currency, at_us, ids) in enumerate(rows):
        memo = (source, ids)
        found = matches.get(memo, False)
        if found is False:
            found = matches[memo] = match_line(
                identity, history, source, dict(zip(_ID_COLUMNS, ids, strict=True)), as_of
            )
        kind = kinds.get((right, source))
        if kind is None:
            kind = kinds[(right, source)] = f"{right}@{source}"
        if found is None:
            first = next((f"{k}:{v}" for k, v in zip(_ID_COLUMNS, ids, strict=True) if v), "none")
            group_key[index] = keys.number((currency, first, kind, territory, contexts.unmatched))
        elif len(found) == 1:
            ctx = contexts.of_line(found[0][0], at_us, right, source, territory)
            group_key[index] = keys.number((currency, found[0][0], kind, territory, ctx))
        else:  # a release's line, spread over its tracks (reports.expand_groups)
            group_key[index] = -1
            parts = allocate_largest_remainder(int(micros[index]), [(i, w) for i, (_, w) in enumerate(found)])
            for track, (isrc, _) in enumerate(found):
                ctx = contexts.of_line(isrc, at_us, right, source, territory)
                keys.extra_key.append(keys.number((currency, isrc, kind, territory, ctx)))
                keys.extra_units.append(int(units[index]))
                keys.extra_micros.append(parts[track])
    _allocate_and_add(result, contexts.of, keys, group_key, units, micros)


def _key_sums(keys: _Keys, group_key: np.ndarray, units: np.ndarray, micros: np.ndarray) -> tuple[list[int], list[int]]:
    """Each key's units and gross, exact: int64 sums when no sum can overflow, else Python's."""
    own = group_key >= 0
    index = np.concatenate([group_key[own], np.asarray(keys.extra_key, dtype=np.int64)])
    values = [
        np.concatenate([units[own], np.asarray(keys.extra_units, dtype=np.int64)]),
        np.concatenate([micros[own], np.asarray(keys.extra_micros, dtype=np.int64)]),
    ]
    out = []
    for column in values:
        if len(column) == 0 or int(np.abs(column).max()) * len(column) < 2**62:
            sums = np.zeros(len(keys.of), dtype=np.int64)
            np.add.at(sums, index, column)
            out.append(sums.tolist())
        else:
            exact = [0] * len(keys.of)
            for k, v in zip(index.tolist(), column.tolist(), strict=True):
                exact[k] += v
            out.append(exact)
    return out[0], out[1]


def _allocate_and_add(
    result: PeriodResult,
    ctxs: list[AllocationContext],
    keys: _Keys,
    group_key: np.ndarray,
    units: np.ndarray,
    micros: np.ndarray,
) -> None:
    key_units, key_gross = _key_sums(keys, group_key, units, micros)
    for (currency, *_), u, g in zip(keys.of, key_units, key_gross, strict=True):
        result.gross[currency] = result.gross.get(currency, 0) + g
        result.units[currency] = result.units.get(currency, 0) + u
    plans = [key_plan(ctx) for ctx in ctxs]
    shapes: dict[tuple[Any, ...], list[int]] = {}
    single: list[int] = []
    for k, ((_, _, _, _, cid), gross) in enumerate(zip(keys.of, key_gross, strict=True)):
        plan = plans[cid]
        if plan is None or not -_SAFE < gross < _SAFE:
            single.append(k)
        else:
            shapes.setdefault((plan.pie, len(plan.master.weights), len(plan.publishing.weights)), []).append(k)
    for k in single:
        cid = keys.of[k][4]
        parts, amounts = allocate_key_parts(key_gross[k], ctxs[cid])
        _add_lines(result, keys.of, key_units, key_gross, [k], [amounts], {cid: _line_meta(ctxs[cid], parts)})
    for (pie, _, _), members in shapes.items():
        cids = [keys.of[k][4] for k in members]
        shape_plans = [plans[c] for c in cids]
        amounts_in = np.array([key_gross[k] for k in members], dtype=np.int64)
        size = len(members)
        cut = _lr_rows(amounts_in, np.tile(np.array(pie, dtype=np.int64), (size, 1)), np.full(size, sum(pie)))
        master = _lr_rows(
            cut[:, 1],
            np.array([p.master.weights for p in shape_plans], dtype=np.int64),  # type: ignore[union-attr]
            np.array([p.master.total for p in shape_plans], dtype=np.int64),  # type: ignore[union-attr]
        )
        publishing = _lr_rows(
            cut[:, 2],
            np.array([p.publishing.weights for p in shape_plans], dtype=np.int64),  # type: ignore[union-attr]
            np.array([p.publishing.total for p in shape_plans], dtype=np.int64),  # type: ignore[union-attr]
        )
        rows = np.concatenate([cut[:, :1], master, publishing], axis=1).tolist()
        metas = {c: _line_meta(ctxs[c], plans[c].parts) for c in set(cids)}  # type: ignore[union-attr]
        _add_lines(result, keys.of, key_units, key_gross, members, rows, metas)


def _add_lines(
    result: PeriodResult,
    key_of: list[tuple[str, str, str, str, int]],
    key_units: list[int],
    key_gross: list[int],
    members: Iterable[int],
    amounts: Iterable[list[int]],
    metas: dict[int, Any],
) -> None:
    """compute.add_parts for many keys: one line per account and line key, merged."""
    lines = result.lines
    for k, row in zip(members, amounts, strict=True):
        currency, isrc, kind, territory, cid = key_of[k]
        units, gross = key_units[k], key_gross[k]
        for (account, right, right_ppm, share_ppm, released, version), micros in zip(metas[cid], row, strict=True):
            if not micros:
                continue
            line = _new_line(LineKey, (currency, isrc, kind, territory, right, right_ppm, share_ppm, released))
            merge_line(lines, account, line, units, gross, micros, version)
