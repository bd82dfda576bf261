"""A catalogue delivery as plain values, whatever format it came in (DDEX ERN 3.8.2 / 4.3, CSV).

Parsers are tolerant: they keep what was delivered, as delivered, and note what they could not
read in `problems`. `ledger.ingest.validate` then decides, release by release, what is accepted
and returns normalised copies; a later phase turns accepted releases into ledger commands.
Every release carries the recordings, works and parties it needs, so it can be imported (or
rejected) on its own: all or nothing per release.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

PPM_WHOLE = 1_000_000
WORLDWIDE = "WW"


class MessageKind(enum.StrEnum):
    NEW = "new"
    UPDATE = "update"
    TAKEDOWN = "takedown"


class PartyKind(enum.StrEnum):
    """What a party is in this delivery, by the strongest way it is used (label beats artist)."""

    DISTRIBUTOR = "distributor"
    LABEL = "label"
    PUBLISHER = "publisher"
    ARTIST = "artist"
    WRITER = "writer"
    PRODUCER = "producer"
    PERFORMER = "performer"
    CONTRIBUTOR = "contributor"


class ReleaseType(enum.StrEnum):
    """The small internal kind a delivered ReleaseType maps to; the delivered values are kept too."""

    SINGLE = "single"
    EP = "ep"
    ALBUM = "album"
    COMPILATION = "compilation"
    DJ_MIX = "dj_mix"
    CLASSICAL = "classical"
    VIDEO = "video"
    OTHER = "other"


class InvalidShare(ValueError):
    """A share percentage that is not a number from 0 to 100 with at most four decimals."""


@lru_cache(maxsize=4096)  # pure; shares repeat (every track of a release, every release of a feed)
def percentage_to_ppm(text: str) -> int:
    """DDEX and the CSV template give shares as decimal percentages; the ledger counts ppm.

    1 % is exactly 10 000 ppm, so a percentage is exact in ppm iff it has at most four decimals;
    anything finer would have to be rounded, and the ledger never rounds a share silently.
    """
    raw = text.strip().removesuffix("%").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidShare(f"share {text!r}: not a number") from None
    if not value.is_finite() or value < 0 or value > 100:
        raise InvalidShare(f"share {text!r}: must be between 0 and 100 percent")
    ppm = value * 10_000
    if ppm != ppm.to_integral_value():
        raise InvalidShare(f"share {text!r}: not exact in parts per million (max 4 decimals)")
    return int(ppm)


def release_key(upc: str, grid: str, proprietary_ids: tuple[str, ...]) -> str:
    """The key a release is filed under: its ICPN, else its GRid, else its first proprietary id."""
    if upc:
        return upc
    if grid:
        return f"GRID:{grid}"
    return proprietary_ids[0] if proprietary_ids else ""


def release_identifiers(upc: str, grid: str, proprietary_ids: tuple[str, ...]) -> tuple[str, ...]:
    """Every identifier a sender may name the release by later, in key order."""
    return tuple(i for i in (upc, f"GRID:{grid}" if grid else "", *proprietary_ids) if i)


@dataclass(frozen=True, slots=True)
class DeliveredParty:
    """A person or company named in the message; `reference` is unique within the message."""

    reference: str
    name: str
    kind: PartyKind
    ipi: str | None = None
    isni: str | None = None
    dpid: str | None = None
    path: str = ""


@dataclass(frozen=True, slots=True)
class Credit:
    """A party credited on a recording; roles are snake_case (main_artist, featured_artist…)."""

    party_ref: str
    role: str


@dataclass(frozen=True, slots=True)
class Share:
    """A party's share of a split as delivered (a percentage); `ppm` converts it exactly."""

    party_ref: str
    percentage: str

    @property
    def ppm(self) -> int:
        return percentage_to_ppm(self.percentage)


@dataclass(frozen=True, slots=True)
class Writer:
    """A writer (or publisher) of a work, with an optional publishing share."""

    party_ref: str
    role: str
    percentage: str | None = None

    @property
    def share_ppm(self) -> int | None:
        return None if self.percentage is None else percentage_to_ppm(self.percentage)


@dataclass(frozen=True, slots=True)
class DeliveredWork:
    reference: str
    title: str
    iswc: str | None = None
    writers: tuple[Writer, ...] = ()
    path: str = ""


@dataclass(frozen=True, slots=True)
class DeliveredRecording:
    """A sound recording; `proprietary_ids` are "DPID:PADPIDA…:value" (the sender's own ids)."""

    reference: str
    isrc: str
    title: str
    display_artist: str
    duration_ms: int | None
    work_ref: str | None = None
    credits: tuple[Credit, ...] = ()
    master_split: tuple[Share, ...] = ()
    proprietary_ids: tuple[str, ...] = ()
    path: str = ""


@dataclass(frozen=True, slots=True)
class DealSummary:
    """What a deal allows: business models, uses, where, from when (and until, for a takedown)."""

    commercial_models: tuple[str, ...] = ()
    use_types: tuple[str, ...] = ()
    territories: tuple[str, ...] = ()
    excluded_territories: tuple[str, ...] = ()
    starts_on: date | None = None
    ends_at: datetime | None = None
    takedown: bool = False
    path: str = ""


@dataclass(frozen=True, slots=True)
class DeliveredRelease:
    """One release with everything it references; `track_refs` keeps the delivered order.

    A release is identified by any of its ICPN (`upc`), GRid and proprietary ids; `key` is the one
    the ledger files it under. `release_types` are the delivered ReleaseType values (UserDefined
    ones as given), `release_type` the internal kind. `review` holds what a person must look at
    before it goes live (each with its element path); `problems`/rejections are what stops it.
    """

    reference: str
    upc: str
    title: str
    release_type: str
    display_artist: str
    label_ref: str | None
    release_on: date | None
    track_refs: tuple[str, ...]
    recordings: tuple[DeliveredRecording, ...]
    works: tuple[DeliveredWork, ...] = ()
    parties: tuple[DeliveredParty, ...] = ()
    territories: tuple[str, ...] = ()
    excluded_territories: tuple[str, ...] = ()
    deals: tuple[DealSummary, ...] = ()
    problems: tuple[str, ...] = ()
    grid: str = ""
    proprietary_ids: tuple[str, ...] = ()
    release_types: tuple[str, ...] = ()
    release_date_source: str = ""
    review: tuple[str, ...] = ()
    path: str = ""

    @property
    def key(self) -> str:
        return release_key(self.upc, self.grid, self.proprietary_ids)

    @property
    def identifiers(self) -> tuple[str, ...]:
        return release_identifiers(self.upc, self.grid, self.proprietary_ids)

    @property
    def track_isrcs(self) -> tuple[str, ...]:
        by_ref = {r.reference: r.isrc for r in self.recordings}
        return tuple(by_ref[ref] for ref in self.track_refs if ref in by_ref)

    def party(self, reference: str) -> DeliveredParty | None:
        return next((p for p in self.parties if p.reference == reference), None)


@dataclass(frozen=True, slots=True)
class Takedown:
    """Stop a release (worldwide or in some territories) from `effective_at` on."""

    upc: str
    territories: tuple[str, ...] = (WORLDWIDE,)
    effective_at: datetime | None = None
    reason: str = ""
    release_ref: str = ""
    grid: str = ""
    proprietary_ids: tuple[str, ...] = ()
    path: str = ""

    @property
    def key(self) -> str:
        return release_key(self.upc, self.grid, self.proprietary_ids)

    @property
    def identifiers(self) -> tuple[str, ...]:
        return release_identifiers(self.upc, self.grid, self.proprietary_ids)


@dataclass(frozen=True, slots=True)
class DeliveryMessage:
    sender_dpid: str
    sender_name: str
    message_id: str
    created_at: datetime | None
    kind: MessageKind
    ern_version: str
    releases: tuple[DeliveredRelease, ...] = ()
    takedowns: tuple[Takedown, ...] = ()
    problems: tuple[str, ...] = field(default=())
