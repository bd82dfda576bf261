"""Shared field types: validated identifiers, aware UTC times, ppm shares, write results."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from ledger.domain.identifiers import parse_isrc, parse_iswc, parse_release_reference, parse_territory, parse_upc
from ledger.domain.period import require_utc
from ledger.domain.shares import PPM_WHOLE, validate_shares
from ledger.domain.text import TEXT_LIMITS, text_problem


def _territory(value: str) -> str:
    return parse_territory(value, allow_worldwide=True)


def _utc(value: datetime) -> datetime:
    return require_utc(value)


def checked(kind: str) -> AfterValidator:
    """The ledger's rule for a text of this kind (ledger.domain.text): 422 naming the character."""

    def check(value: str) -> str:
        found = text_problem(value, kind)
        if found is not None:
            raise ValueError(found[1])
        return value

    return AfterValidator(check)


_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def _instant_text(value: object) -> object:
    """Times come as ISO 8601 text: pydantic alone would also read a number as Unix seconds."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_INSTANT.match(value):
        raise ValueError("give an ISO 8601 instant in UTC as text, e.g. 2026-01-01T00:00:00Z")
    return value


def _date_text(value: object) -> object:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("give an ISO 8601 date as text, e.g. 2026-01-01")
    return value


Key = Annotated[
    str,
    Field(
        min_length=1,
        max_length=TEXT_LIMITS["key"],
        pattern=r"^[^/\s][^/]*$",
        description="A party or work key: no slash, no control character.",
    ),
    checked("key"),
]
Isrc = Annotated[str, Field(min_length=12, max_length=15, examples=["GBAYE2600001"]), AfterValidator(parse_isrc)]
Upc = Annotated[str, Field(min_length=12, max_length=17, examples=["5012345678900"]), AfterValidator(parse_upc)]
ReleaseRef = Annotated[
    str,
    Field(
        min_length=12,
        max_length=TEXT_LIMITS["id"],
        examples=["5012345678900", "GRID:A12425GABC1234002M", "DPID:PADPIDA2014120301U:REL-1"],
        description="A release as senders name it: its UPC/EAN, its GRid (GRID:<GRid> or bare), or a "
        "namespaced proprietary id (NAMESPACE:VALUE, e.g. DPID:<DPID>:<id>).",
    ),
    checked("id"),
    AfterValidator(parse_release_reference),
]
Iswc = Annotated[str, Field(max_length=20, examples=["T-034.524.680-1"]), AfterValidator(parse_iswc)]
Territory = Annotated[str, Field(min_length=2, max_length=9, examples=["GB", "WW"]), AfterValidator(_territory)]
UtcTime = Annotated[
    AwareDatetime,
    BeforeValidator(_instant_text),
    AfterValidator(_utc),
    Field(description="An ISO 8601 instant in UTC (Z or +00:00), as text."),
]
IsoDate = Annotated[date, BeforeValidator(_date_text), Field(description="An ISO 8601 date (YYYY-MM-DD), as text.")]
Ppm = Annotated[StrictInt, Field(gt=0, le=PPM_WHOLE, description="Parts per million.")]
Shares = Annotated[
    dict[Key, Ppm],
    Field(min_length=1, max_length=500, description="Party key → ppm; the shares sum to exactly 1 000 000."),
    AfterValidator(validate_shares),
]
# Multi-line texts: TAB, LF and CR allowed, no other control character.
Reason = Annotated[str, Field(min_length=1, max_length=TEXT_LIMITS["reason"]), checked("reason")]
Note = Annotated[str, Field(max_length=TEXT_LIMITS["reason"]), checked("reason")]
Title = Annotated[str, Field(min_length=1, max_length=TEXT_LIMITS["title"]), checked("title")]
Name = Annotated[str, Field(min_length=1, max_length=TEXT_LIMITS["name"]), checked("name")]
Code = Annotated[str, Field(min_length=1, max_length=TEXT_LIMITS["code"]), checked("code")]
Label = Annotated[str, Field(max_length=TEXT_LIMITS["key"]), checked("key")]


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class WriteResult(BaseModel):
    """Every write answers with the log position that holds it; pass it back as min_position."""

    position: int = Field(
        description="Log position of the last event this write recorded (the head when nothing changed)."
    )
    changed: bool = Field(description="False when the request matched what was already recorded.")


class Stamp(BaseModel):
    """When and by whom something was recorded in the log."""

    position: int
    recorded_at: datetime
    actor: str
