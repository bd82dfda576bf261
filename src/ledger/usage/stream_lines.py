"""Streams priced column-wise: model and rate per (source, territory), counted from the threshold,
and stream2own play numbers as a window over each (listener, recording) — Arrow and numpy over
the whole batch, no Python per row.

Play n of a pair is the pair's counted plays already stored (this run's memory, else the store)
plus its rank among the batch's plays of the pair in arrival order, (occurred_at, source,
usage_id); a stored play is never renumbered, so a late play never changes an earlier price.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ledger.domain.pricing import STREAM2OWN_PAID_PLAYS, stream2own_price_micros
from ledger.usage.lines import LINE_SCHEMA
from ledger.usage.memory import PlayCounts
from ledger.usage.prepare import Context, Prepared
from ledger.usage.rows import RowBatch
from ledger.usage.store import UsageStore


class Bulk:
    """The batch's columns as one Arrow table, gathered for chosen rows in one call."""

    def __init__(self, b: RowBatch, hashes: pa.Array, payloads: pa.Array, pairs: np.ndarray | None) -> None:
        self.pairs = pairs  # per row, its (listener, recording)'s run-local number (memory.py)
        columns = {name: b.arrow(name) for name in _FROM_ROWS if name not in ("listener_hash", "payload_sha256")}
        columns["listener_hash"] = hashes
        columns["payload_sha256"] = payloads
        self.table = pa.table(columns)

    def take(self, rows: np.ndarray, names: tuple[str, ...] = ()) -> pa.Table:
        table = self.table.select(list(names)) if names else self.table
        return table.take(pa.array(rows, pa.int64())).combine_chunks()


def _codes(*columns: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """Per row, the number of its distinct combination of values, and the combinations."""
    encoded = [
        c.combine_chunks().dictionary_encode() if isinstance(c, pa.ChunkedArray) else c.dictionary_encode()
        for c in columns
    ]
    code = np.zeros(len(columns[0]), dtype=np.int64)
    for enc in encoded:
        code = code * len(enc.dictionary) + enc.indices.to_numpy(zero_copy_only=False)
    unique, inverse = np.unique(code, return_inverse=True)
    parts = []
    for enc in reversed(encoded):
        unique, at = np.divmod(unique, len(enc.dictionary))
        parts.append(enc.dictionary.take(pa.array(at)).to_pylist())
    return inverse.reshape(-1), list(zip(*reversed(parts), strict=True))


def price_streams(b: RowBatch, ctx: Context, rows: np.ndarray, bulk: Bulk, out: Prepared) -> list[pa.Table]:
    """Streams, column-wise: model and rate by (source, territory); counted from the threshold;
    a fixed rate's price, or a stream2own play number (`_number_plays`)."""
    config = ctx.pricing
    assert config is not None  # rows without pricing were quarantined as no_pricing
    at = np.asarray(rows, dtype=np.int64)
    where = bulk.take(at, ("source", "territory", "seconds_played"))
    group, combos = _codes(where.column("source"), where.column("territory"))
    models = [config.stream_model_for(s or "", t or "") for s, t in combos]
    rates = np.array([config.fixed_rate_micros(t or "") for _, t in combos], dtype=np.int64)
    seconds = where.column("seconds_played").to_numpy()
    counted = seconds >= config.counted_after_seconds
    numbered = counted & np.array([m == "stream2own" for m in models], dtype=bool)[group]
    fixed = counted & np.array([m == "fixed_rate" for m in models], dtype=bool)[group]
    plain = ~numbered
    gross = np.where(fixed, rates[group], 0)[plain]
    model = pc.take(pa.array(models, pa.string()), pa.array(group[plain]))
    tables = [_stream_lines(bulk, at[plain], ctx, gross, model, None, counted[plain], None)]
    total = int(gross.sum())
    if numbered.any():
        table, numbered_total = _number_plays(ctx, bulk, at[numbered], out)
        tables.append(table)
        total += numbered_total
    out.totals[config.stream_currency] += total
    out.pricing_versions.add(ctx.pricing_version)
    return tables


def _stream_lines(
    bulk: Bulk,
    rows: np.ndarray,
    ctx: Context,
    gross: np.ndarray,
    model: pa.Array,
    play_number: np.ndarray | None,
    counted: np.ndarray,
    last: np.ndarray | None,
) -> pa.Table:
    """Stream lines of `rows`, in that order, as a LINE_SCHEMA table."""
    assert ctx.pricing is not None
    n = len(rows)
    taken = bulk.take(rows)
    columns = {
        **{name: taken.column(name) for name in _FROM_ROWS},
        "line_no": pa.array(np.zeros(n, dtype=np.int64)),
        "currency": pa.array([ctx.pricing.stream_currency] * n, pa.string()),
        "gross_micros": pa.array(gross.astype(np.int64)),
        "pricing_model": model,
        "pricing_version": pa.array(np.full(n, ctx.pricing_version, dtype=np.int64)),
        "play_number": pa.nulls(n, pa.int64()) if play_number is None else pa.array(play_number.astype(np.int64)),
        "counted": pa.array(counted.astype(bool)),
        "pair_last": pa.array(np.zeros(n, dtype=bool) if last is None else last),
    }
    return pa.Table.from_arrays([columns[c] for c in LINE_SCHEMA.names], schema=LINE_SCHEMA)


_FROM_ROWS = (
    "source",
    "usage_id",
    "kind",
    "occurred_at_us",
    "isrc",
    "upc",
    "listener_hash",
    "territory",
    "seconds_played",
    "payload_sha256",
    "refund_of",
)


def stored_play_counts(store: UsageStore, hashes: pa.Array, isrcs: pa.Array, rows: np.ndarray) -> np.ndarray:
    """Counted stream2own plays stored for the (listener hash, isrc) of each of `rows`."""
    at = pa.array(rows, pa.int64())
    pairs = list(zip(hashes.take(at).to_pylist(), isrcs.take(at).to_pylist(), strict=True))
    counts = np.zeros(len(pairs), dtype=np.int64)
    found = store.prior_counted_plays(pairs)
    if found:
        where = {pair: i for i, pair in enumerate(pairs)}
        for pair, count in found.items():
            counts[where[pair]] = count
    return counts


def _prior_counts(ctx: Context, bulk: Bulk, pairs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Counted stream2own plays stored per pair (`pairs` sorted, unique; `rows[k]` a row of
    pair k): this run's memory, the lookup sent ahead, the store for the rest."""
    found, before = ctx.memory.play_counts.find(pairs)
    missing = np.flatnonzero(~found)
    if len(missing) and ctx.prefetched is not None:  # asked ahead (batch.prefetch_play_counts)
        asked, answer = ctx.prefetched
        counts = answer.result()
        at = np.minimum(np.searchsorted(asked, pairs[missing]), len(asked) - 1)
        hit = asked[at] == pairs[missing]
        before[missing[hit]] = counts[at[hit]]
        missing = missing[~hit]
    if len(missing):
        table = bulk.table
        before[missing] = stored_play_counts(ctx.store, table["listener_hash"], table["isrc"], rows[missing])
    return before


def _number_plays(ctx: Context, bulk: Bulk, rows: np.ndarray, out: Prepared) -> tuple[pa.Table, int]:
    """Stream2own, by window over each (listener, recording): in arrival order — (occurred_at,
    source, usage_id) — play n is the pair's counted plays already stored plus its rank here.
    The pair's last play here is its `pair_last` line; the 9th buys the track (ownership)."""
    config = ctx.pricing
    assert config is not None and bulk.pairs is not None
    arrival = bulk.take(rows, ("occurred_at_us", "source", "usage_id"))
    order = pc.sort_indices(
        arrival, [("occurred_at_us", "ascending"), ("source", "ascending"), ("usage_id", "ascending")]
    )
    rows = rows[order.to_numpy()]
    pairs, first, pair = np.unique(bulk.pairs[rows], return_index=True, return_inverse=True)
    pair = pair.reshape(-1)
    before = _prior_counts(ctx, bulk, pairs, rows[first])
    by_pair = np.argsort(pair, kind="stable")  # each pair's plays together, in arrival order
    grouped = pair[by_pair]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    sizes = np.diff(np.r_[starts, len(grouped)])
    rank, last = np.empty(len(rows), dtype=np.int64), np.empty(len(rows), dtype=bool)
    rank[by_pair] = np.arange(len(grouped)) - np.repeat(starts, sizes)
    last[by_pair] = np.r_[grouped[1:] != grouped[:-1], True]
    number = before[pair] + rank + 1
    prices = [stream2own_price_micros(n, config.credit_micros) for n in range(STREAM2OWN_PAID_PLAYS + 1)]
    gross = np.array([*prices, 0], dtype=np.int64)[np.minimum(number, STREAM2OWN_PAID_PLAYS + 1)]
    n = len(rows)
    model = pa.array(["stream2own"] * n, pa.string())
    table = _stream_lines(bulk, rows, ctx, gross, model, number, np.ones(n, dtype=bool), last)
    owners = np.flatnonzero(number == STREAM2OWN_PAID_PLAYS)
    if len(owners):
        picked = table.take(pa.array(owners))
        out.ownership.extend(zip(*(picked.column(c).to_pylist() for c in _OWNERSHIP), strict=True))
    out.play_counts = PlayCounts(pairs, before + np.bincount(pair, minlength=len(pairs)))
    return table, int(gross.sum())


_OWNERSHIP = ("listener_hash", "isrc", "source", "usage_id", "occurred_at_us")
