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
    Element,
    duration_ms,
    flag,
    iso_date,
    release_type,
    role_name,
    text,
    texts,
)


def read_party(element: Element, parts: MessageParts) -> None:
    ref = text(element, "{*}PartyReference") or ""
    ids = element.find("{*}PartyId")
    parts.parties[ref] = DeliveredParty(
        reference=ref,
        name=text(element, "{*}PartyName/{*}FullName") or "",
        kind=PartyKind.CONTRIBUTOR,
        ipi=text(ids, "{*}IpiNameNumber"),
        isni=text(ids, "{*}ISNI"),
        dpid=text(ids, "{*}DPID"),
    )


def _credits(element: Element) -> list[Credit]:
    credits = [
        Credit(ref, role_name(role))
        for artist in element.iterfind("{*}DisplayArtist")
        if (ref := text(artist, "{*}ArtistPartyReference"))
        for role in artist.iterfind("{*}DisplayArtistRole")
    ]
    for contributor in element.iterfind("{*}Contributor"):
        ref = text(contributor, "{*}ContributorPartyReference")
        if ref:
            credits += [Credit(ref, role_name(r)) for r in contributor.iterfind("{*}Role")]
    return list(dict.fromkeys(credits))


def _shares(element: Element, path: str) -> list[Share]:
    return [
        Share(ref, pct)
        for controller in element.iterfind(path)
        if (ref := text(controller, "{*}RightsControllerPartyReference"))
        and (pct := text(controller, "{*}RightSharePercentage"))
    ]


def _work(
    recording_ref: str, title: str, element: Element, credits: list[Credit]
) -> DeliveredWork | None:
    """4.3 has no work list: the work is known by its ISWC, its writers by their roles."""
    iswc = text(element, "{*}WorkId/{*}ISWC")
    shares = {s.party_ref: s.percentage for s in _shares(element, "{*}WorkRightsController")}
    writers = [
        Writer(c.party_ref, c.role, shares.pop(c.party_ref, None))
        for c in credits
        if c.role in WRITER_ROLES
    ]
    writers += [Writer(ref, "publisher", pct) for ref, pct in shares.items()]
    if iswc is None and not writers:
        return None
    return DeliveredWork(f"W-{recording_ref}", title, iswc, tuple(writers))


def read_sound_recording(element: Element, parts: MessageParts) -> None:
    ref = text(element, "{*}ResourceReference") or ""
    isrc = text(element, "{*}SoundRecordingEdition/{*}ResourceId/{*}ISRC") or text(
        element, "{*}ResourceId/{*}ISRC"
    )
    title = text(element, "{*}DisplayTitleText") or text(element, "{*}DisplayTitle/{*}TitleText")
    credits = _credits(element)
    work = _work(ref, title or "", element, credits)
    if work is not None:
        parts.works[work.reference] = work
    parts.recordings[ref] = DeliveredRecording(
        reference=ref,
        isrc=isrc or "",
        title=title or "",
        display_artist=text(element, "{*}DisplayArtistName") or "",
        duration_ms=duration_ms(text(element, "{*}Duration")),
        work_ref=work.reference if work else None,
        credits=tuple(credits),
        master_split=tuple(_shares(element, "{*}ResourceRightsController")),
    )


def read_release(element: Element, parts: MessageParts) -> None:
    group = element.find("{*}ResourceGroup")
    parts.releases.append(
        RawRelease(
            reference=text(element, "{*}ReleaseReference") or "",
            upc=text(element, "{*}ReleaseId/{*}ICPN") or "",
            title=text(element, "{*}DisplayTitleText")
            or text(element, "{*}DisplayTitle/{*}TitleText")
            or "",
            release_type=release_type(
                texts(element, "{*}ReleaseType"),
                compilation=flag(element, "{*}IsMultiArtistCompilation"),
            ),
            display_artist=text(element, "{*}DisplayArtistName") or "",
            label_ref=text(element, "{*}ReleaseLabelReference"),
            release_on=iso_date(text(element, "{*}ReleaseDate")),
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
