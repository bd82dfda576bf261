"""Reading single DDEX values: texts, ISO 8601 durations and dates, roles, territories, types."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
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
    return _role_of(raw)


@lru_cache(maxsize=1024)  # a feed repeats a handful of roles on every track
def _role_of(raw: str) -> str:
    snake = _CAMEL.sub("_", raw.replace(" ", "")).lower()
    return ROLE_ALIASES.get(snake, snake)


def reference_and(element: Element, ref_name: str, other: str) -> tuple[str | None, list[Element]]:
    """The stripped text of the first `ref_name` child and every `other` child, in one pass over
    a small composite (a DisplayArtist, a Contributor, a rights controller)."""
    first: Element | None = None
    found: list[Element] = []
    for child in element:
        tag = child.tag
        if type(tag) is not str:
            continue
        name = tag[tag.find("}") + 1 :]
        if name == other:
            found.append(child)
        elif name == ref_name and first is None:
            first = child
    return (first_text(first) if first is not None else None), found


def first_text(element: Element) -> str | None:
    """Stripped text, None when blank (as `Children.text` answers)."""
    return (element.text or "").strip() or None


# The DDEX ReleaseType allowed-value set (ERN 3.8 and 4.x, including values 3.8 senders still
# use), each mapped to the small internal kind; anything else (a UserDefined value, a typo) is
# kept as delivered and filed as "other".
_KIND_OF_TYPE: dict[str, ReleaseType] = {
    **dict.fromkeys(
        ("single", "multimediasingle", "singleresourcerelease", "singleresourcereleasewithcoverart"), ReleaseType.SINGLE
    ),
    "ep": ReleaseType.EP,
    "compilation": ReleaseType.COMPILATION,
    **dict.fromkeys(
        (
            "album",
            "multimediaalbum",
            "digitalboxsetrelease",
            "multimediadigitalboxedset",
            "bundle",
            "stembundle",
            "aspercontract",
        ),
        ReleaseType.ALBUM,
    ),
    **dict.fromkeys(("classicalalbum", "classicaldigitalboxedset", "classicalmultimediaalbum"), ReleaseType.CLASSICAL),
    **dict.fromkeys(("djmix", "playlist"), ReleaseType.DJ_MIX),
    **dict.fromkeys(
        (
            "videoalbum",
            "videosingle",
            "concertvideo",
            "liveeventvideo",
            "longformmusicalworkvideorelease",
            "longformnonmusicalworkvideorelease",
            "dramaticomusicalvideorelease",
            "documentary",
            "drama",
            "episode",
            "featurefilm",
            "season",
            "series",
            "shortfilm",
            "videomastertonerelease",
            "videocliprelease",
            "karaokerelease",
        ),
        ReleaseType.VIDEO,
    ),
    **dict.fromkeys(
        (
            "alerttonerelease",
            "audiobookrelease",
            "audiodramarelease",
            "backcoverimagerelease",
            "bookletbackimagerelease",
            "bookletfrontimagerelease",
            "bookletrelease",
            "ebookrelease",
            "logorelease",
            "lyricsheetrelease",
            "musicalworkbasedgamerelease",
            "nonmusicalworkbasedgamerelease",
            "ringbacktonerelease",
            "ringtonerelease",
            "sheetmusicrelease",
            "wallpaperrelease",
        ),
        ReleaseType.OTHER,
    ),
}
KNOWN_RELEASE_TYPES = frozenset(_KIND_OF_TYPE)
TRACK_LEVEL_TYPES = frozenset({"trackrelease", "videotrackrelease"})
# When a release names several types, the most specific kind wins (a DjMix that is also an Album
# is a DJ mix; a ClassicalAlbum that is also an Album is classical).
_KIND_ORDER = (
    ReleaseType.DJ_MIX,
    ReleaseType.CLASSICAL,
    ReleaseType.COMPILATION,
    ReleaseType.EP,
    ReleaseType.SINGLE,
    ReleaseType.ALBUM,
    ReleaseType.VIDEO,
    ReleaseType.OTHER,
)


def release_type_values(elements: list[Element]) -> list[str]:
    """Delivered ReleaseType values; a UserDefined one as "UserDefined:<its value>"."""
    values = []
    for element in elements:
        raw = (element.text or "").strip()
        if raw == "UserDefined":
            raw = f"UserDefined:{(element.get('UserDefinedValue') or '').strip()}"
        if raw:
            values.append(raw)
    return values


def release_type(values: list[str], *, compilation: bool) -> str:
    """The internal kind of the delivered ReleaseType values (see _KIND_OF_TYPE)."""
    if compilation:
        return ReleaseType.COMPILATION.value
    kinds = {_KIND_OF_TYPE.get(v.strip().lower(), ReleaseType.OTHER) for v in values}
    if not kinds:
        return ReleaseType.OTHER.value
    return next(k.value for k in _KIND_ORDER if k in kinds)


def release_ids(ids: list[Element]) -> tuple[str, str, tuple[str, ...]]:
    """(ICPN, GRid, proprietary ids) of ReleaseId elements; a proprietary id as "DPID:…:value"."""
    icpn = grid = ""
    proprietary: list[str] = []
    for release_id in ids:
        for child in release_id:
            tag = child.tag if isinstance(child.tag, str) else ""
            name, value = tag.rpartition("}")[2], (child.text or "").strip()
            if not value:
                continue
            if name == "ICPN" and not icpn:
                icpn = value
            elif name == "GRid" and not grid:
                grid = value
            elif name == "ProprietaryId":
                proprietary.append(proprietary_id(child.get("Namespace", ""), value))
    return icpn, grid, tuple(dict.fromkeys(proprietary))


def proprietary_id(namespace: str, value: str) -> str:
    """A sender's own id, qualified by its namespace (usually "DPID:PADPIDA…"), as one string."""
    ns = namespace.strip()
    if ns.upper().startswith("DPID:"):
        ns = "DPID:" + ns[5:].strip()
    elif ns.startswith("PADPIDA"):
        ns = "DPID:" + ns
    return f"{ns or 'unqualified'}:{value}"


def earliest_date(elements: list[Element]) -> date | None:
    """The earliest readable date among dated elements (per-territory dates: the first anywhere)."""
    dates = [d for e in elements if (d := iso_date(e.text)) is not None]
    return min(dates) if dates else None


def release_children(element: Element) -> None:
    """Drop a handled element and its finished siblings so a long file stays in bounded memory."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _first_child(element: Element, name: str) -> Element | None:
    """The first child named `name` (local name), without indexing every child."""
    for child in element:
        tag = child.tag
        if type(tag) is str and tag[tag.find("}") + 1 :] == name:
            return child
    return None


class Children:
    """An element's children by local name, built once: many lookups on one composite are then
    dict reads instead of one ElementPath search each (the hot path of a 100 000-track import)."""

    __slots__ = ("_by_name",)

    def __init__(self, element: Element | None) -> None:
        by_name: dict[str, list[Element]] = {}
        self._by_name = by_name
        if element is None:
            return
        for child in element:
            tag = child.tag
            if type(tag) is str:  # comments and processing instructions have a function as tag
                name = tag[tag.find("}") + 1 :]
                found = by_name.get(name)
                if found is None:
                    by_name[name] = [child]
                else:
                    found.append(child)

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
            element = _first_child(element, step)
        if element is None or not element.text:
            return None
        return element.text.strip() or None

    def texts(self, name: str) -> list[str]:
        return [t.strip() for e in self.all(name) if (t := e.text) and t.strip()]
