"""A period's imported report income as statement lines, column-wise (issue 20's benchmark).

The same numbers as keying every report group (`reports.report_keys`) and allocating each key
(`allocate_key_parts`, then `compute.add_parts`) — a test checks it — with the per-group work cut
to what cannot be shared: each distinct (source, identifiers) is matched once, each distinct
(recording, usage period start, right, source[, territory]) gets its context once, the groups'
units and amounts are summed into keys and each key's gross is cut by largest remainder with
integer matrix arithmetic per context layout (`batch.layout_rows`). Only the statement lines
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
from projections.statements.batch import _SAFE, layout_rows, number_layouts
from projections.statements.column_codes import codes, combined, numbered
from projections.statements.compute import LineKey, PeriodResult, _line_meta, merge_line
from projections.statements.part_lines import PartLines
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
            column_types=_SCHEMA,
            # The server writes NULL as an unquoted empty cell and quotes text only when it must:
            # "NA" (Namibia) or an id "NULL" arrive bare, and are text, not pyarrow's null markers.
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
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

    def _segment_of(self, isrc: str, at_us: int) -> SegmentContext:
        seg = self._segments.get((isrc, at_us))
        if seg is None:
            seg = self._segments[(isrc, at_us)] = self.segment(isrc, at_us)
        return seg

    def territorial(self, isrc: str, at_us: int) -> bool:
        """Whether a line's territory can change its context: a takedown or a withholding tax."""
        return bool(self._segment_of(isrc, at_us).availability or self.history.withholding)

    def of_line(self, isrc: str, at_us: int, right: str, source: str, territory: str) -> int:
        seg = self._segment_of(isrc, at_us)
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
    groups = _Groups(table)
    identity = identity_at(config, history, max(history.upto, as_of))
    # Each distinct (source, identifiers) is matched once.
    match_first, groups.match_of = numbered(combined([groups.codes[c] for c in ("source", *_ID_COLUMNS)]))
    ids = list(zip(*(groups.values(c, match_first) for c in _ID_COLUMNS), strict=True))
    found = [
        match_line(identity, history, source, dict(zip(_ID_COLUMNS, i, strict=True)), as_of)
        for source, i in zip(groups.values("source", match_first), ids, strict=True)
    ]
    how = np.array([0 if f is None else 1 if len(f) == 1 else 2 for f in found], dtype=np.int8)[groups.match_of]
    contexts, keys = _Contexts(history, as_of), _Keys()
    ctx = _line_contexts(groups, found, np.flatnonzero(how == 1), contexts)
    # An unmatched line's key names its first identifier (reports.report_keys).
    key_isrc = [_key_isrc(f, i) for f, i in zip(found, ids, strict=True)]
    group_key = _whole_keys(groups, np.flatnonzero(how < 2), key_isrc, ctx, keys)
    for row in np.flatnonzero(how == 2).tolist():  # a release's lines, spread over its tracks
        _spread(groups, row, found[groups.match_of[row]], contexts, keys)
    _allocate_and_add(result, contexts.of, keys, group_key, groups.units, groups.micros)


def _key_isrc(found: list[tuple[str, int]] | None, ids: tuple[str | None, ...]) -> str:
    """A key's recording: the one matched, or for an unmatched line its first identifier."""
    if found is not None and len(found) == 1:
        return found[0][0]
    return next((f"{k}:{v}" for k, v in zip(_ID_COLUMNS, ids, strict=True) if v), "none")


class _Groups:
    """The period's report groups as columns, each text column also as a number per distinct value."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.codes = {c: codes(table.column(c)) for c in _TEXT}
        self.ats = np.asarray(table.column("occurred_at_us"), dtype=np.int64)
        self.units = np.asarray(table.column("units"), dtype=np.int64)
        self.micros = np.asarray(table.column("amount_micros"), dtype=np.int64)
        self.kind_first, self.kind_of = numbered(combined([self.codes["right_type"], self.codes["source"]]))
        self.match_of = np.zeros(table.num_rows, dtype=np.int64)

    def values(self, column: str, rows: np.ndarray) -> list[Any]:
        values: list[Any] = self.table.column(column).take(pa.array(rows)).to_pylist()
        return values

    def row(self, row: int, columns: tuple[str, ...]) -> list[Any]:
        return [self.table.column(c)[row].as_py() for c in columns]


def _line_contexts(groups: _Groups, found: list[Any], single: np.ndarray, contexts: _Contexts) -> np.ndarray:
    """Each row's context number (matched to one recording; others: unmatched). Each distinct
    (recording, usage period start, right, source) gets its context once — per territory only
    where a takedown or a withholding tax can make the territory matter."""
    ctx = np.full(groups.table.num_rows, contexts.unmatched, dtype=np.int64)
    if not single.size:
        return ctx
    at_code = np.unique(groups.ats, return_inverse=True)[1].astype(np.int64).reshape(-1)
    combo_first, combo_of = numbered(combined([groups.match_of[single], at_code[single], groups.kind_of[single]]))
    rows = single[combo_first]
    territorial, combo_ctx = [], np.empty(len(rows), dtype=np.int64)
    columns = [groups.match_of[rows].tolist(), groups.ats[rows].tolist()]
    columns += [groups.values(c, rows) for c in ("right_type", "source", "territory")]
    for i, (m, at_us, right, source, territory) in enumerate(zip(*columns, strict=True)):
        if contexts.territorial(found[m][0][0], at_us):
            territorial.append(i)
        else:
            combo_ctx[i] = contexts.of_line(found[m][0][0], at_us, right, source, territory)
    ctx[single] = combo_ctx[combo_of]
    for row in single[np.isin(combo_of, territorial)].tolist():
        right, source, territory = groups.row(row, ("right_type", "source", "territory"))
        isrc = found[groups.match_of[row]][0][0]
        ctx[row] = contexts.of_line(isrc, int(groups.ats[row]), right, source, territory)
    return ctx


def _whole_keys(groups: _Groups, whole: np.ndarray, key_isrc: list[str], ctx: np.ndarray, keys: _Keys) -> np.ndarray:
    """Number the keys (currency, recording, kind, territory, context) of the rows not spread
    over a release's tracks, as they first appear; each row's key number (-1: spread)."""
    group_key = np.full(groups.table.num_rows, -1, dtype=np.int64)
    if not whole.size:
        return group_key
    isrc_codes: dict[str, int] = {}
    isrc_of = np.array([isrc_codes.setdefault(i, len(isrc_codes)) for i in key_isrc], dtype=np.int64)
    c = groups.codes
    columns = [c["target_currency"], isrc_of[groups.match_of], groups.kind_of, c["territory"], ctx]
    key_first, group_key[whole] = numbered(combined([column[whole] for column in columns]))
    rows = whole[key_first]
    rights, sources = (groups.values(x, groups.kind_first) for x in ("right_type", "source"))
    kinds = [f"{r}@{s}" for r, s in zip(rights, sources, strict=True)]
    keys.of = list(
        zip(
            groups.values("target_currency", rows),
            [key_isrc[m] for m in groups.match_of[rows].tolist()],
            [kinds[k] for k in groups.kind_of[rows].tolist()],
            groups.values("territory", rows),
            ctx[rows].tolist(),
            strict=True,
        )
    )
    keys.ids = {k: i for i, k in enumerate(keys.of)}
    return group_key


def _spread(groups: _Groups, row: int, tracks: list[tuple[str, int]], contexts: _Contexts, keys: _Keys) -> None:
    """A release's line over its tracks by largest remainder (reports.expand_groups)."""
    source, right, territory, currency = groups.row(row, _TEXT[:4])
    at_us = int(groups.ats[row])
    parts = allocate_largest_remainder(int(groups.micros[row]), [(i, w) for i, (_, w) in enumerate(tracks)])
    for track, (isrc, _) in enumerate(tracks):
        number = contexts.of_line(isrc, at_us, right, source, territory)
        keys.extra_key.append(keys.number((currency, isrc, f"{right}@{source}", territory, number)))
        keys.extra_units.append(int(groups.units[row]))
        keys.extra_micros.append(parts[track])


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
    # Keys are cut together by context layout (pie, number of master and publishing accounts);
    # a key whose context has no fixed layout, or too large for int64 products, one by one.
    layouts, layout_of = number_layouts(plans)
    key_cid = np.fromiter((k[4] for k in keys.of), dtype=np.int64, count=len(keys.of))
    safe = np.fromiter((-_SAFE < g < _SAFE for g in key_gross), dtype=bool, count=len(key_gross))
    key_layout = np.where(safe, layout_of[key_cid], -1)
    for k in np.flatnonzero(key_layout < 0).tolist():
        cid = keys.of[k][4]
        parts, amounts = allocate_key_parts(key_gross[k], ctxs[cid])
        _add_lines(result, keys.of, key_units, key_gross, [k], [amounts], {cid: _line_meta(ctxs[cid], parts)})
    gross = np.array([g if ok else 0 for g, ok in zip(key_gross, safe.tolist(), strict=True)], dtype=np.int64)
    cut_parts = PartLines()
    for layout, (pie, _, _) in enumerate(layouts):
        members = np.flatnonzero(key_layout == layout)
        if not members.size:
            continue
        cids, at = np.unique(key_cid[members], return_inverse=True)
        shape_plans: list[Any] = [plans[c] for c in cids.tolist()]
        rows = layout_rows(gross[members], pie, shape_plans, at)
        metas = np.array(
            [cut_parts.meta_row(ctxs[c], p.parts) for c, p in zip(cids.tolist(), shape_plans, strict=True)],
            dtype=np.int64,
        )[at]
        cut_parts.add(np.repeat(members, rows.shape[1]), metas.ravel(), rows.ravel())
    cut_parts.add_lines(result, keys.of, key_units, key_gross)


def _add_lines(
    result: PeriodResult,
    key_of: list[tuple[str, str, str, str, int]],
    key_units: list[int],
    key_gross: list[int],
    members: Iterable[int],
    amounts: Iterable[list[int]],
    metas: dict[int, Any],
) -> None:
    """compute.add_parts for keys allocated one by one: one line per account and line key, merged."""
    lines = result.lines
    for k, row in zip(members, amounts, strict=True):
        currency, isrc, kind, territory, cid = key_of[k]
        units, gross = key_units[k], key_gross[k]
        for (account, right, right_ppm, share_ppm, released, version), micros in zip(metas[cid], row, strict=True):
            if not micros:
                continue
            line = _new_line(LineKey, (currency, isrc, kind, territory, right, right_ppm, share_ppm, released))
            merge_line(lines, account, line, units, gross, micros, version)
