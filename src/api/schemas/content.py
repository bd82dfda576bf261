"""Content control payloads: a party's profile, a release's and a track's edits, a release's prices."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictInt

from api.schemas.catalogue import Credit
from api.schemas.common import IsoDate, Name, Note, Strict, Territory, Title, WriteResult, checked
from ledger.domain.party import Party
from ledger.domain.profile import BIOGRAPHY_MAX, MAX_LINKS
from ledger.domain.text import TEXT_LIMITS

Currency = Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$", examples=["EUR"])]
Micros = Annotated[StrictInt, Field(ge=0, le=10**15, description="Micro-units of the currency.")]


class Link(Strict):
    label: Annotated[str, Field(max_length=TEXT_LIMITS["title"]), checked("title")] = ""
    url: Annotated[
        str, Field(min_length=1, max_length=2_000, description="An http or https URL with a host."), checked("url")
    ]


class ProfileImage(BaseModel):
    sha256: str
    content_type: str = Field(description="Read from the image's bytes: image/png, image/jpeg, image/gif or image/webp")
    size_bytes: int
    caption: str
    url: str = Field(description="Where this server serves it (the same host; nothing from elsewhere)")


class ProfilePublic(BaseModel):
    party: str
    name: str
    biography: str
    links: list[Link]
    images: list[ProfileImage]

    @classmethod
    def of(cls, party: Party) -> ProfilePublic:
        profile = party.profile
        return cls(
            party=party.key,
            name=party.name,
            biography=profile["biography"],
            links=[Link.model_validate(link) for link in profile["links"]],
            images=[
                ProfileImage(**image, url=f"/v1/parties/{party.key}/profile/images/{image['sha256']}")
                for image in profile["images"]
            ],
        )


class ProfileUpdate(Strict):
    """The parts to change; a part left out stays as it is."""

    biography: Annotated[str, Field(max_length=BIOGRAPHY_MAX), checked("statement")] | None = None
    links: list[Link] | None = Field(default=None, max_length=MAX_LINKS)


class ProfileWritten(WriteResult):
    profile: ProfilePublic


class ReleaseEdit(Strict):
    """A release's title and date as its label or deliverer says (tracks come by delivery)."""

    title: Title | None = None
    release_date: IsoDate | None = None


class RecordingEdit(Strict):
    """A track's title, display artist and credits; duration and work stay as delivered."""

    title: Title | None = None
    display_artist: Name | None = None
    credits: list[Credit] | None = Field(default=None, max_length=200)


class ReleasePrices(BaseModel):
    upc: str
    pricing_version: int | None = Field(description="The pricing version these come from (None: no pricing yet)")
    minimums: dict[str, int] = Field(description="Currency → the least a sale may be (pay what you want above it)")
    territory_minimums: dict[str, dict[str, int]] = Field(
        description="Territory → currency → minimum there, over the release's minimum everywhere"
    )


class ReleasePricesUpdate(Strict):
    """The release's minimums, all of them: a currency or territory left out has none."""

    minimums: dict[Currency, Micros] = Field(default_factory=dict, max_length=50)
    territory_minimums: dict[Territory, dict[Currency, Micros]] = Field(default_factory=dict, max_length=300)
    reason: Note = ""


class ReleasePricesWritten(WriteResult):
    prices: ReleasePrices
