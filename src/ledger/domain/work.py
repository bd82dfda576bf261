"""Work: a musical composition (ISWC where known) with its writers."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import work_id


class Work(Aggregate):
    @staticmethod
    def create_id(key: str, **_: Any) -> Any:
        return work_id(key)

    @event("Registered")
    def __init__(self, key: str, title: str, iswc: str | None, writers: list[dict[str, str]], actor: str) -> None:
        self.key = key
        self.title = title
        self.iswc = iswc
        self.writers = writers

    @event("DetailsUpdated")
    def update_details(self, title: str, iswc: str | None, writers: list[dict[str, str]], actor: str) -> None:
        self.title, self.iswc, self.writers = title, iswc, writers
