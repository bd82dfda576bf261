"""Pricing accepted rows into usage lines: fixed rate, stream2own, sales, tips and refunds.

Line columns follow ledger.usage.lines.LINE_SCHEMA. Streams — nearly every row — are priced
column-wise (Arrow and numpy, no Python per row); sales, tips and refunds row by row. A release
purchase becomes one line per track, equal shares by largest remainder (track order breaks
ties), so every micro-unit belongs to one recording.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ledger.domain.money import allocate_largest_remainder
from ledger.domain.pricing import STREAM2OWN_PAID_PLAYS, stream2own_price_micros
from ledger.usage.lines import LINE_SCHEMA, concat_lines, lines_from_rows
from ledger.usage.prepare import Context, Prepared
from ledger.usage.rows import Error, RowBatch, picker


def price_accepted(
    b: RowBatch,
    ctx: Context,
    rows: list[int],
    hashes: list[str | None],
    payloads: list[str | None],
    out: Prepared,
    refunded: Refunds,
) -> None:
    """The accepted rows' lines, as one table: streams column-wise, other kinds row by row."""
    kinds = picker(rows)(b.kind)
    streams, others = rows, []
    if kinds.count("stream") < len(rows):
        streams = [i for i, kind in zip(rows, kinds, strict=True) if kind == "stream"]
        others = [i for i, kind in zip(rows, kinds, strict=True) if kind != "stream"]
    tables = []
    if streams:
        tables.extend(_price_streams(b, ctx, streams, _Bulk(b, hashes, payloads), out))
    lines: list[tuple[Any, ...]] = []
    for i in others:
        if b.kind[i] == "refund":
            sale = (b.source[i] or "", b.refund_of[i] or "")
            parts = _refund_lines(b, i, refunded.sales[sale], refunded.before[i])
        else:
            parts = _sale_lines(b, i, ctx)
        model = {"tip": "tip", "refund": "refund"}.get(b.kind[i] or "", "sale")
        for line_no, (isrc, gross) in enumerate(parts):
            lines.append(_line(b, i, ctx, out, line_no, isrc, gross, model, hashes, payloads))
    tables.append(lines_from_rows(lines))
    out.lines = concat_lines(tables)
    out.kinds.update(kinds if None not in kinds else [k or "" for k in kinds])
    out.sources.update(s or "" for s in set(picker(rows)(b.source)))
    out.accepted += len(rows)


def _line(
    b: RowBatch,
    i: int,
    ctx: Context,
    out: Prepared,
    line_no: int,
    isrc: str,
    gross: int,
    model: str,
    hashes: list[str | None],
    payloads: list[str | None],
) -> tuple[Any, ...]:
    """One line of a sale, tip or refund (LINE_COLUMNS order), counted into the totals."""
    currency = b.currency[i] or ""
    out.totals[currency] += gross
    out.pricing_versions.add(ctx.pricing_version)
    return (
        b.source[i],
        b.usage_id[i],
        line_no,
        b.kind[i],
        b.occurred_at_us[i],
        isrc,
        b.upc[i],
        hashes[i],
        b.territory[i],
        b.seconds_played[i],
        currency,
        gross,
        model,
        ctx.pricing_version,
        None,
        True,
        payloads[i],
        b.refund_of[i],
    )


class _Bulk:
    """The batch's columns as one Arrow table, gathered for chosen rows in one call."""

    def __init__(self, b: RowBatch, hashes: list[str | None], payloads: list[str | None]) -> None:
        columns = {name: b.arrow(name) for name in _FROM_ROWS if name not in ("listener_hash", "payload_sha256")}
        columns["listener_hash"] = pa.array(hashes, pa.string())
        columns["payload_sha256"] = pa.array(payloads, pa.string())
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


def _price_streams(b: RowBatch, ctx: Context, rows: list[int], bulk: _Bulk, out: Prepared) -> list[pa.Table]:
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
    bulk: _Bulk,
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


def _prior_counts(ctx: Context, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Counted stream2own plays stored per pair: this run's memory, the store for the rest."""
    cached = ctx.memory.play_counts
    prior = {pair: cached[pair] for pair in pairs if pair in cached}
    missing = [pair for pair in pairs if pair not in cached]
    if ctx.prefetched is not None and missing:  # asked ahead (batch.prefetch_play_counts)
        asked, answer = ctx.prefetched
        found = answer.result()
        prior.update({pair: found.get(pair, 0) for pair in missing if pair in asked})
        missing = [pair for pair in missing if pair not in asked]
    if missing:
        found = ctx.store.prior_counted_plays(missing)
        prior.update({pair: found.get(pair, 0) for pair in missing})
    return prior


def _number_plays(ctx: Context, bulk: _Bulk, rows: np.ndarray, out: Prepared) -> tuple[pa.Table, int]:
    """Stream2own, by window over each (listener, recording): in arrival order — (occurred_at,
    source, usage_id) — play n is the pair's counted plays already stored plus its rank here.
    The pair's last play here is its `pair_last` line; the 9th buys the track (ownership)."""
    config = ctx.pricing
    assert config is not None
    arrival = bulk.take(rows, ("occurred_at_us", "source", "usage_id"))
    order = pc.sort_indices(
        arrival, [("occurred_at_us", "ascending"), ("source", "ascending"), ("usage_id", "ascending")]
    )
    rows = rows[order.to_numpy()]
    pair_of = bulk.take(rows, ("listener_hash", "isrc"))
    pair, pairs = _codes(pair_of.column("listener_hash"), pair_of.column("isrc"))
    prior = _prior_counts(ctx, pairs)
    by_pair = np.argsort(pair, kind="stable")  # each pair's plays together, in arrival order
    grouped = pair[by_pair]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    sizes = np.diff(np.r_[starts, len(grouped)])
    rank, last = np.empty(len(rows), dtype=np.int64), np.empty(len(rows), dtype=bool)
    rank[by_pair] = np.arange(len(grouped)) - np.repeat(starts, sizes)
    last[by_pair] = np.r_[grouped[1:] != grouped[:-1], True]
    before = np.array([prior[p] for p in pairs], dtype=np.int64)
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
    after = before + np.bincount(pair, minlength=len(pairs))
    out.play_counts = dict(zip(pairs, after.tolist(), strict=True))
    return table, int(gross.sum())


_OWNERSHIP = ("listener_hash", "isrc", "source", "usage_id", "occurred_at_us")


def _sale_lines(b: RowBatch, i: int, ctx: Context) -> list[tuple[str, int]]:
    amount, isrc, upc = b.amount_micros[i] or 0, b.isrc[i], b.upc[i]
    if isrc is not None:
        return [(isrc, amount)]
    assert upc is not None
    tracks = ctx.catalogue.release_tracks[upc]
    parts = allocate_largest_remainder(amount, [(t, 1) for t in tracks])
    return [(t, parts[t]) for t in tracks]


@dataclass
class Refunds:
    """What this batch's refunds are checked against: the sales they name — stored, or accepted
    earlier in this batch — and, per sale, the micro-units already reversed (stored refunds,
    then this batch's accepted ones in row order), so the refunds of one sale never add up to
    more than the sale, across batches."""

    sales: dict[tuple[str, str], list[tuple[Any, ...]]] = field(default_factory=dict)
    reversed: Counter[tuple[str, str]] = field(default_factory=Counter)
    in_batch: dict[tuple[str, str], int] = field(default_factory=dict)  # sale → its row here
    before: dict[int, int] = field(default_factory=dict)  # refund row → its sale's reversed before it


def refunded_sales(b: RowBatch, ctx: Context, rows: list[int]) -> Refunds:
    """The stored sales that this batch's refunds name and their stored refunds, in two
    queries per source."""
    by_source: dict[str, list[str]] = {}
    for i in rows:
        if b.kind[i] == "refund":
            by_source.setdefault(b.source[i] or "", []).append(b.refund_of[i] or "")
    found = Refunds()
    for source, ids in by_source.items():
        for usage_id, lines in ctx.store.sale_lines(source, ids).items():
            found.sales[(source, usage_id)] = lines
        for usage_id, amount in ctx.store.refunded_micros(source, ids).items():
            found.reversed[(source, usage_id)] = amount
    # A sale accepted in this same batch, as its lines will be stored: (line_no, isrc, upc,
    # currency, gross, kind), like the stored ones.
    named = {(source, usage_id) for source, ids in by_source.items() for usage_id in ids}
    for i in rows:
        key = (b.source[i] or "", b.usage_id[i] or "")
        if key in named and key not in found.sales and b.kind[i] in ("download", "purchase", "tip"):
            found.sales[key] = [
                (n, isrc, b.upc[i], b.currency[i], gross, b.kind[i])
                for n, (isrc, gross) in enumerate(_sale_lines(b, i, ctx))
            ]
            found.in_batch[key] = i
    return found


def refund_error(b: RowBatch, i: int, refunds: Refunds) -> Error | None:
    """A refund reverses a sale of the same source and currency (stored, or earlier in this
    batch); with the sale's other refunds (stored, or earlier in this batch) it reverses at most
    the sale. An accepted refund is added to its sale's reversed amount."""
    key = (b.source[i] or "", b.refund_of[i] or "")
    original = refunds.sales.get(key)
    if refunds.in_batch.get(key, -1) > i:  # a refund follows its sale, never the reverse
        original = None
    if not original or original[0][5] not in ("download", "purchase", "tip"):
        return ("refund_of_unknown_sale", f"refund_of {b.refund_of[i]!r}: no such sale")
    if any(line[3] != b.currency[i] for line in original):
        return ("malformed", "a refund is in the currency of the sale it reverses")
    total = sum(line[4] for line in original)
    amount, already = abs(b.amount_micros[i] or 0), refunds.reversed[key]
    if amount + already > total or total <= 0:
        earlier = f" (after {already} already refunded)" if already else ""
        return ("absurd_amount", f"refund of {amount} micros exceeds the sale's {total}{earlier}")
    refunds.before[i] = already
    refunds.reversed[key] += amount
    return None


def _refund_lines(b: RowBatch, i: int, original: Any, before: int) -> list[tuple[str, int]]:
    """Reverse a stored sale: the refunded amount is spread like the sale was (by its lines).

    What is spread is the sale's cumulative refund: this refund's lines are the spread of
    everything refunded up to and including it, less the spread of what was refunded before it.
    So partial refunds that add up to the sale reverse every line exactly: spreading each
    refund on its own could reverse one line a micro-unit more than it sold and another one
    less, and the sale would not net to zero for the accounts of either line."""
    amount = abs(b.amount_micros[i] or 0)
    weights = [(line[0], line[4]) for line in original]
    after = allocate_largest_remainder(before + amount, weights)
    earlier = allocate_largest_remainder(before, weights) if before else dict.fromkeys(after, 0)
    return [(line[1], -(after[line[0]] - earlier[line[0]])) for line in original]
