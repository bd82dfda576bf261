"""What every read model is to the projector: tables it owns and a fold over one batch."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from eventsourcing.persistence import Notification

from ledger.application import RoyaltyLedger
from projections.db import ViewDB

REBUILD_SUFFIX = "__rebuild"


@dataclass(frozen=True)
class Batch:
    """Notifications `lo`…`hi` (inclusive, positions with no event skipped) folded together."""

    lo: int
    hi: int
    notifications: Sequence[Notification]


class ReadModel(ABC):
    """A read model folds batches into its tables; the projector owns transactions and tracking.

    `fold` must be a function of the log alone: folding the same positions in any batching
    gives the same rows (rebuilt == live), and it runs inside the batch's transaction.
    """

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]

    def __init__(self, app: RoyaltyLedger, *, rebuild: bool = False) -> None:
        self.app = app
        self.t = {name: name + (REBUILD_SUFFIX if rebuild else "") for name in self.tables}
        # Positions this model recorded as poison (projections.failures) and skipped; a model
        # that reads the log itself (not only the batch) must skip them too.
        self.skipped: set[int] = set()

    @abstractmethod
    def fold(self, db: ViewDB, batch: Batch) -> None: ...

    def reset_caches(self) -> None:  # noqa: B027 - an optional hook; most models keep no state
        """Forget in-memory state after a rolled-back batch (the tables are the truth)."""
