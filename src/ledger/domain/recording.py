"""Recording: a sound recording (ISRC) with its work, credits and availability."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.domain.availability import HasAvailability
from ledger.domain.ids import recording_id

CREDIT_ROLES = frozenset(
    {
        "main_artist",
        "featured_artist",
        "performer",
        "session_musician",
        "producer",
        "engineer",
        "mixer",
        "mastering_engineer",
        "writer",
        "composer",
        "lyricist",
        "arranger",
        "remixer",
        "other",
    }
)


class Recording(Aggregate, HasAvailability):
    @staticmethod
    def create_id(isrc: str, **_: Any) -> Any:
        return recording_id(isrc)

    @event("Registered")
    def __init__(
        self,
        isrc: str,
        title: str,
        display_artist: str,
        duration_ms: int,
        work_key: str | None,
        credits: list[dict[str, str]],
        actor: str,
    ) -> None:
        self.isrc = isrc
        self.title = title
        self.display_artist = display_artist
        self.duration_ms = duration_ms
        self.work_key = work_key
        self.credits = credits
        self.availability: list[dict[str, Any]] = []
        self.audio: dict[str, Any] = {"status": "none"}

    @event("DetailsUpdated")
    def update_details(
        self,
        title: str,
        display_artist: str,
        duration_ms: int,
        work_key: str | None,
        credits: list[dict[str, str]],
        actor: str,
    ) -> None:
        self.title, self.display_artist, self.duration_ms = title, display_artist, duration_ms
        self.work_key, self.credits = work_key, credits

    @event("TakenDown")
    def take_down(self, territories: list[str], reason: str, effective_at: datetime, actor: str) -> None:
        self._record_availability("takedown", territories, reason, effective_at, actor)

    @event("Reinstated")
    def reinstate(self, territories: list[str], reason: str, effective_at: datetime, actor: str) -> None:
        self._record_availability("reinstatement", territories, reason, effective_at, actor)
