"""IdentifierAlias: one more identifier a release or recording is known by, and the key it is filed under.

Senders name a release by its ICPN, its GRid or their own proprietary id, and a recording by its
ISRC or a proprietary id, and not always by the same one twice. An aggregate is filed under one
deterministic key (`ledger.domain.ids`); every other identifier it was delivered with gets an alias
with its own deterministic id, so a re-delivery naming it by any of them finds the same aggregate
with one existence check, in any process, without a lookup table outside the log.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import alias_id

ALIAS_KINDS = ("release", "recording")


class IdentifierAlias(Aggregate):
    @staticmethod
    def create_id(kind: str, identifier: str, **_: Any) -> Any:
        return alias_id(kind, identifier)

    @event("Registered")
    def __init__(self, kind: str, identifier: str, key: str, actor: str) -> None:
        self.kind = kind
        self.identifier = identifier
        self.key = key
