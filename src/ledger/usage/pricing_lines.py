"""Pricing accepted rows into usage lines: fixed rate, stream2own, sales, tips and refunds.

Line columns follow ledger.usage.store.LINE_COLUMNS. A release purchase becomes one line per
track, equal shares by largest remainder (track order breaks ties), so every micro-unit belongs
to one recording.
"""

from __future__ import annotations

from typing import Any

from ledger.domain.money import allocate_largest_remainder
from ledger.domain.pricing import STREAM2OWN_PAID_PLAYS, stream2own_price_micros
from ledger.usage.prepare import Context, Prepared
from ledger.usage.rows import Error, RowBatch

Refunded = dict[tuple[str, str], Any]


def price_accepted(b: RowBatch, ctx: Context, rows: list[int], hashes: list[str | None],
                   payloads: list[str | None], out: Prepared, refunded: Refunded) -> None:
    streams = [i for i in rows if b.kind[i] == "stream"]
    others = [i for i in rows if b.kind[i] != "stream"]
    if streams:
        _price_streams(b, ctx, streams, hashes, payloads, out)
    for i in others:
        if b.kind[i] == "refund":
            lines = _refund_lines(b, i, refunded[(b.source[i] or "", b.refund_of[i] or "")])
        else:
            lines = _sale_lines(b, i, ctx)
        model = {"tip": "tip", "refund": "refund"}.get(b.kind[i] or "", "sale")
        for line_no, (isrc, gross) in enumerate(lines):
            _emit(b, i, ctx, out, line_no, isrc, gross, model, None, True, hashes, payloads)
    for i in rows:
        out.kinds[b.kind[i] or ""] += 1
        out.sources.add(b.source[i] or "")
    out.accepted += len(rows)


def _emit(b: RowBatch, i: int, ctx: Context, out: Prepared, line_no: int, isrc: str, gross: int,
          model: str, play_number: int | None, counted: bool, hashes: list[str | None],
          payloads: list[str | None], currency: str | None = None) -> None:
    currency = currency or b.currency[i] or ""
    out.lines.append((
        b.source[i], b.usage_id[i], line_no, b.kind[i], b.occurred_at_us[i], isrc, b.upc[i],
        hashes[i], b.territory[i], b.seconds_played[i], currency, gross, model,
        ctx.pricing_version, play_number, counted, payloads[i], b.refund_of[i],
    ))
    out.totals[currency] += gross
    out.pricing_versions.add(ctx.pricing_version)


def _price_streams(b: RowBatch, ctx: Context, rows: list[int], hashes: list[str | None],
                   payloads: list[str | None], out: Prepared) -> None:
    config = ctx.pricing
    assert config is not None  # rows without pricing were quarantined as no_pricing
    threshold, currency = config.counted_after_seconds, config.stream_currency
    models: dict[tuple[str, str], str] = {}
    counted_s2o: list[int] = []
    for i in rows:
        key = (b.source[i] or "", b.territory[i] or "")
        model = models.get(key) or models.setdefault(key, config.stream_model_for(*key))
        counted = (b.seconds_played[i] or 0) >= threshold
        if model == "stream2own" and counted:
            counted_s2o.append(i)
            continue
        gross = config.fixed_rate_micros(key[1]) if model == "fixed_rate" and counted else 0
        _emit(b, i, ctx, out, 0, b.isrc[i] or "", gross, model, None, counted, hashes,
              payloads, currency)
    if not counted_s2o:
        return
    prior = ctx.store.prior_counted_plays({(hashes[i] or "", b.isrc[i] or "") for i in counted_s2o})
    # Arrival order: stored plays first, then this batch by (occurred_at, source, usage_id).
    counted_s2o.sort(key=lambda i: (b.occurred_at_us[i], b.source[i], b.usage_id[i]))
    for i in counted_s2o:
        pair = (hashes[i] or "", b.isrc[i] or "")
        n = prior.get(pair, 0) + 1
        prior[pair] = n
        gross = stream2own_price_micros(n, config.credit_micros)
        _emit(b, i, ctx, out, 0, pair[1], gross, "stream2own", n, True, hashes, payloads,
              currency)
        if n == STREAM2OWN_PAID_PLAYS:
            out.ownership.append((pair[0], pair[1], b.source[i], b.usage_id[i],
                                  b.occurred_at_us[i]))


def _sale_lines(b: RowBatch, i: int, ctx: Context) -> list[tuple[str, int]]:
    amount, isrc, upc = b.amount_micros[i] or 0, b.isrc[i], b.upc[i]
    if isrc is not None:
        return [(isrc, amount)]
    assert upc is not None
    tracks = ctx.catalogue.release_tracks[upc]
    parts = allocate_largest_remainder(amount, [(t, 1) for t in tracks])
    return [(t, parts[t]) for t in tracks]


def refunded_sales(b: RowBatch, ctx: Context, rows: list[int]) -> Refunded:
    """The stored sales that this batch's refunds name, in one query per source."""
    refunds = [i for i in rows if b.kind[i] == "refund"]
    by_source: dict[str, list[str]] = {}
    for i in refunds:
        by_source.setdefault(b.source[i] or "", []).append(b.refund_of[i] or "")
    found: dict[tuple[str, str], Any] = {}
    for source, ids in by_source.items():
        for usage_id, lines in ctx.store.sale_lines(source, ids).items():
            found[(source, usage_id)] = lines
    return found


def refund_error(b: RowBatch, i: int, refunded: Refunded) -> Error | None:
    """A refund reverses a stored sale of the same source, currency and at most its amount.

    Earlier partial refunds of the same sale are not subtracted (a known limit, see docs).
    """
    original = refunded.get((b.source[i] or "", b.refund_of[i] or ""))
    if not original or original[0][5] not in ("download", "purchase", "tip"):
        return ("refund_of_unknown_sale", f"refund_of {b.refund_of[i]!r}: no such sale")
    if any(line[3] != b.currency[i] for line in original):
        return ("malformed", "a refund is in the currency of the sale it reverses")
    total = sum(line[4] for line in original)
    amount = abs(b.amount_micros[i] or 0)
    if amount > total or total <= 0:
        return ("absurd_amount", f"refund of {amount} micros exceeds the sale's {total}")
    return None


def _refund_lines(b: RowBatch, i: int, original: Any) -> list[tuple[str, int]]:
    """Reverse a stored sale: the refunded amount is spread like the sale was (by its lines)."""
    amount = abs(b.amount_micros[i] or 0)
    parts = allocate_largest_remainder(amount, [(line[0], line[4]) for line in original])
    return [(line[1], -parts[line[0]]) for line in original]
