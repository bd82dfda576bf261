"""What usage validation needs from the catalogue: known codes, tracks, release dates, takedowns.

Loaded once per ingest from the log (recordings and releases as their aggregates stand now),
so checking a row is a set or dict lookup; only codes with a takedown history are checked
row by row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ledger.domain.recording import Recording
from ledger.domain.release import Release

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger


def _us(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000 + moment.microsecond


@dataclass
class CatalogueView:
    recordings: set[str] = field(default_factory=set)
    release_tracks: dict[str, list[str]] = field(default_factory=dict)
    release_start_us: dict[str, int] = field(default_factory=dict)
    first_release_us: dict[str, int] = field(default_factory=dict)  # isrc → earliest release
    releases_of: dict[str, list[str]] = field(default_factory=dict)
    recording_takedowns: dict[str, Recording] = field(default_factory=dict)
    release_takedowns: dict[str, Release] = field(default_factory=dict)
    _risky: set[str] | None = None

    @classmethod
    def load(cls, app: RoyaltyLedger) -> CatalogueView:
        """A full rebuild from every aggregate (ledger.usage.catalogue_cache keeps one up to date)."""
        recordings: list[Recording] = [
            app.repository.get(rid)
            for rid in app.aggregate_ids_with(Recording.Registered)  # type: ignore[attr-defined]
        ]
        releases: list[Release] = [
            app.repository.get(rid)
            for rid in app.aggregate_ids_with(Release.Delivered)  # type: ignore[attr-defined]
        ]
        return cls.of(((r.isrc, r if r.availability else None) for r in recordings), releases)

    @classmethod
    def of(cls, recordings: Iterable[tuple[str, Recording | None]], releases: Iterable[Release]) -> CatalogueView:
        """From each recording's ISRC (with the aggregate when it has a takedown history) and
        every release, in delivery order."""
        view = cls()
        for isrc, rec in recordings:
            view.recordings.add(isrc)
            if rec is not None:
                view.recording_takedowns[isrc] = rec
        for rel in releases:
            view.add_release(rel)
        return view

    def add_release(self, rel: Release) -> None:
        if rel.status != "live":
            return
        day = rel.release_date
        # A release a person approved without a date has no "before its release date".
        start = _us(datetime(day.year, day.month, day.day, tzinfo=UTC)) if day is not None else 0
        self.release_tracks[rel.upc] = list(rel.track_isrcs)
        self.release_start_us[rel.upc] = start
        for isrc in rel.track_isrcs:
            self.releases_of.setdefault(isrc, []).append(rel.upc)
            self.first_release_us[isrc] = min(start, self.first_release_us.get(isrc, start))
        if rel.availability:
            self.release_takedowns[rel.upc] = rel

    def release_unavailable(self, upc: str, territory: str, at_us: int) -> str | None:
        rel = self.release_takedowns.get(upc)
        return rel.unavailable_reason(territory, _at(at_us)) if rel else None

    def recording_unavailable(self, isrc: str, territory: str, at_us: int) -> str | None:
        """The recording's own takedown, or every release carrying it taken down there."""
        rec = self.recording_takedowns.get(isrc)
        if rec is not None:
            reason = rec.unavailable_reason(territory, _at(at_us))
            if reason:
                return reason
        upcs = self.releases_of.get(isrc, [])
        if upcs and all(u in self.release_takedowns for u in upcs):
            reasons = [self.release_unavailable(u, territory, at_us) for u in upcs]
            if all(reasons):
                return reasons[0]
        return None

    def maybe_unavailable(self) -> set[str]:
        """Recordings that a takedown could concern: their own, or every release's."""
        if self._risky is None:
            self._risky = set(self.recording_takedowns) | {
                isrc for isrc, upcs in self.releases_of.items() if all(u in self.release_takedowns for u in upcs)
            }
        return self._risky


def _at(us: int) -> datetime:
    seconds, micros = divmod(us, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)
