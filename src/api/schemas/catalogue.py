"""Catalogue payloads: parties, works, recordings and releases, as delivered and as read back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import (
    Code,
    IsoDate,
    Isrc,
    Iswc,
    Key,
    Name,
    Reason,
    Strict,
    Territory,
    Title,
    UtcTime,
    WriteResult,
    checked,
)
from ledger.domain.party import Party
from ledger.domain.recording import Recording
from ledger.domain.release import Release
from ledger.domain.work import Work


class PartyCreate(Strict):
    name: Name
    kinds: list[Code] = Field(min_length=1, max_length=12, examples=[["artist"]])
    identifiers: dict[Literal["ipi", "isni", "dpid"], Annotated[str, Field(max_length=40), checked("code")]] = Field(
        default_factory=dict
    )


class PartyPublic(BaseModel):
    key: str
    name: str
    kinds: list[str]
    identifiers: dict[str, str]
    verification: str
    managed_by: list[str]

    @classmethod
    def of(cls, party: Party) -> PartyPublic:
        return cls(
            key=party.key,
            name=party.name,
            kinds=party.kinds,
            identifiers=party.identifiers,
            verification=party.verification,
            managed_by=party.managed_by,
        )


class PartyWritten(WriteResult):
    party: PartyPublic


class ManagerCreate(Strict):
    manager_key: Key


class Credit(Strict):
    party: Key
    role: Annotated[Code, Field(examples=["main_artist"])]


class Writer(Strict):
    party: Key
    role: Annotated[Code, Field(examples=["composer"])]


class WorkCreate(Strict):
    title: Title
    iswc: Iswc | None = None
    writers: list[Writer] = Field(default=[], max_length=200)


class WorkPublic(BaseModel):
    key: str
    title: str
    iswc: str | None
    writers: list[dict[str, str]]

    @classmethod
    def of(cls, work: Work) -> WorkPublic:
        return cls(key=work.key, title=work.title, iswc=work.iswc, writers=work.writers)


class WorkWritten(WriteResult):
    work: WorkPublic


class RecordingCreate(Strict):
    title: Title
    display_artist: Name
    duration_ms: int = Field(gt=0, le=24 * 3600 * 1000)
    work_key: Key | None = None
    credits: list[Credit] = Field(default=[], max_length=200)


class AvailabilityChange(BaseModel):
    action: str
    territories: list[str]
    reason: str
    effective_at: datetime
    actor: str


def availability_of(history: list[dict[str, Any]]) -> list[AvailabilityChange]:
    return [AvailabilityChange.model_validate(change) for change in history]


class SplitInForce(BaseModel):
    version: int
    shares: dict[str, int]
    effective_from: datetime


class RecordingPublic(BaseModel):
    isrc: str
    title: str
    display_artist: str
    duration_ms: int
    work_key: str | None
    credits: list[dict[str, str]]
    availability: list[AvailabilityChange]
    splits_in_force: dict[str, SplitInForce | None]

    @classmethod
    def of(cls, rec: Recording, splits: dict[str, SplitInForce | None]) -> RecordingPublic:
        return cls(
            isrc=rec.isrc,
            title=rec.title,
            display_artist=rec.display_artist,
            duration_ms=rec.duration_ms,
            work_key=rec.work_key,
            credits=rec.credits,
            availability=availability_of(rec.availability),
            splits_in_force=splits,
        )


class RecordingWritten(WriteResult):
    recording: RecordingPublic


class ReleaseCreate(Strict):
    title: Title
    track_isrcs: list[Isrc] = Field(min_length=1, max_length=500)
    release_date: IsoDate
    label_key: Key | None = None
    release_type: Literal["album", "single", "ep", "compilation"] = "album"
    territories: list[Territory] = Field(default=["WW"], min_length=1, max_length=300)
    delivered_by: Key | None = None


class ReleasePublic(BaseModel):
    upc: str = Field(description="The key it is filed under: its UPC/EAN, else GRID:<GRid>, else a proprietary id")
    identifiers: list[str] = Field(description="Every id it was delivered with; GET /v1/releases/{id} takes any")
    title: str
    label_key: str | None
    release_type: str
    track_isrcs: list[str]
    release_date: date | None = Field(description="None while a delivery without any release date waits in review")
    territories: list[str]
    delivered_by: str | None
    status: str
    availability: list[AvailabilityChange]

    @classmethod
    def of(cls, rel: Release) -> ReleasePublic:
        return cls(
            upc=rel.upc,
            identifiers=list(rel.identifiers),
            title=rel.title,
            label_key=rel.label_key,
            release_type=rel.release_type,
            track_isrcs=rel.track_isrcs,
            release_date=rel.release_date,
            territories=rel.territories,
            delivered_by=rel.delivered_by,
            status=rel.status,
            availability=availability_of(rel.availability),
        )


class ReleaseWritten(WriteResult):
    release: ReleasePublic


class AvailabilityCreate(Strict):
    """A takedown or a reinstatement: everywhere (WW) or in the named territories."""

    territories: list[Territory] = Field(default=["WW"], min_length=1, max_length=300)
    reason: Reason
    effective_at: UtcTime | None = Field(default=None, description="Default: now.")


class AvailabilityWritten(WriteResult):
    availability: list[AvailabilityChange]
