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

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import Aggregate

if TYPE_CHECKING:
    from ledger.base import LedgerBase

A = TypeVar("A", bound=Aggregate)


class Pending:
    def __init__(self, app: LedgerBase, *, present: Iterable[UUID] = (), absent: Iterable[UUID] = ()) -> None:
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

    def event_count(self) -> int:
        """Events waiting to be saved (a bulk import compares it before and after a release)."""
        return sum(len(a.pending_events) for a in self.aggregates.values())

    def save(self) -> list[Aggregate]:
        """Record every pending event in ONE transaction, as `app.save(*self.changed())` does.

        The same steps as `Application.save`, without its per-object `isinstance` checks against
        runtime Protocols (slow on Python 3.11: a bulk import saves tens of thousands of
        aggregates); everything here is known to be an Aggregate. Returns what was saved.
        """
        changed = self.changed()
        if not changed:
            return changed
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in changed:
            processing.events += aggregate.collect_events()
            processing.aggregates[aggregate.id] = aggregate
        recordings = self.app._record(processing)
        self.app._take_snapshots(processing)
        self.app._notify(recordings)
        self.app.notify(processing.events)
        return changed
