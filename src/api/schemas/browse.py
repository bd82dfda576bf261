"""Catalogue search pages and stats rollups: what the list routes and /v1/stats answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class CreditPublic(BaseModel):
    party: str
    name: str | None
    role: str


class AvailabilityNow(BaseModel):
    available: bool
    reason: str | None = None
    release: str | None = None


class RecordingItem(BaseModel):
    isrc: str
    title: str
    display_artist: str
    work_key: str | None
    audio_status: str
    credits: list[CreditPublic]
    releases: list[str]
    availability: AvailabilityNow | None = None


class ReleaseItem(BaseModel):
    upc: str
    title: str
    label_key: str | None
    label_name: str | None
    release_type: str
    release_date: str
    status: str
    territories: list[str]
    tracks: list[str]
    availability: AvailabilityNow | None = None


class WriterPublic(BaseModel):
    party: str
    name: str | None = None
    role: str | None = None


class WorkItem(BaseModel):
    work_key: str
    title: str
    iswc: str | None
    writers: list[WriterPublic]


class PartyItem(BaseModel):
    party_key: str
    name: str
    kinds: list[str]
    identifiers: dict[str, Any]
    credits: dict[str, int] = Field(description="How many recordings credit the party, per role.")


class _Page(BaseModel):
    as_of: int = Field(description="Log position the catalogue view includes.")
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page; null on the last.")


class RecordingPage(_Page):
    items: list[RecordingItem]


class ReleasePage(_Page):
    items: list[ReleaseItem]


class WorkPage(_Page):
    items: list[WorkItem]


class PartyPage(_Page):
    items: list[PartyItem]


class RollupBucket(BaseModel):
    bucket: str = Field(description="Start of the bucket (ISO 8601 UTC; YYYY-MM for months, YYYY for years).")
    key: str | None = Field(default=None, description="The group (ISRC, UPC, artist, territory or source).")
    label: str | None = None
    currency: str
    plays: int
    counted_plays: int
    units: int
    gross_micros: int


class RankedGroup(BaseModel):
    key: str
    label: str
    plays: int
    counted_plays: int
    units: int
    gross_micros: dict[str, int] = Field(description="Per currency, in micro-units.")


class StatsRollupPublic(BaseModel):
    by: str
    group: str | None
    top: int | None
    as_of: int
    series: list[RollupBucket]
    ranking: list[RankedGroup] = Field(description="Groups by plays (then gross), largest first.")
    total_plays: int
