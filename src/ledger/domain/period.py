"""Periods: calendar months in UTC, half-open [start, end)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


class InvalidTime(ValueError):
    """A time that is not an aware UTC instant, or a malformed period."""


def require_utc(value: datetime, what: str = "time") -> datetime:
    """Refuse naive or non-UTC datetimes: every instant in the ledger is aware UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidTime(f"{what} {value.isoformat()}: has no time zone, expected UTC")
    if value.utcoffset() != UTC.utcoffset(None):
        raise InvalidTime(f"{what} {value.isoformat()}: not UTC")
    return value.astimezone(UTC)


def parse_utc(text: str, what: str = "time") -> datetime:
    """Parse an ISO 8601 instant that states UTC ('Z' or '+00:00')."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidTime(f"{what} {text!r}: not an ISO 8601 time") from None
    return require_utc(value, what)


@dataclass(frozen=True, slots=True, order=True)
class Period:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1970 <= self.year <= 9999:
            raise InvalidTime(f"period {self.year}-{self.month:02d}: no such month")

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.match(text.strip())
        if not match:
            raise InvalidTime(f"period {text!r}: expected YYYY-MM")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, instant: datetime) -> Period:
        instant = require_utc(instant)
        return cls(instant.year, instant.month)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.next().start

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
