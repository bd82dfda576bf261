"""Pricing accepted rows into usage lines: fixed rate, stream2own, sales, tips and refunds.

Line columns follow ledger.usage.store.LINE_COLUMNS. A release purchase becomes one line per
track, equal shares by largest remainder (track order breaks ties), so every micro-unit belongs
to one recording.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ledger.domain.money import allocate_largest_remainder
from ledger.domain.pricing import STREAM2OWN_PAID_PLAYS, stream2own_price_micros
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
    kinds = picker(rows)(b.kind)
    streams, others = rows, []
    if kinds.count("stream") < len(rows):
        streams = [i for i, kind in zip(rows, kinds, strict=True) if kind == "stream"]
        others = [i for i, kind in zip(rows, kinds, strict=True) if kind != "stream"]
    if streams:
        _price_streams(b, ctx, streams, hashes, payloads, out)
    for i in others:
        if b.kind[i] == "refund":
            sale = (b.source[i] or "", b.refund_of[i] or "")
            lines = _refund_lines(b, i, refunded.sales[sale], refunded.before[i])
        else:
            lines = _sale_lines(b, i, ctx)
        model = {"tip": "tip", "refund": "refund"}.get(b.kind[i] or "", "sale")
        for line_no, (isrc, gross) in enumerate(lines):
            _emit(b, i, ctx, out, line_no, isrc, gross, model, None, True, hashes, payloads)
    out.kinds.update(kinds if None not in kinds else [k or "" for k in kinds])
    out.sources.update(s or "" for s in set(picker(rows)(b.source)))
    out.accepted += len(rows)


def _emit(
    b: RowBatch,
    i: int,
    ctx: Context,
    out: Prepared,
    line_no: int,
    isrc: str,
    gross: int,
    model: str,
    play_number: int | None,
    counted: bool,
    hashes: list[str | None],
    payloads: list[str | None],
    currency: str | None = None,
) -> None:
    currency = currency or b.currency[i] or ""
    out.lines.append(
        (
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
            play_number,
            counted,
            payloads[i],
            b.refund_of[i],
        )
    )
    out.totals[currency] += gross
    out.pricing_versions.add(ctx.pricing_version)


def _price_streams(
    b: RowBatch, ctx: Context, rows: list[int], hashes: list[str | None], payloads: list[str | None], out: Prepared
) -> None:
    """Per stream: model by (source, territory); counted from the threshold; a price.

    Written for volume: one pass building line tuples, no call per row.
    """
    config = ctx.pricing
    assert config is not None  # rows without pricing were quarantined as no_pricing
    threshold, currency, version = config.counted_after_seconds, config.stream_currency, ctx.pricing_version
    src, uid, kind, occ, isrc, upc, terr, sec, ref = (
        b.source,
        b.usage_id,
        b.kind,
        b.occurred_at_us,
        b.isrc,
        b.upc,
        b.territory,
        b.seconds_played,
        b.refund_of,
    )
    models: dict[tuple[str | None, str | None], tuple[str, int]] = {}
    counted_s2o: list[int] = []
    lines, total = out.lines, 0
    for i in rows:
        key = (src[i], terr[i])
        found = models.get(key)
        if found is None:
            model = config.stream_model_for(key[0] or "", key[1] or "")
            found = models[key] = (model, config.fixed_rate_micros(key[1] or ""))
        counted = sec[i] >= threshold  # type: ignore[operator]
        if counted and found[0] == "stream2own":
            counted_s2o.append(i)
            continue
        gross = found[1] if counted and found[0] == "fixed_rate" else 0
        total += gross
        lines.append(
            (
                src[i],
                uid[i],
                0,
                kind[i],
                occ[i],
                isrc[i],
                upc[i],
                hashes[i],
                terr[i],
                sec[i],
                currency,
                gross,
                found[0],
                version,
                None,
                counted,
                payloads[i],
                ref[i],
            )
        )
    if counted_s2o:
        total += _number_plays(b, ctx, counted_s2o, hashes, payloads, out)
    out.totals[currency] += total
    out.pricing_versions.add(version)


def _prior_counts(ctx: Context, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Counted stream2own plays stored per pair: this run's memory, the store for the rest."""
    cached = ctx.memory.play_counts
    prior = {pair: cached[pair] for pair in pairs if pair in cached}
    missing = [pair for pair in pairs if pair not in cached]
    if missing:
        found = ctx.store.prior_counted_plays(missing)
        prior.update({pair: found.get(pair, 0) for pair in missing})
    return prior


def _number_plays(
    b: RowBatch, ctx: Context, rows: list[int], hashes: list[str | None], payloads: list[str | None], out: Prepared
) -> int:
    """Stream2own: n = counted plays of (listener, recording) already stored + rank in batch."""
    config = ctx.pricing
    assert config is not None
    src, uid, kind, occ, isrc, upc, terr, sec, ref = (
        b.source,
        b.usage_id,
        b.kind,
        b.occurred_at_us,
        b.isrc,
        b.upc,
        b.territory,
        b.seconds_played,
        b.refund_of,
    )
    prices = [stream2own_price_micros(n, config.credit_micros) for n in range(STREAM2OWN_PAID_PLAYS + 1)]
    prior = _prior_counts(ctx, {(hashes[i] or "", isrc[i] or "") for i in rows})
    _arrival_order(b, rows)
    lines, total, currency, version = out.lines, 0, config.stream_currency, ctx.pricing_version
    ends, at = {}, len(lines)  # per pair, the line of its last (highest-numbered) play here
    for i in rows:
        pair = (hashes[i] or "", isrc[i] or "")
        n = prior.get(pair, 0) + 1
        prior[pair] = n
        ends[pair] = at
        at += 1
        gross = prices[n] if n <= STREAM2OWN_PAID_PLAYS else 0
        total += gross
        lines.append(
            (
                src[i],
                uid[i],
                0,
                kind[i],
                occ[i],
                pair[1],
                upc[i],
                pair[0],
                terr[i],
                sec[i],
                currency,
                gross,
                "stream2own",
                version,
                n,
                True,
                payloads[i],
                ref[i],
            )
        )
        if n == STREAM2OWN_PAID_PLAYS:
            out.ownership.append((pair[0], pair[1], src[i], uid[i], occ[i]))
    out.play_counts = prior
    out.pair_last_lines.extend(ends.values())
    return total


def _arrival_order(b: RowBatch, rows: list[int]) -> None:
    """Sort rows by arrival: (occurred_at, source, usage_id). Instants alone decide when they
    are all different (the usual case, and a sort on plain integers)."""
    occ = b.occurred_at_us
    instants = picker(rows)(occ)
    if len(set(instants)) == len(rows):
        rows.sort(key=occ.__getitem__)  # type: ignore[arg-type]  # accepted rows have an instant
    else:
        src, uid = b.source, b.usage_id
        rows.sort(key=lambda i: (occ[i], src[i], uid[i]))


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
