"""What a statement shows beside its hashed figures: percentages as exact text, split versions,
the platform's name, and "as known at <date>, log position N" in words.

None of this is in the canonical form (statement.canonical): it is derived from the same log at
the same position, so a statement closed before these fields existed replays to its hash.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

PLATFORM_NAME_ENV = "ROYALTY_PLATFORM_NAME"
DEFAULT_PLATFORM_NAME = "Royalty Ledger co-operative"


@lru_cache(maxsize=4096)
def percent_text(ppm: int) -> str:
    """Parts per million as an exact percentage, without trailing zeros: 333 334 → "33.3334"."""
    sign, ppm = ("-", -ppm) if ppm < 0 else ("", ppm)
    whole, rest = divmod(ppm, 10_000)
    return f"{sign}{whole}" + (f".{rest:04d}".rstrip("0") if rest else "")


def versions_text(versions: tuple[int, ...] | list[int]) -> str:
    """The split versions of a line: "2", or "1, 3" when the share was the same in both."""
    return ", ".join(str(v) for v in versions)


def platform_name() -> str:
    """The platform's name on statements: ROYALTY_PLATFORM_NAME, else a neutral default."""
    return os.environ.get(PLATFORM_NAME_ENV, "").strip() or DEFAULT_PLATFORM_NAME


def position_time(app: RoyaltyLedger, position: int) -> datetime | None:
    """When the event at a log position was recorded (None for position 0 or a gap)."""
    if position < 1:
        return None
    for note in app.read_log(position, stop=position, page=1):
        stamp = app.decode(note).timestamp
        return stamp if isinstance(stamp, datetime) else None
    return None


def known_at_words(at: datetime | None, position: int) -> str:
    """ "as known at 2 December 2026, 14:03 UTC, log position 1 234" """
    where = f"log position {position:,}".replace(",", " ")
    if at is None:
        return f"as known at {where}"
    return f"as known at {at.day} {at:%B %Y, %H:%M} UTC, {where}"


@dataclass(frozen=True)
class Letterhead:
    """Who issues a statement, to whom, and as known when (the PDF's page header)."""

    platform: str
    payee: str
    known_at: datetime | None = None
