"""ERN 4.3 (namespace http://ddex.net/xml/ern/43).

Parties are listed once in PartyList and referenced by PartyReference (P…); a SoundRecording
(A…) carries its ISRC in SoundRecordingEdition/ResourceId, its work's ISWC in WorkId, its
DisplayArtists and Contributors by reference, master shares in ResourceRightsController and
publishing shares in WorkRightsController. A message holds one main Release (R…) whose
ResourceGroup orders the tracks; TrackReleases are per-track products and are not imported.
"""

from __future__ import annotations

from collections.abc import Iterator

from ledger.ingest.assembly import MessageParts, RawRelease
from ledger.ingest.delivery import (
    Credit,
    DeliveredParty,
    DeliveredRecording,
    DeliveredWork,
    PartyKind,
    Share,
    Writer,
)
from ledger.ingest.ern_common import COMMON_HANDLERS, Handler, dispatch, resource_order
from ledger.ingest.fields import (
    WRITER_ROLES,
    Children,
    Element,
    duration_ms,
    iso_date,
    release_type,
    role_name,
)


def read_party(element: Element, parts: MessageParts) -> None:
    kids = Children(element)
    ref = kids.text("PartyReference") or ""
    ids = Children(kids.one("PartyId"))
    parts.parties[ref] = DeliveredParty(
        reference=ref,
        name=kids.text("PartyName", "FullName") or "",
        kind=PartyKind.CONTRIBUTOR,
        ipi=ids.text("IpiNameNumber"),
        isni=ids.text("ISNI"),
        dpid=ids.text("DPID"),
    )


def _credits(kids: Children) -> list[Credit]:
    credits: list[Credit] = []
    for tag, ref_tag, role_tag in (
        ("DisplayArtist", "ArtistPartyReference", "DisplayArtistRole"),
        ("Contributor", "ContributorPartyReference", "Role"),
    ):
        for element in kids.all(tag):
            inner = Children(element)
            ref = inner.text(ref_tag)
            if ref:
                credits += [Credit(ref, role_name(role)) for role in inner.all(role_tag)]
    return list(dict.fromkeys(credits))


def _shares(controllers: list[Element]) -> list[Share]:
    shares = []
    for controller in controllers:
        inner = Children(controller)
        ref, pct = inner.text("RightsControllerPartyReference"), inner.text("RightSharePercentage")
        if ref and pct:
            shares.append(Share(ref, pct))
    return shares


def _work(recording_ref: str, title: str, kids: Children, credits: list[Credit]) -> DeliveredWork | None:
    """4.3 has no work list: the work is known by its ISWC, its writers by their roles."""
    iswc = kids.text("WorkId", "ISWC")
    shares = {s.party_ref: s.percentage for s in _shares(kids.all("WorkRightsController"))}
    writers = [Writer(c.party_ref, c.role, shares.pop(c.party_ref, None)) for c in credits if c.role in WRITER_ROLES]
    writers += [Writer(ref, "publisher", pct) for ref, pct in shares.items()]
    if iswc is None and not writers:
        return None
    return DeliveredWork(f"W-{recording_ref}", title, iswc, tuple(writers))


def read_sound_recording(element: Element, parts: MessageParts) -> None:
    kids = Children(element)
    ref = kids.text("ResourceReference") or ""
    # 4.3 puts the ISRC in SoundRecordingEdition; 4.1/4.2 senders put it directly in ResourceId.
    isrc = kids.text("SoundRecordingEdition", "ResourceId", "ISRC") or kids.text("ResourceId", "ISRC")
    title = kids.text("DisplayTitleText") or kids.text("DisplayTitle", "TitleText")
    credits = _credits(kids)
    work = _work(ref, title or "", kids, credits)
    if work is not None:
        parts.works[work.reference] = work
    parts.recordings[ref] = DeliveredRecording(
        reference=ref,
        isrc=isrc or "",
        title=title or "",
        display_artist=kids.text("DisplayArtistName") or "",
        duration_ms=duration_ms(kids.text("Duration")),
        work_ref=work.reference if work else None,
        credits=tuple(credits),
        master_split=tuple(_shares(kids.all("ResourceRightsController"))),
    )


def read_release(element: Element, parts: MessageParts) -> None:
    kids = Children(element)
    group = kids.one("ResourceGroup")
    parts.releases.append(
        RawRelease(
            reference=kids.text("ReleaseReference") or "",
            upc=kids.text("ReleaseId", "ICPN") or "",
            title=kids.text("DisplayTitleText") or kids.text("DisplayTitle", "TitleText") or "",
            release_type=release_type(
                kids.texts("ReleaseType"),
                compilation=(kids.text("IsMultiArtistCompilation") or "").lower() == "true",
            ),
            display_artist=kids.text("DisplayArtistName") or "",
            label_ref=kids.text("ReleaseLabelReference"),
            release_on=iso_date(kids.text("ReleaseDate")),
            track_refs=resource_order(group) if group is not None else [],
        )
    )


HANDLERS: dict[str, Handler] = {
    **COMMON_HANDLERS,
    "Party": read_party,
    "SoundRecording": read_sound_recording,
    "Release": read_release,
}


def read_v43(events: Iterator[tuple[str, Element]], parts: MessageParts) -> None:
    dispatch(events, parts, HANDLERS)
