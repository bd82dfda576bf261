"""Pricing accepted rows into usage lines: fixed rate, stream2own, sales, tips and refunds.

Line columns follow ledger.usage.lines.LINE_SCHEMA. Streams — nearly every row — are priced
column-wise (ledger.usage.stream_lines); sales, tips and refunds here, row by row. A release
purchase becomes one line per track, equal shares by largest remainder (track order breaks
ties), so every micro-unit belongs to one recording.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ledger.domain.money import allocate_largest_remainder
from ledger.usage.lines import concat_lines, lines_from_rows
from ledger.usage.prepare import Context, Prepared
from ledger.usage.rows import ArrowColumn, Error, RowBatch
from ledger.usage.stream_lines import Bulk, price_streams


def price_accepted(
    b: RowBatch,
    ctx: Context,
    rows: np.ndarray,
    hashes: pa.Array,
    payloads: pa.Array,
    pairs: np.ndarray | None,
    out: Prepared,
    refunded: Refunds,
) -> None:
    """The accepted rows' lines, as one table: streams column-wise, other kinds row by row."""
    tables = []
    kinds = b.arrow("kind").take(pa.array(rows, pa.int64()))
    stream = pc.fill_null(pc.equal(kinds, "stream"), False).to_numpy(zero_copy_only=False)
    streams, others = rows[stream], rows[~stream].tolist()
    if len(streams):
        tables.extend(price_streams(b, ctx, streams, Bulk(b, hashes, payloads, pairs), out))
    lines: list[tuple[Any, ...]] = []
    if others:
        b.gather(others)
        hashed, payload = ArrowColumn(hashes), ArrowColumn(payloads)
        hashed.gather(others)
        payload.gather(others)
    for i in others:
        if b.kind[i] == "refund":
            sale = (b.source[i] or "", b.refund_of[i] or "")
            parts = _refund_lines(b, i, refunded.sales[sale], refunded.before[i])
        else:
            parts = _sale_lines(b, i, ctx)
        model = {"tip": "tip", "refund": "refund"}.get(b.kind[i] or "", "sale")
        for line_no, (isrc, gross) in enumerate(parts):
            lines.append(_line(b, i, ctx, out, line_no, isrc, gross, model, hashed, payload))
    tables.append(lines_from_rows(lines))
    out.lines = concat_lines(tables)
    counts = pc.value_counts(kinds)
    out.kinds.update(
        dict(
            zip([k or "" for k in counts.field("values").to_pylist()], counts.field("counts").to_pylist(), strict=True)
        )
    )
    out.sources.update(s or "" for s in pc.unique(b.arrow("source").take(pa.array(rows, pa.int64()))).to_pylist())
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
    hashes: Sequence[str | None],
    payloads: Sequence[str | None],
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
