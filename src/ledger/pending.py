"""Pending changes of one command batch: aggregates changed but not yet saved, saved together.

A command that touches several aggregates (a whole release: parties, works, recordings, splits)
prepares each against a `Pending`, which answers "does it exist?" and "give me the current one"
from what is already pending first, then from ids known up front, then from the repository.
`app.save(*pending.changed())` then records all of it in one transaction, or none of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

A = TypeVar("A", bound=Aggregate)


class Pending:
    def __init__(self, app: RoyaltyLedger, *, present: Iterable[UUID] = (), absent: Iterable[UUID] = ()) -> None:
        self.app = app
        self.aggregates: dict[UUID, Aggregate] = {}
        # Answers known before the batch (one prefetch query instead of a read per aggregate).
        self.present = set(present)
        self.absent = set(absent)

    def exists(self, aggregate_id: UUID) -> bool:
        if aggregate_id in self.aggregates or aggregate_id in self.present:
            return True
        if aggregate_id in self.absent:
            return False
        return bool(self.app._exists(aggregate_id))

    def find(self, cls: type[A], aggregate_id: UUID, what: str) -> A | None:
        """The pending aggregate, else the stored one, else None."""
        found = self.aggregates.get(aggregate_id)
        if found is None:
            if not self.exists(aggregate_id):
                return None
            found = self.app._get(cls, aggregate_id, what)
            self.aggregates[aggregate_id] = found
        assert isinstance(found, cls)
        return found

    def add(self, aggregate: A) -> A:
        self.aggregates[aggregate.id] = aggregate
        return aggregate

    def changed(self) -> list[Aggregate]:
        """Aggregates with events not yet saved, in the order they were first touched."""
        return [a for a in self.aggregates.values() if a.pending_events]
