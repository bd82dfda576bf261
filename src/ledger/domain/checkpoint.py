"""AuditCheckpoint: the hash chain's value at a log position, with a digest of every event since the previous one."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import checkpoint_id


class AuditCheckpoint(Aggregate):
    class Recorded(Aggregate.Created):
        """`anchor_key` names (by fingerprint) the key that signed this checkpoint into the anchor
        file (`royalty audit anchor`); None for a checkpoint recorded in the database only."""

        class_version = 2

        from_position: int
        upto_position: int
        chain_hash: str
        event_digests: list[list[int | str]]
        actor: str
        anchor_key: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["anchor_key"] = None

    @staticmethod
    def create_id(upto_position: int, **_: Any) -> Any:
        return checkpoint_id(upto_position)

    @event(Recorded)
    def __init__(
        self,
        from_position: int,
        upto_position: int,
        chain_hash: str,
        event_digests: list[list[int | str]],
        actor: str,
        anchor_key: str | None = None,
    ) -> None:
        self.from_position = from_position
        self.upto_position = upto_position
        self.chain_hash = chain_hash
        self.event_digests = event_digests
        self.anchor_key = anchor_key
