"""Pool commands: configure a pool and its rule versions, a collective's members, contributions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from ledger.base import LedgerBase as _Base
from ledger.domain.identifiers import parse_currency
from ledger.domain.ids import party_id
from ledger.domain.party import DomainError
from ledger.domain.pool import (
    POOL_KINDS,
    Collective,
    Pool,
    PoolContributionBatch,
    check_pool_key,
    collective_id,
    contribution_batch_id,
    pool_id,
)
from ledger.pools.contributions import Checked, ContributionRow, Lookups, check_rows, rows_digest
from ledger.usage.store import UsageStore

_INSERT = (
    "INSERT INTO pool_contributions (position, batch_id, source, contribution_id, pool_key, kind, occurred_at_us, "
    "funder_hash, target, currency, amount_micros, refund_of, payload_sha256) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_QUARANTINE = (
    "INSERT INTO pool_contribution_quarantine (quarantine_id, position, batch_id, source, contribution_id, reason, "
    "detail, raw_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class ContributionsWrite:
    """The batch's rows and quarantined rows, in the transaction of its event, at its position."""

    batch_id: str
    source: str
    checked: Checked

    def _rows(self, position: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        rows = [
            (
                position,
                self.batch_id,
                self.source,
                r.contribution_id,
                r.pool_key,
                r.kind,
                r.occurred_at_us,
                r.funder_hash,
                r.target,
                r.currency,
                r.amount_micros,
                r.refund_of,
                r.payload_sha256(),
            )
            for r in self.checked.accepted
        ]
        quarantined = [
            (
                str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.batch_id}:{i}")),
                position,
                self.batch_id,
                self.source,
                cid,
                reason,
                detail,
                json.dumps(raw, sort_keys=True),
            )
            for i, (cid, reason, detail, raw) in enumerate(self.checked.quarantined)
        ]
        return rows, quarantined

    def write_sqlite(self, cursor: Any, positions: Sequence[int]) -> None:
        rows, quarantined = self._rows(positions[0])
        cursor.executemany(_INSERT, rows)
        cursor.executemany(_QUARANTINE, quarantined)

    def write_postgres(self, cursor: Any, positions: Sequence[int]) -> None:
        rows, quarantined = self._rows(positions[0])
        if rows:
            cursor.executemany(_INSERT.replace("?", "%s"), rows)
        if quarantined:
            cursor.executemany(_QUARANTINE.replace("?", "%s"), quarantined)


@dataclass(frozen=True)
class ContributionResult:
    batch_id: str
    position: int | None
    accepted: int
    duplicates: int
    quarantined: dict[str, int]
    totals: dict[str, int]
    reasons: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "position": self.position,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "totals_micros": self.totals,
            "quarantine": self.reasons,
        }


class PoolCommands(_Base):
    def configure_pool(self, key: str, name: str, kind: str, currency: str, actor: str) -> Pool:
        check_pool_key(key)
        if kind not in POOL_KINDS:
            raise DomainError(f"pool kind {kind!r}: expected one of {', '.join(POOL_KINDS)}")
        if self._exists(pool_id(key)):
            raise DomainError(f"pool {key} is already configured")
        pool = Pool(key=key, name=name.strip() or key, kind=kind, currency=parse_currency(currency), actor=actor)
        self.save(pool)
        return pool

    def get_pool(self, key: str) -> Pool:
        try:
            pool: Any = self.repository.get(pool_id(key))
        except AggregateNotFoundError:
            raise DomainError(f"pool {key!r} is not configured") from None
        assert isinstance(pool, Pool)
        return pool

    def pool_keys(self) -> list[str]:
        return sorted(self.get_pool_by_id(i).key for i in self.aggregate_ids_with(Pool.Configured))  # type: ignore[attr-defined]

    def get_pool_by_id(self, aggregate_id: Any) -> Pool:
        pool: Any = self.repository.get(aggregate_id)
        assert isinstance(pool, Pool)
        return pool

    def set_pool_rule(self, key: str, rule: dict[str, Any], effective_from: str, reason: str, actor: str) -> int:
        pool = self.get_pool(key)
        version = pool.record_rule(rule, effective_from, reason, actor)
        self.require_parties(pool.versions[-1]["rule"]["eligible"])
        self.save(pool)
        return version

    def set_collective_members(self, party: str, members: dict[str, int], effective_from: str, actor: str) -> int:
        self.require_parties([party, *members])
        try:
            collective: Any = self.repository.get(collective_id(party))
        except AggregateNotFoundError:
            collective = Collective(party_key=party, actor=actor)
        version = int(collective.set_members(members, effective_from, actor))
        self.save(collective)
        return version

    def _lookups(self, store: UsageStore) -> Lookups:
        currencies: dict[str, str | None] = {}

        def pool_currency(key: str) -> str | None:
            if key not in currencies:
                currencies[key] = self.get_pool(key).currency if self._exists(pool_id(key)) else None
            return currencies[key]

        def stored_payload(source: str, cid: str) -> str | None:
            found = store.query(
                "SELECT payload_sha256 FROM pool_contributions WHERE source = ? AND contribution_id = ?",
                "SELECT payload_sha256 FROM pool_contributions WHERE source = %s AND contribution_id = %s",
                (source, cid),
            )
            return str(found[0][0]) if found else None

        def stored_payment(source: str, cid: str) -> ContributionRow | None:
            found = store.query(
                "SELECT pool_key, occurred_at_us, funder_hash, target, currency, amount_micros FROM pool_contributions "
                "WHERE source = ? AND contribution_id = ? AND kind = 'payment'",
                "SELECT pool_key, occurred_at_us, funder_hash, target, currency, amount_micros FROM pool_contributions "
                "WHERE source = %s AND contribution_id = %s AND kind = 'payment'",
                (source, cid),
            )
            if not found:
                return None
            p, at, funder, target, cur, amount = found[0]
            return ContributionRow(cid, p, "payment", int(at), funder, target, cur, int(amount), None)

        def refunded(source: str, cid: str) -> int:
            found = store.query(
                "SELECT COALESCE(SUM(-amount_micros), 0) FROM pool_contributions "
                "WHERE source = ? AND refund_of = ? AND kind = 'refund'",
                "SELECT COALESCE(SUM(-amount_micros), 0) FROM pool_contributions "
                "WHERE source = %s AND refund_of = %s AND kind = 'refund'",
                (source, cid),
            )
            return int(found[0][0])

        hasher: Any = None

        def hash_listener(listener: str) -> str:
            nonlocal hasher
            if hasher is None:
                from ledger.usage.listener import ListenerHasher, load_listener_secret

                hasher = ListenerHasher(load_listener_secret())
            return str(hasher(listener))

        def quarantined_before(source: str, raw: str) -> bool:
            return bool(
                store.query(
                    "SELECT 1 FROM pool_contribution_quarantine WHERE source = ? AND raw_row = ? LIMIT 1",
                    "SELECT 1 FROM pool_contribution_quarantine WHERE source = %s AND raw_row = %s LIMIT 1",
                    (source, raw),
                )
            )

        return Lookups(
            pool_currency,
            lambda p: self._exists(party_id(p)),
            stored_payload,
            stored_payment,
            refunded,
            hash_listener,
            self.clock(),
            quarantined_before,
        )

    def record_contributions(
        self, rows: Sequence[dict[str, Any]], source: str, actor: str, origin: str = "cli"
    ) -> ContributionResult:
        """Validate and record a batch: accepted rows and quarantined ones, in one transaction."""
        if not source.strip():
            raise DomainError("a contribution batch needs its source (e.g. csv:provider, stripe, cli)")
        store = UsageStore(self)  # type: ignore[arg-type]
        checked = check_rows(rows, source, self._lookups(store))
        quarantined: dict[str, int] = {}
        for _, reason, _, _ in checked.quarantined:
            quarantined[reason] = quarantined.get(reason, 0) + 1
        totals: dict[str, int] = {}
        for r in checked.accepted:
            totals[r.currency] = totals.get(r.currency, 0) + r.amount_micros
        reasons = [
            {"contribution_id": cid, "reason": reason, "detail": detail}
            for cid, reason, detail, _ in checked.quarantined
        ]
        digest = rows_digest(checked.accepted, checked.quarantined)
        batch_id = str(contribution_batch_id(source, digest))
        if (not checked.accepted and not checked.quarantined) or self._exists(contribution_batch_id(source, digest)):
            # nothing new, or this very batch (same rows, same quarantine) was recorded before
            return ContributionResult(batch_id, None, 0, checked.duplicates, {}, {}, [])
        batch = PoolContributionBatch(
            source=source,
            rows_sha256=digest,
            row_count=len(checked.accepted),
            totals=totals,
            quarantined=quarantined,
            duplicates=checked.duplicates,
            origin=origin,
            actor=actor,
        )
        recordings = self.save(batch, side_writes=[ContributionsWrite(batch_id, source, checked)])
        position = int(recordings[0].notification.id) if recordings else None
        return ContributionResult(
            batch_id, position, len(checked.accepted), checked.duplicates, quarantined, totals, reasons
        )
