"""ERN 4.x: 4.1, 4.1.1, 4.2, 4.3 and its revisions (one dialect; the namespace names the version).

Parties are listed once in PartyList and referenced by PartyReference (P…); a SoundRecording
(A…) carries its ISRC in SoundRecordingEdition/ResourceId, its work's ISWC in WorkId, its
DisplayArtists and Contributors by reference, master shares in ResourceRightsController and
publishing shares in WorkRightsController. A message holds one main Release (R…) whose
ResourceGroup orders the tracks; TrackReleases are per-track products and are not imported.
4.1 and 4.2 senders put the ISRC directly in ResourceId; both places are read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

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
    earliest_date,
    first_text,
    proprietary_id,
    reference_and,
    release_ids,
    release_type,
    release_type_values,
    role_name,
)


def read_party(element: Element, parts: MessageParts) -> None:
    kids = Children(element)
    path = "PartyList/" + parts.path("Party")
    ref = kids.text("PartyReference") or ""
    ids = Children(kids.one("PartyId"))
    parts.parties[ref] = DeliveredParty(
        reference=ref,
        name=kids.text("PartyName", "FullName") or "",
        kind=PartyKind.CONTRIBUTOR,
        ipi=ids.text("IpiNameNumber"),
        isni=ids.text("ISNI"),
        dpid=ids.text("DPID"),
        path=path,
    )


def _credits(kids: Children) -> list[Credit]:
    credits: list[Credit] = []
    for tag, ref_tag, role_tag in (
        ("DisplayArtist", "ArtistPartyReference", "DisplayArtistRole"),
        ("Contributor", "ContributorPartyReference", "Role"),
    ):
        for element in kids.all(tag):
            ref, roles = reference_and(element, ref_tag, role_tag)
            if ref:
                credits += [Credit(ref, role_name(role)) for role in roles]
    return list(dict.fromkeys(credits))


def _shares(controllers: list[Element]) -> list[Share]:
    shares = []
    for controller in controllers:
        ref, found = reference_and(controller, "RightsControllerPartyReference", "RightSharePercentage")
        pct = first_text(found[0]) if found else None
        if ref and pct:
            shares.append(Share(ref, pct))
    return shares


def _work(recording_ref: str, title: str, kids: Children, credits: list[Credit], path: str) -> DeliveredWork | None:
    """4.3 has no work list: the work is known by its ISWC, its writers by their roles."""
    iswc = kids.text("WorkId", "ISWC")
    shares = {s.party_ref: s.percentage for s in _shares(kids.all("WorkRightsController"))}
    writers = [Writer(c.party_ref, c.role, shares.pop(c.party_ref, None)) for c in credits if c.role in WRITER_ROLES]
    writers += [Writer(ref, "publisher", pct) for ref, pct in shares.items()]
    if iswc is None and not writers:
        return None
    return DeliveredWork(f"W-{recording_ref}", title, iswc, tuple(writers), path)


def _recording_ids(kids: Children) -> tuple[str, tuple[str, ...]]:
    """ISRC and proprietary ids; 4.3 puts them in SoundRecordingEdition, 4.1/4.2 in ResourceId."""
    isrc = ""
    proprietary: list[str] = []
    blocks = [e.find("{*}ResourceId") for e in kids.all("SoundRecordingEdition")] + kids.all("ResourceId")
    for block in blocks:
        for child in block if block is not None else ():
            name = child.tag.rpartition("}")[2] if isinstance(child.tag, str) else ""
            value = (child.text or "").strip()
            if name == "ISRC" and value and not isrc:
                isrc = value
            elif name == "ProprietaryId" and value:
                proprietary.append(proprietary_id(child.get("Namespace", ""), value))
    return isrc, tuple(dict.fromkeys(proprietary))


def read_sound_recording(element: Element, parts: MessageParts) -> None:
    kids = Children(element)
    path = "ResourceList/" + parts.path("SoundRecording")
    ref = kids.text("ResourceReference") or ""
    isrc, proprietary = _recording_ids(kids)
    title = kids.text("DisplayTitleText") or kids.text("DisplayTitle", "TitleText")
    credits = _credits(kids)
    work = _work(ref, title or "", kids, credits, path)
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
        proprietary_ids=proprietary,
        path=path,
    )


def _release_date(kids: Children, where: str) -> tuple[date | None, str]:
    """ReleaseDate, else OriginalReleaseDate (4.x has no Global* dates); the earliest of per-territory ones."""
    for name in ("ReleaseDate", "OriginalReleaseDate"):
        found = earliest_date(kids.all(name))
        if found is not None:
            return found, f"{where}/{name}"
    return None, ""


def read_release(element: Element, parts: MessageParts) -> None:
    kids = Children(element)
    where = "ReleaseList/" + parts.path("Release")
    group = kids.one("ResourceGroup")
    upc, grid, proprietary = release_ids(kids.all("ReleaseId"))
    types = release_type_values(kids.all("ReleaseType"))
    release_on, date_source = _release_date(kids, where)
    parts.releases.append(
        RawRelease(
            reference=kids.text("ReleaseReference") or "",
            upc=upc,
            title=kids.text("DisplayTitleText") or kids.text("DisplayTitle", "TitleText") or "",
            release_type=release_type(
                types,
                compilation=(kids.text("IsMultiArtistCompilation") or "").lower() == "true",
            ),
            display_artist=kids.text("DisplayArtistName") or "",
            label_ref=kids.text("ReleaseLabelReference"),
            release_on=release_on,
            track_refs=resource_order(group) if group is not None else [],
            grid=grid,
            proprietary_ids=proprietary,
            release_types=tuple(types),
            release_date_source=date_source,
            path=where,
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
