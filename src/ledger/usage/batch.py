"""One batch end to end before writing: checks, duplicates, catalogue, prices → a Prepared batch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ledger.domain.pricing import PricingConfig
from ledger.domain.text import escape_controls
from ledger.usage.digest import canonical_text
from ledger.usage.prepare import (
    MAX_SECONDS_PLAYED,
    Context,
    Prepared,
    catalogue_error,
    intrinsic_error,
    quarantine_id,
    raw_row_of,
)
from ledger.usage.pricing_lines import Refunds, price_accepted, refund_error, refunded_sales
from ledger.usage.rows import Error, Picker, RowBatch, filled, picker

_DEFAULT_LIMITS = PricingConfig(stream_currency="XXX")
_NEVER = 2**63
# The quarantined row's stored text; one encoder, as json.dumps(raw, sort_keys=True,
# separators=(",", ":"), default=str) would build for every row.
_RAW_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def prepare_batch(b: RowBatch, ctx: Context, retrying: Sequence[str] = ()) -> Prepared:
    """`retrying[i]` is the quarantine id when row i is a quarantined row being re-submitted."""
    out = Prepared()
    errors = list(b.errors)
    _check_intrinsic(b, ctx, errors)
    hashes = _listener_hashes(b, ctx)
    prefetch_play_counts(b, ctx, hashes, errors)
    payloads = payloads_of(b, hashes, errors)
    fresh, ids = _first_sightings(b, errors, payloads, out, retrying)
    accepted = _not_known(ctx, fresh, ids, errors, out, retrying)
    still = _check_catalogue(b, ctx, accepted, errors)
    refunded = Refunds()
    if "refund" in b.kind:
        refunded = refunded_sales(b, ctx, still)
        for i in still:
            if b.kind[i] == "refund":
                errors[i] = refund_error(b, i, refunded)
        still = [i for i in still if errors[i] is None]
    _quarantine(b, ctx, errors, out, retrying)
    price_accepted(b, ctx, still, hashes, payloads, out, refunded)
    out.written = _written(b, fresh, ids, still, payloads)
    if retrying:
        out.resolved.extend((retrying[i], "accepted") for i in still)
    return out


def _check_intrinsic(b: RowBatch, ctx: Context, errors: list[Error | None]) -> None:
    """A plain, well-formed stream passes in bulk; every other row gets the full check."""
    now, top = ctx.now_us, MAX_SECONDS_PLAYED
    max_amount = (ctx.pricing or _DEFAULT_LIMITS).max_amount_micros
    suspects = [
        i
        for i, (e, k, o, t, s, c) in enumerate(
            zip(errors, b.kind, b.occurred_at_us, b.territory, b.isrc, b.seconds_played, strict=True)
        )
        if e is None
        and not (
            k == "stream"
            and o is not None
            and o <= now
            and t is not None
            and s is not None
            and c is not None
            and 0 <= c <= top
        )
    ]
    for i in suspects:
        errors[i] = intrinsic_error(b, i, now, max_amount)


def _listener_hashes(b: RowBatch, ctx: Context) -> list[str | None]:
    if b.listener_hashed:
        return list(b.listener)
    cached, hasher = ctx.hasher.cache, ctx.hasher
    return [None if v is None else (cached.get(v) or hasher(v)) for v in b.listener]


def prefetch_play_counts(b: RowBatch, ctx: Context, hashes: list[str | None], errors: list[Error | None]) -> None:
    """Start the store lookup of stored stream2own plays now, for every counted stream's
    (listener, recording) this run has not seen (a superset of the pairs numbering will ask
    for), so the server answers while this batch is checked and hashed."""
    if ctx.lookups is None or ctx.pricing is None or "stream" not in b.kind:
        return
    threshold, cached = ctx.pricing.counted_after_seconds, ctx.memory.play_counts
    wanted = {
        (h, i)
        for e, k, s, h, i in zip(errors, b.kind, b.seconds_played, hashes, b.isrc, strict=True)
        if e is None and k == "stream" and s is not None and s >= threshold and h and i
    }
    asked = wanted.difference(cached)
    if asked:
        ctx.prefetched = (asked, ctx.lookups.submit(ctx.store.prior_counted_plays, list(asked)))


def payloads_of(b: RowBatch, hashes: list[str | None], errors: list[Error | None]) -> list[str | None]:
    """SHA-256 of each valid row's canonical form: the same fact from any file format hashes
    the same. Fields joined by U+001F; an absent value is empty. The text is built column-wise
    (ledger.usage.digest.canonical_text); only the hashing runs per row."""
    valid = [i for i, e in enumerate(errors) if e is None]
    if not valid:
        return [None] * len(b)
    take = None if len(valid) == len(b) else pa.array(valid, pa.int64())
    columns = [pa.array(hashes, pa.string()) if name == "listener" else b.arrow(name) for name in _PAYLOAD_FIELDS]
    text = canonical_text([c if take is None else pc.take(c, take) for c in columns], _PAYLOAD_BLANK)
    sha = hashlib.sha256
    raw = text.cast(pa.large_binary() if pa.types.is_large_string(text.type) else pa.binary())
    digests = [sha(row).hexdigest() for row in raw.to_pylist()]
    if take is None:
        return digests  # type: ignore[return-value]
    payloads: list[str | None] = [None] * len(b)
    for i, digest in zip(valid, digests, strict=True):
        payloads[i] = digest
    return payloads


# The payload's fields in order, and which read as empty when absent (text columns: also when "").
_PAYLOAD_FIELDS = (
    "source",
    "usage_id",
    "kind",
    "occurred_at_us",
    "isrc",
    "upc",
    "listener",
    "territory",
    "seconds_played",
    "amount_micros",
    "currency",
    "refund_of",
)
_PAYLOAD_BLANK = [
    f in ("isrc", "upc", "seconds_played", "amount_micros", "currency", "refund_of") for f in _PAYLOAD_FIELDS
]


def _check_catalogue(b: RowBatch, ctx: Context, rows: list[int], errors: list[Error | None]) -> list[int]:
    """Streams of released, never-taken-down recordings pass in bulk; others get the full check."""
    cat, priced = ctx.catalogue, ctx.pricing is not None
    first, risky = cat.first_release_us, cat.maybe_unavailable()
    # Per recording, the earliest instant a stream of it passes in bulk (never when risky).
    since = {isrc: _NEVER if isrc in risky else first.get(isrc, _NEVER) for isrc in set(filled(b.isrc))}
    kinds, isrcs, upcs, occs = b.kind, b.isrc, b.upc, b.occurred_at_us
    still = []
    for i in rows:
        if priced and kinds[i] == "stream" and upcs[i] is None and (occs[i] or 0) >= since[isrcs[i] or ""]:
            still.append(i)
            continue
        errors[i] = catalogue_error(b, i, cat, ctx.pricing)
        if errors[i] is None:
            still.append(i)
    return still


def _first_sightings(
    b: RowBatch, errors: list[Error | None], payloads: list[str | None], out: Prepared, retrying: Sequence[str]
) -> tuple[list[int], dict[tuple[str, str], str]]:
    """Valid rows whose (source, id) the batch has not shown before, with their payloads; a
    repeat with the same payload is a duplicate, else an error."""
    rows = [i for i, payload in enumerate(payloads) if payload is not None]
    pick = picker(rows)
    keys, hashed = _keys(b, pick), pick(payloads)
    ids = dict(zip(keys, hashed, strict=True))
    if len(ids) == len(keys):
        return rows, ids
    first = dict(zip(reversed(keys), reversed(hashed), strict=True))  # each id's first payload
    fresh: list[int] = []
    ids = {}
    for i, key, payload in zip(rows, keys, hashed, strict=True):
        if key in ids:
            _duplicate_or_conflict(i, first[key] == payload, errors, out, retrying)
        else:
            ids[key] = payload
            fresh.append(i)
    return fresh, ids


def _not_known(
    ctx: Context,
    rows: list[int],
    ids: dict[tuple[str, str], str],
    errors: list[Error | None],
    out: Prepared,
    retrying: Sequence[str],
) -> list[int]:
    """Rows not stored before (`ids` holds their keys and payloads, in row order); a known id
    with the same payload is a duplicate, else an error."""
    stored = _known_payloads(ctx, list(ids))
    if stored.count(None) == len(stored):
        return rows
    new = []
    for i, known, payload in zip(rows, stored, ids.values(), strict=True):
        if known is None:
            new.append(i)
        else:
            _duplicate_or_conflict(i, known == payload, errors, out, retrying)
    return new


def _known_payloads(ctx: Context, keys: list[tuple[str, str]]) -> list[str | None]:
    """Per (source, id), the payload already stored: from this run's memory, and from the store
    unless the run is optimistic (then the primary key is the check; see memory.py)."""
    known = list(map(ctx.memory.written.get, keys))
    if ctx.memory.optimistic or None not in known:
        return known
    by_source: dict[str, list[str]] = {}
    for key, payload in zip(keys, known, strict=True):
        if payload is None:
            by_source.setdefault(key[0], []).append(key[1])
    found: dict[tuple[str, str], str] = {}
    for source, usage_ids in by_source.items():
        for usage_id, payload in ctx.store.existing_payloads(source, usage_ids).items():
            found[(source, usage_id)] = payload
    return [found.get(key) if payload is None else payload for key, payload in zip(keys, known, strict=True)]


def _written(
    b: RowBatch, fresh: list[int], ids: dict[tuple[str, str], str], still: list[int], payloads: list[str | None]
) -> dict[tuple[str, str], str]:
    """(source, id) → payload of the accepted rows: the first sightings less those not accepted."""
    if len(still) == len(fresh):  # still is a subset of fresh
        return ids
    gone = set(fresh).difference(still)
    if 2 * len(gone) > len(fresh):
        pick = picker(still)
        return dict(zip(_keys(b, pick), filled(pick(payloads)), strict=True))
    written = dict(ids)
    for i in gone:
        del written[(b.source[i] or "", b.usage_id[i] or "")]
    return written


def _keys(b: RowBatch, pick: Picker) -> list[tuple[str, str]]:
    """(source, usage_id) of the picked rows, missing parts as empty text."""
    return list(zip(filled(pick(b.source)), filled(pick(b.usage_id)), strict=True))


def _duplicate_or_conflict(
    i: int, same: bool, errors: list[Error | None], out: Prepared, retrying: Sequence[str]
) -> None:
    if same:
        out.duplicates += 1
        if retrying:
            out.resolved.append((retrying[i], "duplicate"))
    else:
        errors[i] = ("different_payload", "a known id with a different payload")


def _quarantine(b: RowBatch, ctx: Context, errors: list[Error | None], out: Prepared, retrying: Sequence[str]) -> None:
    """Rows with an error are kept with their reason, once: a row quarantined before is a duplicate."""
    held: dict[str, list[tuple[Any, ...]]] = {}
    for i, error in enumerate(errors):
        if error is None:
            continue
        if retrying:  # already in quarantine; it stays there with its first reason
            out.quarantined[error[0]] += 1
            continue
        raw = raw_row_of(b, i, ctx.hasher)
        text = _RAW_JSON.encode(raw)
        raw_hash = hashlib.sha256(text.encode()).hexdigest()
        source = b.source[i] or ""
        # Details quote client values (repr, messages of parsers): no control character may
        # reach the table, where PostgreSQL refuses NUL and a terminal would act on the rest.
        detail = escape_controls(error[1] + (f" ({b.origin(i)})" if b.origin_name else ""))
        held.setdefault(source, []).append(
            (quarantine_id(source, raw_hash), source, b.usage_id[i], raw_hash, error[0], detail, text)
        )
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
