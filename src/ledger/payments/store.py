"""Stripe's tables: the handled-webhook record (a side write beside its event) and sale lookups.

Reads go through the usage store's backend-neutral `query`, so this module imports no driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.usage.keys import PROBE, key_of, key_range, usage_key
from ledger.usage.store import UsageStore, sqlite_listener_hex

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

STRIPE_SOURCE = "stripe"
_INSERT = (
    "INSERT INTO stripe_webhook_events (event_id, position, event_type, object_id, outcome, "
    "usage_id, handled_at_us) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})"
)


@dataclass(frozen=True)
class HandledWebhook:
    """One row of stripe_webhook_events, written after its PaymentEventHandled event."""

    event_id: str
    event_type: str
    object_id: str
    outcome: str
    usage_id: str | None
    handled_at_us: int

    def _row(self, positions: Sequence[int]) -> tuple[Any, ...]:
        assert len(positions) == 1, "a webhook receipt is saved as exactly one event"
        return (
            self.event_id,
            positions[0],
            self.event_type,
            self.object_id,
            self.outcome,
            self.usage_id,
            self.handled_at_us,
        )

    def write_sqlite(self, cursor: Any, positions: Sequence[int]) -> None:
        cursor.execute(_INSERT.format(p="?"), self._row(positions))

    def write_postgres(self, cursor: Any, positions: Sequence[int]) -> None:
        cursor.execute(_INSERT.format(p="%s"), self._row(positions))


@dataclass(frozen=True)
class SaleLine:
    """What a refund needs to know about the sale it reverses (its first line)."""

    occurred_at_us: int
    isrc: str
    upc: str | None
    listener_hash: str
    territory: str
    currency: str
    gross_micros: int  # the whole sale, all lines


class StripeStore:
    def __init__(self, app: RoyaltyLedger) -> None:
        self._usage = UsageStore(app)

    def handled_outcome(self, event_id: str) -> str | None:
        rows = self._usage.query(
            "SELECT outcome FROM stripe_webhook_events WHERE event_id = ?",
            "SELECT outcome FROM stripe_webhook_events WHERE event_id = %s",
            (event_id,),
        )
        return str(rows[0][0]) if rows else None

    def sale(self, usage_id: str) -> SaleLine | None:
        rows = self._usage.query(
            # The lean table (migration 0045): by the key index's probe range, the id re-checked.
            f"SELECT occurred_at_us, isrc, upc, {sqlite_listener_hex()}, territory, currency, gross_micros "
            f"FROM usage_rows WHERE usage_key BETWEEN ?3 AND ?3 + {PROBE - 1} AND source = ?1 AND usage_id = ?2 "
            "AND kind <> 'refund' ORDER BY line_no",
            # The lean table (migration 0040): by the key indexes' probe range, the id re-checked.
            "SELECT occurred_at_us, isrc, upc, encode(listener_hash, 'hex'), territory, currency, gross_micros, "
            f"line_no FROM usage_rows WHERE {key_of()} BETWEEN {key_range('%s', '%s')} AND source = %s "
            "AND usage_id = %s AND kind <> 'refund' AND line_no = 0 UNION ALL "
            "SELECT occurred_at_us, isrc, upc, encode(listener_hash, 'hex'), territory, currency, gross_micros, "
            f"line_no FROM usage_rows WHERE {key_of()} BETWEEN {key_range('%s', '%s')} AND source = %s "
            "AND usage_id = %s AND kind <> 'refund' AND line_no > 0 ORDER BY 8",
            (STRIPE_SOURCE, usage_id, usage_key(STRIPE_SOURCE, usage_id))
            if self._usage.backend == "sqlite"
            else (STRIPE_SOURCE, usage_id) * 6,
        )
        if not rows:
            return None
        first = rows[0]
        return SaleLine(
            int(first[0]),
            str(first[1]),
            first[2],
            str(first[3]),
            str(first[4]),
            str(first[5]),
            sum(int(r[6]) for r in rows),
        )

    def refunded_micros(self, sale_usage_id: str) -> int:
        """Micro-units already reversed by accepted refund rows (a positive number)."""
        rows = self._usage.query(
            "SELECT COALESCE(SUM(gross_micros), 0) FROM usage_rows WHERE source = ? "
            "AND kind = 'refund' AND refund_of = ?",
            "SELECT COALESCE(SUM(gross_micros), 0) FROM usage_rows WHERE source = %s "
            "AND kind = 'refund' AND refund_of = %s",
            (STRIPE_SOURCE, sale_usage_id),
        )
        return -int(rows[0][0])
