"""Reading single DDEX values: texts, ISO 8601 durations and dates, roles, territories, types."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypeAlias

from lxml import etree

from ledger.ingest.delivery import WORLDWIDE, ReleaseType

Element: TypeAlias = etree._Element


def text(element: Element | None, path: str) -> str | None:
    """Stripped text at `path` ("{*}" matches any or no namespace); None when absent or blank."""
    if element is None:
        return None
    found = element.findtext(path)
    if found is None:
        return None
    stripped = found.strip()
    return stripped or None


def texts(element: Element, path: str) -> list[str]:
    return [t.strip() for e in element.iterfind(path) if (t := e.text) and t.strip()]


def flag(element: Element, path: str) -> bool:
    return (text(element, path) or "").lower() in ("true", "1")


_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


def duration_ms(value: str | None) -> int | None:
    """ISO 8601 duration (PT3M30S, PT0H8M10.5S) in whole milliseconds, rounded down."""
    match = _DURATION.match((value or "").strip())
    if not match or not any(match.groupdict().values()):
        return None
    parts = {k: Decimal(v or 0) for k, v in match.groupdict().items()}
    seconds = ((parts["d"] * 24 + parts["h"]) * 60 + parts["m"]) * 60 + parts["s"]
    return int(seconds * 1000)


def iso_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip()[:10])
    except ValueError:
        return None


def utc_datetime(value: str | None, *, assume_utc: bool) -> datetime | None:
    """An xs:dateTime as aware UTC; a zone-less value is UTC only where `assume_utc` says so."""
    raw = (value or "").strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        if not assume_utc:
            return None
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def territory_code(value: str) -> str:
    """DDEX writes the whole world as "Worldwide"; the ledger writes WW."""
    code = value.strip()
    return WORLDWIDE if code.lower() == "worldwide" else code.upper()


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
ROLE_ALIASES = {
    "artist": "main_artist",
    "primary_artist": "main_artist",
    "featuring": "featured_artist",
    "feat": "featured_artist",
    "recording_engineer": "engineer",
    "mixing_engineer": "mixer",
    "music_publisher": "publisher",
    "associated_performer": "performer",
}
WRITER_ROLES = frozenset({"composer", "lyricist", "composer_lyricist", "writer", "songwriter", "author", "arranger"})


def role_name(element: Element) -> str:
    """A DDEX role value as snake_case; UserDefined roles use their UserDefinedValue."""
    raw = (element.text or "").strip()
    if raw == "UserDefined":
        raw = element.get("UserDefinedValue", "") or raw
    snake = _CAMEL.sub("_", raw.replace(" ", "")).lower()
    return ROLE_ALIASES.get(snake, snake)


_RELEASE_TYPES = {
    "single": ReleaseType.SINGLE,
    "ep": ReleaseType.EP,
    "album": ReleaseType.ALBUM,
    "classicalalbum": ReleaseType.ALBUM,
    "compilation": ReleaseType.COMPILATION,
}
TRACK_LEVEL_TYPES = frozenset({"trackrelease", "videotrackrelease", "ringtonerelease"})


def release_type(values: list[str], *, compilation: bool) -> str:
    """The first recognised ReleaseType; a multi-artist compilation flag wins; else as given."""
    if compilation:
        return ReleaseType.COMPILATION.value
    for value in values:
        known = _RELEASE_TYPES.get(value.strip().lower())
        if known:
            return known.value
    return values[0] if values else ""


def release_children(element: Element) -> None:
    """Drop a handled element and its finished siblings so a long file stays in bounded memory."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


class Children:
    """An element's children by local name, built once: many lookups on one composite are then
    dict reads instead of one ElementPath search each (the hot path of a 100 000-track import)."""

    __slots__ = ("_by_name",)

    def __init__(self, element: Element | None) -> None:
        self._by_name: dict[str, list[Element]] = {}
        for child in element if element is not None else ():
            tag = child.tag
            if isinstance(tag, str):
                self._by_name.setdefault(tag.rpartition("}")[2], []).append(child)

    def all(self, name: str) -> list[Element]:
        return self._by_name.get(name, [])

    def one(self, name: str) -> Element | None:
        found = self._by_name.get(name)
        return found[0] if found else None

    def text(self, name: str, *path: str) -> str | None:
        """Stripped text of the first `name` child (or of `name`/`path`…); None if absent/blank."""
        element = self.one(name)
        for step in path:
            if element is None:
                return None
            element = Children(element).one(step)
        if element is None or not element.text:
            return None
        return element.text.strip() or None

    def texts(self, name: str) -> list[str]:
        return [t.strip() for e in self.all(name) if (t := e.text) and t.strip()]
