"""Turn one normalised batch into what gets written: validated, deduplicated, priced lines.

Order matters: checks intrinsic to a row first (format, amounts, time), then duplicates (a row
accepted before stays a duplicate even if the catalogue changed since), then the catalogue
(codes, release dates, takedowns), then pricing. Stream2own play numbers are assigned by arrival:
earlier batches first (their rows are stored), then within a batch by (occurred_at, source,
usage_id). A stored row is never renumbered, so a late row never changes an earlier price.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ledger.domain.ids import NAMESPACE
from ledger.domain.pricing import PricingConfig
from ledger.usage.catalogue_view import CatalogueView
from ledger.usage.lines import empty_lines
from ledger.usage.listener import ListenerHasher
from ledger.usage.memory import PlayCounts, RunMemory
from ledger.usage.rows import FIELDS, Error, RowBatch, us_to_iso
from ledger.usage.store import UsageStore

MAX_SECONDS_PLAYED = 24 * 3600
_NAMESPACE_BYTES = NAMESPACE.bytes


@dataclass
class Context:
    """Everything a batch is checked and priced against, fixed for one ingest run."""

    store: UsageStore
    catalogue: CatalogueView
    hasher: ListenerHasher
    now_us: int
    pricing_version: int
    pricing: PricingConfig | None
    memory: RunMemory = field(default_factory=RunMemory)
    # Where the stream2own lookup may run while the batch is checked (None: when it is needed).
    lookups: Executor | None = None
    # The pairs asked ahead (run-local pair numbers, sorted) and their stored counts to come.
    prefetched: tuple[np.ndarray, Future[np.ndarray]] | None = None


@dataclass
class Prepared:
    lines: pa.Table = field(default_factory=empty_lines)  # ledger.usage.lines.LINE_SCHEMA
    quarantine: list[tuple[Any, ...]] = field(default_factory=list)
    resolved: list[tuple[str, str]] = field(default_factory=list)
    ownership: list[tuple[Any, ...]] = field(default_factory=list)
    accepted: int = 0
    duplicates: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    totals: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    sources: set[str] = field(default_factory=set)
    pricing_versions: set[int] = field(default_factory=set)
    written: dict[str, str] = field(default_factory=dict)  # accepted "source U+001F usage_id"
    play_counts: PlayCounts = field(default_factory=PlayCounts)  # after this batch
    # PostgreSQL: the usage watermark at which the ids were looked up, and the months whose
    # partitions that lookup left to the key indexes (ledger.usage.months).
    looked_up_at: int | None = None
    looked_up_outside: tuple[str, ...] = ()


def quarantine_id(source: str, raw_sha256: str) -> str:
    """uuid5(NAMESPACE, "usage-quarantine:{source}:{raw_sha256}").hex, without building a UUID
    object (a quarantine-heavy batch asks for tens of thousands)."""
    name = f"usage-quarantine:{source}:{raw_sha256}".encode()
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return digest.hex()


def intrinsic_error(b: RowBatch, i: int, now_us: int, max_amount: int) -> Error | None:
    """Checks that need nothing but the row itself."""
    kind, occurred = b.kind[i], b.occurred_at_us[i]
    if occurred is not None and occurred > now_us:
        return "future_occurred_at", f"occurred_at {us_to_iso(occurred)} is in the future"
    if b.territory[i] is None:
        return "malformed", "territory is missing"
    if kind == "stream":
        seconds = b.seconds_played[i]
        if b.isrc[i] is None:
            return "malformed", "a stream names an isrc"
        if seconds is None:
            return "malformed", "a stream gives seconds_played"
        if not 0 <= seconds <= MAX_SECONDS_PLAYED:
            return "absurd_amount", f"seconds_played {seconds} is outside 0…{MAX_SECONDS_PLAYED}"
        return None
    amount = b.amount_micros[i]
    if amount is None or b.currency[i] is None:
        return "malformed", f"a {kind} gives an amount and a currency"
    if b.isrc[i] is None and b.upc[i] is None:
        return "malformed", f"a {kind} names an isrc or a upc"
    if kind == "refund" and not b.refund_of[i]:
        return "malformed", "a refund names the sale it reverses in refund_of"
    if amount < 0 and kind != "refund":
        return "negative_amount", f"amount {amount} micros is negative"
    if abs(amount) > max_amount:
        return "absurd_amount", f"amount {amount} micros is above the limit {max_amount}"
    return None


def catalogue_error(b: RowBatch, i: int, cat: CatalogueView, pricing: PricingConfig | None) -> Error | None:
    """Checks against what the catalogue knows now: codes, release dates, takedowns."""
    isrc, upc, at, territory = b.isrc[i], b.upc[i], b.occurred_at_us[i], b.territory[i]
    assert at is not None and territory is not None
    if upc is not None:
        if upc not in cat.release_tracks:
            return "unknown_upc", f"release {upc} is not delivered"
        if isrc is not None and isrc not in cat.release_tracks[upc]:
            return "malformed", f"recording {isrc} is not a track of release {upc}"
        if at < cat.release_start_us[upc]:
            return "before_release_date", f"{us_to_iso(at)} is before release {upc} came out"
        reason = cat.release_unavailable(upc, territory, at)
        if reason:
            return "taken_down", f"release {upc} is taken down in {territory}: {reason}"
    if isrc is not None:
        if isrc not in cat.recordings:
            return "unknown_isrc", f"recording {isrc} is not registered"
        first = cat.first_release_us.get(isrc)
        if first is None:
            return "unknown_upc", f"recording {isrc} is on no delivered release yet"
        if at < first:
            return "before_release_date", f"{us_to_iso(at)} is before {isrc} was released"
        reason = cat.recording_unavailable(isrc, territory, at)
        if reason:
            return "taken_down", f"recording {isrc} is taken down in {territory}: {reason}"
    if b.kind[i] == "stream" and pricing is None:
        return "no_pricing", "no pricing version is configured for streams (royalty pricing set)"
    if upc is not None and b.kind[i] in ("download", "purchase") and pricing is not None:
        minimum, amount = pricing.minimum_price(upc, b.currency[i] or "", territory), b.amount_micros[i] or 0
        if amount < minimum:
            return "below_minimum_price", f"{amount} micros is below release {upc}'s minimum {minimum}"
    return None


# What a quarantined row keeps of its raw form: the fields the ledger reads (FIELDS), and for a
# row that was not a JSON object its digest and length. A field the ledger does not know (a
# `listener` or `user` column, any NDJSON key) may hold a raw listener id, which is stored
# nowhere: it is dropped, and only how many were dropped is kept.
_KEPT = frozenset(FIELDS) | {"raw_sha256", "raw_length"}


def raw_row_of(b: RowBatch, i: int, hasher: ListenerHasher) -> dict[str, Any]:
    given = b.raw(i)
    raw = {k: v for k, v in given.items() if k in _KEPT or (b.listener_hashed and k == "listener_hash")}
    if len(raw) < len(given):
        raw["unknown_fields_dropped"] = len(given) - len(raw)
    listener = raw.pop("listener_id", None)
    if listener is not None and not b.listener_hashed:
        raw["listener_hash"] = hasher(str(listener))
    raw.setdefault("source", b.source[i])
    return raw
