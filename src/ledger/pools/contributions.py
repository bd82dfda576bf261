"""Contributions to pools: validated rows, written beside one PoolContributionBatch event.

A row is a payment into a pool (a subscription, a patronage, the co-op's surplus share) or the
refund of one. Every way in (CSV from a payment provider, the CLI, the API, Stripe invoices)
hands rows here as dicts of text. A listener's raw id is replaced by its HMAC before anything is
kept (quarantined rows too). A row seen before (same source and id, same content) is a counted
duplicate; the same id with other content, and every invalid row, is quarantined with its reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.domain.identifiers import InvalidIdentifier, parse_currency
from ledger.domain.money import parse_decimal_micros
from ledger.domain.period import InvalidTime, parse_utc
from ledger.usage.listener import is_listener_hash
from ledger.usage.rows import datetime_to_us

FIELDS = ("contribution_id", "pool", "kind", "occurred_at", "amount", "currency", "listener", "target", "refund_of")


class Quarantined(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class ContributionRow:
    contribution_id: str
    pool_key: str
    kind: str
    occurred_at_us: int
    funder_hash: str | None
    target: str | None
    currency: str
    amount_micros: int
    refund_of: str | None

    def payload_sha256(self) -> str:
        data = [
            self.pool_key,
            self.kind,
            self.occurred_at_us,
            self.funder_hash,
            self.target,
            self.currency,
            self.amount_micros,
            self.refund_of,
        ]
        return hashlib.sha256(json.dumps(data, separators=(",", ":")).encode()).hexdigest()


@dataclass
class Lookups:
    """What validation asks the ledger and the store (functions, so tests can give plain dicts)."""

    pool_currency: Callable[[str], str | None]
    party_exists: Callable[[str], bool]
    stored_payload: Callable[[str, str], str | None]  # (source, id) → payload sha256
    stored_payment: Callable[[str, str], ContributionRow | None]  # (source, id) → the payment row
    refunded_so_far: Callable[[str, str], int]  # (source, payment id) → Σ |refunds| stored
    hasher: Callable[[str], str]
    now: datetime
    quarantined_before: Callable[[str, str], bool] = lambda source, raw: False  # (source, raw row JSON)


@dataclass
class Checked:
    accepted: list[ContributionRow] = field(default_factory=list)
    duplicates: int = 0
    quarantined: list[tuple[str | None, str, str, dict[str, Any]]] = field(
        default_factory=list
    )  # id, reason, detail, raw


def _text(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _required(raw: dict[str, Any], name: str) -> str:
    value = _text(raw, name)
    if value is None:
        raise Quarantined("malformed", f"{name} is missing")
    return value


def _amount(raw: dict[str, Any]) -> int:
    if raw.get("amount_micros") is not None:
        value = raw["amount_micros"]
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).lstrip("-").isdigit():
            raise Quarantined("malformed", f"amount_micros {value!r}: not an integer")
        return int(value)
    try:
        return parse_decimal_micros(_required(raw, "amount"))
    except ValueError as exc:
        raise Quarantined("malformed", str(exc)) from None


def check_row(raw: dict[str, Any], source: str, lk: Lookups, seen_refunds: dict[str, int]) -> ContributionRow:
    """One row to a ContributionRow, or Quarantined with the reason a person can act on."""
    unknown = set(raw) - {*FIELDS, "amount_micros", "funder", "listener_hash"}
    if unknown:
        raise Quarantined("malformed", f"unknown column(s): {', '.join(sorted(unknown))}")
    cid = _required(raw, "contribution_id")
    pool = _required(raw, "pool")
    kind = _text(raw, "kind") or "payment"
    if kind not in ("payment", "refund"):
        raise Quarantined("malformed", f"kind {kind!r}: expected payment or refund")
    try:
        occurred = parse_utc(_required(raw, "occurred_at"), "occurred_at")
        currency = parse_currency(_required(raw, "currency"))
    except (InvalidTime, InvalidIdentifier) as exc:
        raise Quarantined("malformed", str(exc)) from None
    if occurred > lk.now:
        raise Quarantined("future_time", f"occurred_at {occurred.isoformat()} is in the future")
    expected = lk.pool_currency(pool)
    if expected is None:
        raise Quarantined("unknown_pool", f"pool {pool!r} is not configured (royalty pools configure)")
    if currency != expected:
        raise Quarantined("currency_mismatch", f"pool {pool} collects {expected}, this row is in {currency}")
    amount = _amount(raw)
    if amount <= 0:
        raise Quarantined(
            "absurd_amount", f"amount must be positive (a refund states what it gives back), got {amount}"
        )
    if kind == "refund":
        return _refund(raw, cid, pool, occurred, currency, amount, source, lk, seen_refunds)
    target = _text(raw, "target")
    if target is not None and not lk.party_exists(target):
        raise Quarantined("unknown_party", f"target party {target!r} is not registered")
    listener = _text(raw, "listener")
    hashed = _text(raw, "listener_hash")  # a payment provider's link kept the HMAC only
    funder = _text(raw, "funder")
    if sum(x is not None for x in (listener, hashed, funder)) > 1:
        raise Quarantined("malformed", "give listener or funder (coop), not both")
    if hashed is not None:
        if not is_listener_hash(hashed):
            raise Quarantined("malformed", "listener_hash is not a listener HMAC (64 hex digits)")
        return ContributionRow(cid, pool, "payment", datetime_to_us(occurred), hashed, target, currency, amount, None)
    if funder not in (None, "coop"):
        raise Quarantined("malformed", f"funder {funder!r}: only 'coop' (a listener is given as listener)")
    return ContributionRow(
        cid,
        pool,
        "payment",
        datetime_to_us(occurred),
        lk.hasher(listener) if listener is not None else None,
        target,
        currency,
        amount,
        None,
    )


def _refund(
    raw: dict[str, Any],
    cid: str,
    pool: str,
    occurred: datetime,
    currency: str,
    amount: int,
    source: str,
    lk: Lookups,
    seen_refunds: dict[str, int],
) -> ContributionRow:
    """A refund names its payment, takes its funder and target, and never exceeds what is left."""
    of = _required(raw, "refund_of")
    payment = lk.stored_payment(source, of)
    if payment is None:
        raise Quarantined("unknown_payment", f"refund_of {of!r}: no such payment from source {source}")
    if payment.pool_key != pool or payment.currency != currency:
        raise Quarantined("refund_mismatch", f"payment {of} is {payment.currency} into pool {payment.pool_key}")
    occurred_us = datetime_to_us(occurred)
    if occurred_us < payment.occurred_at_us:
        raise Quarantined("malformed", f"refund of {of} occurred before the payment")
    left = payment.amount_micros - lk.refunded_so_far(source, of) - seen_refunds.get(of, 0)
    if amount > left:
        raise Quarantined("absurd_amount", f"refund of {amount} exceeds what is left of payment {of} ({left})")
    seen_refunds[of] = seen_refunds.get(of, 0) + amount
    return ContributionRow(cid, pool, "refund", occurred_us, payment.funder_hash, payment.target, currency, -amount, of)


def _masked(raw: dict[str, Any], hasher: Callable[[str], str]) -> dict[str, Any]:
    """A row as kept in quarantine: the listener's raw id replaced by its HMAC."""
    out = {k: (str(v) if v is not None else None) for k, v in raw.items()}
    if out.get("listener"):
        out["listener"] = hasher(str(out["listener"]))
    return out


def check_rows(rows: Sequence[dict[str, Any]], source: str, lk: Lookups) -> Checked:
    out = Checked()
    seen: dict[str, str] = {}
    seen_refunds: dict[str, int] = {}
    for raw in rows:
        cid = _text(raw, "contribution_id")
        try:
            row = check_row(raw, source, lk, seen_refunds)
        except Quarantined as q:
            masked = _masked(raw, lk.hasher)
            if lk.quarantined_before(source, json.dumps(masked, sort_keys=True)):
                out.duplicates += 1  # the same bad row sent again: held once, counted
            else:
                out.quarantined.append((cid, q.reason, q.detail, masked))
            continue
        payload = row.payload_sha256()
        stored = seen.get(row.contribution_id) or lk.stored_payload(source, row.contribution_id)
        if stored == payload:
            out.duplicates += 1
            continue
        if stored is not None:
            detail = f"contribution {row.contribution_id} was recorded before with other content"
            out.quarantined.append((cid, "conflict", detail, _masked(raw, lk.hasher)))
            continue
        seen[row.contribution_id] = payload
        out.accepted.append(row)
    return out


def rows_digest(rows: Sequence[ContributionRow], quarantined: Sequence[tuple[Any, ...]]) -> str:
    """SHA-256 of a batch's content in an order the stored rows give back: accepted rows by id
    (unique in a batch), quarantined rows by (id, reason, content). `royalty audit verify`
    recomputes it from the tables (ledger.pools.verify)."""
    h = hashlib.sha256()
    for row in sorted(rows, key=lambda r: r.contribution_id):
        h.update(f"{row.contribution_id}\t{row.payload_sha256()}\n".encode())
    held = sorted((str(cid), reason, json.dumps(raw, sort_keys=True)) for cid, reason, _, raw in quarantined)
    for cid, reason, raw in held:
        h.update(f"Q\t{cid}\t{reason}\t{raw}\n".encode())
    return h.hexdigest()
