"""Gift credits as known at a position: what each grant funded, accounted apart by who funded it.

A listener's stream2own plays (counted, priced) are paid first from the gift credits granted to
that listener before the play was recorded, oldest grant first (FIFO, in the currency of the
play); what no gift covers is the listener's own (bought) credits. The plays' gross — and so
what the rights holders earn — is the same either way: a gift changes who paid, not who is paid.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from ledger.domain.period import Period
from ledger.royalties import period_bounds_us
from ledger.store.config import StoreConfig
from projections.statements.pools import query_store

_GRANTS = (
    "SELECT position, gift_id, listener_hash, funded_by, currency, amount_micros FROM gift_credits "
    "WHERE kind = 'grant' AND position <= {p} ORDER BY position, gift_id"
)
_PLAYS = (
    "SELECT u.position, u.occurred_at_us, {usage_hash}, u.currency, u.gross_micros FROM usage_rows u "
    "WHERE u.pricing_model = 'stream2own' AND u.kind = 'stream' AND {counted} AND u.gross_micros > 0 "
    "AND u.position <= {p} AND {usage_match} IN (SELECT {gift_hash} FROM gift_credits WHERE position <= {p}) "
    "ORDER BY u.position, u.occurred_at_us, u.source, u.usage_id"
)


@dataclass
class Grant:
    position: int
    gift_id: str
    listener: str
    funded_by: str
    currency: str
    amount: int
    spent: int = 0
    spent_in_period: int = 0


def _short(value: str) -> str:
    """An HMAC shown by its first 12 digits (enough to tell listeners apart in a report)."""
    if value.startswith("listener:"):
        return "listener:" + value.removeprefix("listener:")[:12]
    return value[:12] if len(value) == 64 else value


def gift_report(config: StoreConfig, as_of: int, period: Period | None = None) -> dict[str, Any]:
    grants = [
        Grant(int(p), str(g), str(h), str(f), str(c), int(a))
        for p, g, h, f, c, a in query_store(config, _GRANTS, (as_of,))
    ]
    queues: dict[tuple[str, str], deque[Grant]] = {}
    for grant in grants:
        queues.setdefault((grant.listener, grant.currency), deque()).append(grant)
    start, end = period_bounds_us(period) if period is not None else (0, 2**62)
    funded = 0
    for position, at_us, listener, currency, gross in query_store(config, _PLAYS, (as_of, as_of)):
        queue = queues.get((str(listener), str(currency)))
        need = int(gross)
        while queue and need:
            grant = queue[0]
            if grant.position >= int(position):
                break  # granted after this play was recorded: not for it
            take = min(need, grant.amount - grant.spent)
            grant.spent += take
            if start <= int(at_us) < end:
                grant.spent_in_period += take
            need -= take
            if grant.spent == grant.amount:
                queue.popleft()
        funded += need < int(gross)
    by_funder: dict[tuple[str, str], dict[str, Any]] = {}
    for grant in grants:
        row = by_funder.setdefault(
            (grant.funded_by, grant.currency),
            {
                "funded_by": _short(grant.funded_by),
                "currency": grant.currency,
                "granted_micros": 0,
                "spent_micros": 0,
                "spent_in_period_micros": 0,
                "remaining_micros": 0,
            },
        )
        row["granted_micros"] += grant.amount
        row["spent_micros"] += grant.spent
        row["spent_in_period_micros"] += grant.spent_in_period
        row["remaining_micros"] += grant.amount - grant.spent
    return {
        "as_of_position": as_of,
        "period": str(period) if period is not None else None,
        "plays_funded": funded,
        "grants": [
            {
                "gift_id": g.gift_id,
                "listener": _short(g.listener),
                "funded_by": _short(g.funded_by),
                "currency": g.currency,
                "granted_micros": g.amount,
                "spent_micros": g.spent,
                "spent_in_period_micros": g.spent_in_period,
                "remaining_micros": g.amount - g.spent,
            }
            for g in grants
        ],
        "by_funder": [by_funder[k] for k in sorted(by_funder)],
    }
