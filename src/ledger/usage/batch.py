"""One batch end to end before writing: checks, duplicates, catalogue, prices → a Prepared batch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from ledger.domain.pricing import PricingConfig
from ledger.usage.prepare import (
    Context,
    Prepared,
    _catalogue,
    _intrinsic,
    _raw_row,
    payload_of,
    quarantine_id,
)
from ledger.usage.pricing_lines import price_accepted, refund_error, refunded_sales
from ledger.usage.rows import Error, RowBatch

_DEFAULT_LIMITS = PricingConfig(stream_currency="XXX")


def prepare_batch(b: RowBatch, ctx: Context, retrying: Sequence[str] = ()) -> Prepared:
    """`retrying[i]` is the quarantine id when row i is a quarantined row being re-submitted."""
    out = Prepared()
    max_amount = (ctx.pricing or _DEFAULT_LIMITS).max_amount_micros
    hasher, errors = ctx.hasher, list(b.errors)
    hashes: list[str | None] = [None] * len(b)
    payloads: list[str | None] = [None] * len(b)
    for i in range(len(b)):
        if errors[i] is None:
            errors[i] = _intrinsic(b, i, ctx.now_us, max_amount)
        if errors[i] is None:
            listener = b.listener[i]
            assert listener is not None
            hashes[i] = listener if b.listener_hashed else hasher(listener)
            payloads[i] = payload_of(b, i, hashes[i] or "")
    accepted = _deduplicate(b, ctx, errors, payloads, out, retrying)
    still: list[int] = []
    for i in accepted:
        errors[i] = _catalogue(b, i, ctx.catalogue, ctx.pricing)
        if errors[i] is None:
            still.append(i)
    refunded = refunded_sales(b, ctx, still)
    for i in still:
        if b.kind[i] == "refund":
            errors[i] = refund_error(b, i, refunded)
    still = [i for i in still if errors[i] is None]
    _quarantine(b, ctx, errors, out, retrying)
    price_accepted(b, ctx, still, hashes, payloads, out, refunded)
    for i in still:
        if retrying:
            out.resolved.append((retrying[i], "accepted"))
    return out


def _deduplicate(b: RowBatch, ctx: Context, errors: list[Error | None],
                 payloads: list[str | None], out: Prepared, retrying: Sequence[str]) -> list[int]:
    """Rows not seen before; a known id with the same payload is a duplicate, else an error."""
    first: dict[tuple[str, str], str] = {}
    fresh: list[int] = []
    by_source: dict[str, list[str]] = {}
    for i, payload in enumerate(payloads):
        if payload is None:
            continue
        key = (b.source[i] or "", b.usage_id[i] or "")
        if key in first:
            _duplicate_or_conflict(i, first[key] == payload, errors, out, retrying)
            continue
        first[key] = payload
        fresh.append(i)
        by_source.setdefault(key[0], []).append(key[1])
    known: dict[tuple[str, str], str] = {}
    for source, ids in by_source.items():
        for usage_id, payload in ctx.store.existing_payloads(source, ids).items():
            known[(source, usage_id)] = payload
    if not known:
        return fresh
    new = []
    for i in fresh:
        stored = known.get((b.source[i] or "", b.usage_id[i] or ""))
        if stored is None:
            new.append(i)
        else:
            _duplicate_or_conflict(i, stored == payloads[i], errors, out, retrying)
    return new


def _duplicate_or_conflict(i: int, same: bool, errors: list[Error | None], out: Prepared,
                           retrying: Sequence[str]) -> None:
    if same:
        out.duplicates += 1
        if retrying:
            out.resolved.append((retrying[i], "duplicate"))
    else:
        errors[i] = ("different_payload", "a known id with a different payload")


def _quarantine(b: RowBatch, ctx: Context, errors: list[Error | None], out: Prepared,
                retrying: Sequence[str]) -> None:
    """Rows with an error are kept with their reason, once: a row quarantined before is a duplicate."""
    held: dict[str, list[tuple[Any, ...]]] = {}
    for i, error in enumerate(errors):
        if error is None:
            continue
        if retrying:  # already in quarantine; it stays there with its first reason
            out.quarantined[error[0]] += 1
            continue
        raw = _raw_row(b, i, ctx.hasher)
        text = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
        raw_hash = hashlib.sha256(text.encode()).hexdigest()
        source = b.source[i] or ""
        detail = error[1] + (f" ({b.origin(i)})" if b.origin_name else "")
        held.setdefault(source, []).append(
            (quarantine_id(source, raw_hash), source, b.usage_id[i], raw_hash, error[0], detail,
             text))
    for source, entries in held.items():
        seen = ctx.store.quarantined_hashes(source, [e[3] for e in entries])
        unique: dict[str, tuple[Any, ...]] = {}
        for entry in entries:
            if entry[3] in seen or entry[3] in unique:
                out.duplicates += 1
            else:
                unique[entry[3]] = entry
                out.quarantined[entry[4]] += 1
        out.quarantine.extend(unique.values())
