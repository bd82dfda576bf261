"""One batch end to end before writing: checks, duplicates, catalogue, prices → a Prepared batch."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ledger.domain.pricing import PricingConfig
from ledger.domain.text import escape_controls
from ledger.usage.digest import canonical_text
from ledger.usage.lines import hex_to_bytes
from ledger.usage.months import months_of
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
from ledger.usage.rows import Error, RowBatch
from ledger.usage.stream_lines import stored_play_counts

_DEFAULT_LIMITS = PricingConfig(stream_currency="XXX")
_NEVER = 2**63 - 1  # no stream passes in bulk (a later one is in the future)
# The quarantined row's stored text; one encoder, as json.dumps(raw, sort_keys=True,
# separators=(",", ":"), default=str) would build for every row.
_RAW_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def prepare_batch(b: RowBatch, ctx: Context, retrying: Sequence[str] = ()) -> Prepared:
    """`retrying[i]` is the quarantine id when row i is a quarantined row being re-submitted."""
    out = Prepared()
    errors = list(b.errors)
    _check_intrinsic(b, ctx, errors)
    hashes = listener_hashes(b, ctx)
    pairs = pair_numbers(b, ctx, hashes)
    prefetch_play_counts(b, ctx, hashes, pairs, errors)
    payloads = payload_digests(b, hashes, errors)
    keys = _id_keys(b)
    fresh, ids = _first_sightings(keys, errors, payloads, out, retrying)
    months = months_of(b.arrow("occurred_at_us").take(pa.array(fresh, pa.int64())))
    accepted = _not_known(ctx, fresh, ids, months, errors, out, retrying)
    still = _check_catalogue(b, ctx, accepted, errors)
    refunded = Refunds()
    if "refund" in b.kind:
        rows = still.tolist()
        b.gather(rows)
        refunded = refunded_sales(b, ctx, rows)
        for i in rows:
            if b.kind[i] == "refund":
                errors[i] = refund_error(b, i, refunded)
        still = np.array([i for i in rows if errors[i] is None], dtype=np.int64)
    _quarantine(b, ctx, errors, out, retrying)
    price_accepted(b, ctx, still, hashes, payloads, pairs, out, refunded)
    out.written = _written(keys, fresh, ids, still, payloads)
    if retrying:
        out.resolved.extend((retrying[i], "accepted") for i in still.tolist())
    return out


def _valid(errors: list[Error | None]) -> np.ndarray:
    """The rows without an error, as a numpy mask."""
    if errors.count(None) == len(errors):
        return np.ones(len(errors), dtype=bool)
    return np.array([e is None for e in errors], dtype=bool)


def _mask(condition: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow boolean column as numpy booleans, null as False."""
    return pc.fill_null(condition, False).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def _check_intrinsic(b: RowBatch, ctx: Context, errors: list[Error | None]) -> None:
    """A plain, well-formed stream passes in bulk (Arrow over the whole batch); every other row
    gets the full check, row by row."""
    max_amount = (ctx.pricing or _DEFAULT_LIMITS).max_amount_micros
    seconds = b.arrow("seconds_played")
    plain = pc.and_(
        pc.and_(pc.equal(b.arrow("kind"), "stream"), pc.less_equal(b.arrow("occurred_at_us"), ctx.now_us)),
        pc.and_(
            pc.and_(pc.is_valid(b.arrow("territory")), pc.is_valid(b.arrow("isrc"))),
            pc.and_(pc.greater_equal(seconds, 0), pc.less_equal(seconds, MAX_SECONDS_PLAYED)),
        ),
    )
    suspects = np.flatnonzero(_valid(errors) & ~_mask(plain)).tolist()
    b.gather(suspects)
    for i in suspects:
        errors[i] = intrinsic_error(b, i, ctx.now_us, max_amount)


def listener_hashes(b: RowBatch, ctx: Context) -> pa.Array:
    """Per row, its listener's HMAC as hex text (null without a listener): each distinct
    listener of the batch is hashed once (and cached for the run)."""
    listeners = b.arrow("listener")
    if b.listener_hashed:
        return listeners
    encoded = listeners.dictionary_encode()
    cached, hasher = ctx.hasher.cache, ctx.hasher
    hashed = [cached.get(v) or hasher(v) for v in encoded.dictionary.to_pylist()]
    return pa.array(hashed, pa.string()).take(encoded.indices)


def pair_numbers(b: RowBatch, ctx: Context, hashes: pa.Array) -> np.ndarray | None:
    """Per row, the run-local number of its (listener, recording) (memory.py), when the batch
    has streams to price."""
    if ctx.pricing is None or "stream" not in b.kind:
        return None
    return ctx.memory.pair_numbers(hashes, b.arrow("isrc"))


def prefetch_play_counts(
    b: RowBatch, ctx: Context, hashes: pa.Array, pairs: np.ndarray | None, errors: list[Error | None]
) -> None:
    """Start the store lookup of stored stream2own plays now, for every counted stream's
    (listener, recording) this run has not seen (a superset of the pairs numbering will ask
    for), so the server answers while this batch is checked and hashed."""
    if ctx.lookups is None or ctx.pricing is None or pairs is None:
        return
    counted = pc.and_(
        pc.equal(b.arrow("kind"), "stream"),
        pc.greater_equal(b.arrow("seconds_played"), ctx.pricing.counted_after_seconds),
    )
    rows = np.flatnonzero(_valid(errors) & _mask(counted) & (pairs >= 0))
    unique, first = np.unique(pairs[rows], return_index=True)
    seen, _ = ctx.memory.play_counts.find(unique)
    if not seen.all():
        asked = rows[first[~seen]]
        ctx.prefetched = (
            unique[~seen],
            ctx.lookups.submit(stored_play_counts, ctx.store, hashes, b.arrow("isrc"), asked),
        )


def payload_digests(b: RowBatch, hashes: pa.Array, errors: list[Error | None]) -> pa.Array:
    """SHA-256 (hex text) of each valid row's canonical form, null for a row with an error: the
    same fact from any file format hashes the same. Fields joined by U+001F; an absent value
    is empty. The text is built column-wise (ledger.usage.digest.canonical_text); only the
    hashing runs per row, over slices of the text's one buffer, the digests joined and
    hex-encoded at once."""
    n = len(b)
    valid = np.flatnonzero(_valid(errors))
    if not len(valid):
        return pa.nulls(n, pa.string())
    take = None if len(valid) == n else pa.array(valid, pa.int64())
    columns = [hashes if name == "listener" else b.arrow(name) for name in _PAYLOAD_FIELDS]
    text = canonical_text([c if take is None else pc.take(c, take) for c in columns], _PAYLOAD_BLANK)
    _, offsets, data = text.buffers()
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    ends = np.frombuffer(offsets, dtype=width, count=len(text) + 1 + text.offset)[text.offset :].tolist()
    raw = data.to_pybytes()
    start = hashlib.sha256()  # each row's hash starts as a copy of an empty one
    copy = start.copy
    digests = []
    for s, e in itertools.pairwise(ends):
        h = copy()
        h.update(raw[s:e])
        digests.append(h.digest())
    hexed = b"".join(digests).hex().encode("ascii")
    out = pa.StringArray.from_buffers(
        len(valid), pa.py_buffer(np.arange(0, 64 * len(valid) + 1, 64, dtype=np.int32)), pa.py_buffer(hexed)
    )
    if take is None:
        return out
    where = np.full(n, -1, dtype=np.int64)
    where[valid] = np.arange(len(valid))
    return out.take(pa.array(where, mask=where < 0))


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


def _check_catalogue(b: RowBatch, ctx: Context, rows: np.ndarray, errors: list[Error | None]) -> np.ndarray:
    """Streams of released, never-taken-down recordings pass in bulk; others get the full check."""
    if not len(rows):
        return rows
    cat = ctx.catalogue
    first, risky = cat.first_release_us, cat.maybe_unavailable()
    isrcs = b.arrow("isrc").dictionary_encode()
    # Per recording, the earliest instant a stream of it passes in bulk (never when risky).
    since = np.array(
        [_NEVER if isrc in risky else first.get(isrc, _NEVER) for isrc in isrcs.dictionary.to_pylist()] + [_NEVER],
        dtype=np.int64,
    )
    at = pc.fill_null(isrcs.indices, len(since) - 1).to_numpy(zero_copy_only=False)
    occurred = pc.fill_null(b.arrow("occurred_at_us"), 0).to_numpy(zero_copy_only=False)
    bulk = _mask(pc.and_(pc.equal(b.arrow("kind"), "stream"), pc.is_null(b.arrow("upc")))) & (occurred >= since[at])
    if ctx.pricing is None:
        bulk[:] = False
    rest = rows[~bulk[rows]].tolist()
    if not rest:
        return rows
    b.gather(rest)
    for i in rest:
        errors[i] = catalogue_error(b, i, cat, ctx.pricing)
    failed = [i for i in rest if errors[i] is not None]
    return rows[~np.isin(rows, failed)] if failed else rows


def _id_keys(b: RowBatch) -> pa.Array:
    """Per row, its id as one text: source U+001F usage id (no id holds a control character),
    missing parts empty."""
    return pc.binary_join_element_wise(
        pc.fill_null(b.arrow("source"), ""), pc.fill_null(b.arrow("usage_id"), ""), "\x1f"
    )


def _first_sightings(
    keys: pa.Array, errors: list[Error | None], payloads: pa.Array, out: Prepared, retrying: Sequence[str]
) -> tuple[np.ndarray, dict[str, str]]:
    """Valid rows whose id the batch has not shown before, with their payloads (id key →
    payload hex); a repeat with the same payload as the id's first is a duplicate, else an error."""
    rows = np.flatnonzero(_mask(pc.is_valid(payloads)))
    at = pa.array(rows, pa.int64())
    picked = keys.take(at)
    encoded = picked.dictionary_encode()
    if len(encoded.dictionary) < len(rows):
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        first_of = first[inverse.reshape(-1)]  # per picked row, its id's first sighting
        repeats = np.flatnonzero(first_of != np.arange(len(rows)))
        raw = _digest_bytes(payloads.take(at))
        same = (raw[repeats] == raw[first_of[repeats]]).all(axis=1)
        for r, equal in zip(repeats.tolist(), same.tolist(), strict=True):
            _duplicate_or_conflict(int(rows[r]), equal, errors, out, retrying)
        kept = np.ones(len(rows), dtype=bool)
        kept[repeats] = False
        rows = rows[kept]
        at = pa.array(rows, pa.int64())
        picked = keys.take(at)
    ids = dict(zip(picked.to_pylist(), payloads.take(at).to_pylist(), strict=True))
    return rows, ids


def _digest_bytes(hexed: pa.Array) -> np.ndarray:
    """Hex digests (never null) as an (n, 32) array of bytes."""
    return np.frombuffer(hex_to_bytes(hexed).buffers()[1], dtype=np.uint8).reshape(-1, 32)


def _not_known(
    ctx: Context,
    rows: np.ndarray,
    ids: dict[str, str],
    months: list[str],
    errors: list[Error | None],
    out: Prepared,
    retrying: Sequence[str],
) -> np.ndarray:
    """Rows not stored before (`ids` holds their keys and payloads, in row order; `months` the
    rows' UTC months); a known id with the same payload is a duplicate, else an error."""
    stored = _known_payloads(ctx, list(ids), months, out)
    if stored.count(None) == len(stored):
        return rows
    new = []
    for i, known, payload in zip(rows.tolist(), stored, ids.values(), strict=True):
        if known is None:
            new.append(i)
        else:
            _duplicate_or_conflict(i, known == payload, errors, out, retrying)
    return np.array(new, dtype=np.int64)


def _known_payloads(ctx: Context, keys: list[str], months: list[str], out: Prepared) -> list[str | None]:
    """Per id key, the payload already stored: from this run's memory, and from the store
    unless the run is optimistic (then the primary key is the check; see memory.py).

    PostgreSQL holds an id once per month (ledger.usage.months): an optimistic run still looks
    its ids up in the other months' partitions, and the watermark it looked at goes with the
    batch (`out.looked_up_at`) for the write to check what was stored since."""
    known = list(map(ctx.memory.written.get, keys))
    if None not in known:
        return known
    outside_months: list[str] | None = None
    if ctx.store.backend == "postgres":
        out.looked_up_at = ctx.store.watermark()  # read first: the lookup sees every row up to it
        if ctx.memory.optimistic:
            out.looked_up_outside = tuple(months)
            if not ctx.store.months() - set(months):
                return known
            outside_months = months
    elif ctx.memory.optimistic:
        return known
    by_source: dict[str, list[str]] = {}
    for key, payload in zip(keys, known, strict=True):
        if payload is None:
            source, _, usage_id = key.partition("\x1f")
            by_source.setdefault(source, []).append(usage_id)
    found: dict[str, str] = {}
    for source, usage_ids in by_source.items():
        for usage_id, payload in ctx.store.existing_payloads(source, usage_ids, outside_months).items():
            found[f"{source}\x1f{usage_id}"] = payload
    return [found.get(key) if payload is None else payload for key, payload in zip(keys, known, strict=True)]


def _written(
    keys: pa.Array, fresh: np.ndarray, ids: dict[str, str], still: np.ndarray, payloads: pa.Array
) -> dict[str, str]:
    """Id key → payload of the accepted rows: the first sightings less those not accepted."""
    if len(still) == len(fresh):  # still is a subset of fresh
        return ids
    gone = np.setdiff1d(fresh, still)
    if 2 * len(gone) > len(fresh):
        at = pa.array(still, pa.int64())
        return dict(zip(keys.take(at).to_pylist(), payloads.take(at).to_pylist(), strict=True))
    written = dict(ids)
    for key in keys.take(pa.array(gone, pa.int64())).to_pylist():
        del written[key]
    return written


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
    b.gather([i for i, error in enumerate(errors) if error is not None])
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
