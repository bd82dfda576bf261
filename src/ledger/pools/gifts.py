"""Gift credits: granted to a listener by the co-op or by a friend, spent through stream2own.

A grant is a `GiftCredit.Granted` event with its `gift_credits` row (kind 'grant'), written
together. Spending is not recorded: it is derived from the listener's stream2own plays
(projections.gifts), so it is a pure function of the log at a position like everything else.
Listener and friend are kept as HMACs only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.base import LedgerBase
from ledger.domain.identifiers import parse_currency
from ledger.domain.party import DomainError
from ledger.domain.pool import GiftCredit, gift_credit_id
from ledger.domain.text import check_texts
from ledger.usage.listener import ListenerHasher, load_listener_secret
from ledger.usage.rows import datetime_to_us

_INSERT = (
    "INSERT INTO gift_credits (position, gift_id, kind, listener_hash, funded_by, currency, amount_micros, "
    "usage_ref, occurred_at_us) VALUES (?, ?, 'grant', ?, ?, ?, ?, NULL, ?)"
)


@dataclass(frozen=True)
class GrantWrite:
    gift_id: str
    listener_hash: str
    funded_by: str
    currency: str
    amount_micros: int
    at_us: int

    def _row(self, positions: Sequence[int]) -> tuple[Any, ...]:
        return (
            positions[0],
            self.gift_id,
            self.listener_hash,
            self.funded_by,
            self.currency,
            self.amount_micros,
            self.at_us,
        )

    def write_sqlite(self, cursor: Any, positions: Sequence[int]) -> None:
        cursor.execute(_INSERT, self._row(positions))

    def write_postgres(self, cursor: Any, positions: Sequence[int]) -> None:
        cursor.execute(_INSERT.replace("?", "%s"), self._row(positions))


def grant_gift(
    app: LedgerBase,
    gift_id: str,
    listener: str,
    amount_micros: int,
    currency: str,
    actor: str,
    *,
    friend: str | None = None,
) -> int:
    """Grant credits to `listener`, funded by the co-op, or by `friend` (another listener).
    Returns the grant's log position."""
    check_texts({"gift id": (gift_id, "id")})
    currency = parse_currency(currency)
    if app._exists(gift_credit_id(gift_id)):
        raise DomainError(f"gift {gift_id} was granted before")
    hasher = ListenerHasher(load_listener_secret())
    listener_hash = hasher(listener)
    funded_by = "coop" if friend is None else f"listener:{hasher(friend)}"
    if friend is not None and hasher(friend) == listener_hash:
        raise DomainError("a listener cannot gift credits to themselves")
    gift = GiftCredit(
        gift_id=gift_id,
        listener_hash=listener_hash,
        funded_by=funded_by,
        currency=currency,
        amount_micros=amount_micros,
        actor=actor,
    )
    write = GrantWrite(gift_id, listener_hash, funded_by, currency, amount_micros, datetime_to_us(app.clock()))
    recordings = app.save(gift, side_writes=[write])
    return int(recordings[0].notification.id)
