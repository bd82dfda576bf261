"""UsageBatch: one event per accepted batch of usage rows, whose lines live in the usage table.

The event states what the rows add up to (count, SHA-256 of their canonical form, gross per
currency, pricing versions used); the rows themselves are written in the same transaction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE

USAGE_KINDS = ("stream", "download", "purchase", "tip", "refund")


def usage_batch_id(source: str, rows_sha256: str) -> UUID:
    """Deterministic: the same accepted content from the same source is the same batch."""
    return uuid5(NAMESPACE, f"usage-batch:{source}:{rows_sha256}")


# How `rows_sha256` was computed: 1 = a digest of the lines as prepared in memory (batches
# recorded before version 2 of the event; not recomputable from the tables), 2 = the canonical
# form in docs/usage-formats.md, recomputed from the stored rows by `royalty audit verify`,
# 3 = the same with each quarantined row's content, not only its id.
DIGEST_SCHEME = 3


class UsageBatch(Aggregate):
    class Recorded(Aggregate.Created):
        class_version = 2

        source: str
        kind: str
        row_count: int
        line_count: int
        rows_sha256: str
        totals: dict[str, int]
        kinds: dict[str, int]
        pricing_versions: list[int]
        quarantined: dict[str, int]
        owners_acquired: int
        resolved_quarantine: int
        listener_key_id: str
        origin: str
        actor: str
        digest_scheme: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["digest_scheme"] = 1

    @staticmethod
    def create_id(source: str, rows_sha256: str, **_: Any) -> Any:
        return usage_batch_id(source, rows_sha256)

    @event(Recorded)
    def __init__(
        self,
        source: str,
        kind: str,
        row_count: int,
        line_count: int,
        rows_sha256: str,
        totals: dict[str, int],
        kinds: dict[str, int],
        pricing_versions: list[int],
        quarantined: dict[str, int],
        owners_acquired: int,
        resolved_quarantine: int,
        listener_key_id: str,
        origin: str,
        actor: str,
        digest_scheme: int = DIGEST_SCHEME,
    ) -> None:
        """`kind` is the batch's one usage kind, or "mixed"; `kinds` counts accepted rows by kind.

        `row_count` counts accepted client rows, `line_count` the usage-table lines they became
        (a release purchase is one line per track). `totals` is gross micro-units per currency,
        `quarantined` rows held back by reason (kept in the quarantine table, same transaction).
        """
        self.source = source
        self.kind = kind
        self.row_count = row_count
        self.line_count = line_count
        self.rows_sha256 = rows_sha256
        self.totals = totals
        self.kinds = kinds
        self.pricing_versions = pricing_versions
        self.quarantined = quarantined
        self.owners_acquired = owners_acquired
        self.resolved_quarantine = resolved_quarantine
        self.listener_key_id = listener_key_id
        self.origin = origin
        self.digest_scheme = digest_scheme
