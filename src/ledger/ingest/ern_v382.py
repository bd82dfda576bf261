"""ERN 3.8.x: 3.8, 3.8.1, 3.8.2 and 3.8.3 (one dialect; the namespace names the version).

Parties are named inline (PartyName/FullName with optional PartyId), so each distinct name gets
a message-local reference. Works come from WorkList/MusicalWork (MusicalWorkReference W…, ISWC,
MusicalWorkContributor, RightShare percentages) and are linked from a SoundRecording by
ResourceMusicalWorkReferenceList. Release and recording details sit in *DetailsByTerritory;
the Worldwide block (or else the first) is read. UpdateIndicator=UpdateMessage marks an update.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ledger.ingest.assembly import MessageParts, RawRelease, inline_party
from ledger.ingest.delivery import Credit, DeliveredRecording, DeliveredWork, Share, Writer
from ledger.ingest.ern_common import COMMON_HANDLERS, Handler, dispatch, resource_order
from ledger.ingest.fields import (
    TRACK_LEVEL_TYPES,
    Element,
    duration_ms,
    earliest_date,
    flag,
    proprietary_id,
    release_ids,
    release_type,
    release_type_values,
    role_name,
    territory_code,
    text,
    texts,
)

_DISPLAY_TITLE = "{*}Title[@TitleType='DisplayTitle']/{*}TitleText"


def _details(element: Element, name: str) -> Element | None:
    blocks = element.findall(f"{{*}}{name}")
    worldwide = [b for b in blocks if (text(b, "{*}TerritoryCode") or "") == "Worldwide"]
    return (worldwide or blocks or [None])[0]


def _party(parts: MessageParts, element: Element) -> str | None:
    name = text(element, "{*}PartyName/{*}FullName")
    if not name:
        return None
    ids: dict[str, str | None] = {"ipi": None, "isni": None, "dpid": None}
    for party_id in element.iterfind("{*}PartyId"):
        value = (party_id.text or "").strip()
        if party_id.get("IsDPID") == "true":
            ids["dpid"] = value
        elif party_id.get("IsISNI") == "true":
            ids["isni"] = value
        elif "ipi" in party_id.get("Namespace", "").lower():
            ids["ipi"] = value
    return inline_party(parts, name, **ids)


def _credits(parts: MessageParts, details: Element | None) -> list[Credit]:
    if details is None:
        return []
    credits: list[Credit] = []
    for tag, role_tag in (
        ("DisplayArtist", "ArtistRole"),
        ("ResourceContributor", "ResourceContributorRole"),
        ("IndirectResourceContributor", "IndirectResourceContributorRole"),
    ):
        for element in details.iterfind(f"{{*}}{tag}"):
            ref = _party(parts, element)
            if ref:
                credits += [Credit(ref, role_name(r)) for r in element.iterfind(f"{{*}}{role_tag}")]
    return list(dict.fromkeys(credits))


def _master_split(parts: MessageParts, details: Element | None) -> list[Share]:
    if details is None:
        return []
    return [
        Share(ref, pct)
        for controller in details.iterfind("{*}RightsController")
        if (pct := text(controller, "{*}RightSharePercentage")) and (ref := _party(parts, controller))
    ]


def read_sound_recording(element: Element, parts: MessageParts) -> None:
    path = "ResourceList/" + parts.path("SoundRecording")
    ref = text(element, "{*}ResourceReference") or ""
    proprietary = tuple(
        dict.fromkeys(
            proprietary_id(e.get("Namespace", ""), (e.text or "").strip())
            for e in element.iterfind("{*}SoundRecordingId/{*}ProprietaryId")
            if (e.text or "").strip()
        )
    )
    details = _details(element, "SoundRecordingDetailsByTerritory")
    title = text(details, _DISPLAY_TITLE) or text(element, "{*}ReferenceTitle/{*}TitleText")
    work_path = "{*}ResourceMusicalWorkReferenceList/{*}ResourceMusicalWorkReference/"
    parts.recordings[ref] = DeliveredRecording(
        reference=ref,
        isrc=text(element, "{*}SoundRecordingId/{*}ISRC") or "",
        title=title or "",
        display_artist=text(details, "{*}DisplayArtistName") or "",
        duration_ms=duration_ms(text(element, "{*}Duration")),
        work_ref=text(element, work_path + "{*}ResourceMusicalWorkReference"),
        credits=tuple(_credits(parts, details)),
        master_split=tuple(_master_split(parts, details)),
        proprietary_ids=proprietary,
        path=path,
    )


def read_musical_work(element: Element, parts: MessageParts) -> None:
    path = "WorkList/" + parts.path("MusicalWork")
    ref = text(element, "{*}MusicalWorkReference") or ""
    shares: dict[str, str] = {}
    for right_share in element.iterfind("{*}RightShare"):
        pct = text(right_share, "{*}RightSharePercentage")
        controller = right_share.find("{*}RightsController")
        holder = _party(parts, controller) if controller is not None else None
        if pct and holder:
            shares[holder] = pct
    writers = [
        Writer(party, role_name(role), shares.pop(party, None))
        for contributor in element.iterfind("{*}MusicalWorkContributor")
        if (party := _party(parts, contributor))
        for role in contributor.findall("{*}MusicalWorkContributorRole")[:1]
    ]
    writers += [Writer(party, "publisher", pct) for party, pct in shares.items()]
    parts.works[ref] = DeliveredWork(
        reference=ref,
        title=text(element, "{*}ReferenceTitle/{*}TitleText") or "",
        iswc=text(element, "{*}MusicalWorkId/{*}ISWC"),
        writers=tuple(writers),
        path=path,
    )


def _track_refs(element: Element, details: Element | None) -> list[str]:
    group = details.find("{*}ResourceGroup") if details is not None else None
    if group is not None:
        return resource_order(group)
    return texts(element, "{*}ReleaseResourceReferenceList/{*}ReleaseResourceReference")


def _release_date(element: Element, details: Element | None, where: str) -> tuple[date | None, str]:
    """ReleaseDate (per territory), GlobalReleaseDate, OriginalReleaseDate, GlobalOriginalReleaseDate."""
    candidates = (
        (details, "ReleaseDate", f"{where}/ReleaseDetailsByTerritory/ReleaseDate"),
        (element, "GlobalReleaseDate", f"{where}/GlobalReleaseDate"),
        (details, "OriginalReleaseDate", f"{where}/ReleaseDetailsByTerritory/OriginalReleaseDate"),
        (element, "GlobalOriginalReleaseDate", f"{where}/GlobalOriginalReleaseDate"),
    )
    for holder, name, path in candidates:
        found = earliest_date(holder.findall(f"{{*}}{name}")) if holder is not None else None
        if found is not None:
            return found, path
    return None, ""


def read_release(element: Element, parts: MessageParts) -> None:
    where = "ReleaseList/" + parts.path("Release")
    details = _details(element, "ReleaseDetailsByTerritory")
    type_elements = element.findall("{*}ReleaseType")
    if details is not None:
        type_elements += details.findall("{*}ReleaseType")
    types = release_type_values(type_elements)
    if types and types[0].lower() in TRACK_LEVEL_TYPES:
        return
    label = text(details, "{*}LabelName")
    territories = texts(details, "{*}TerritoryCode") if details is not None else []
    upc, grid, proprietary = release_ids(element.findall("{*}ReleaseId"))
    release_on, date_source = _release_date(element, details, where)
    parts.releases.append(
        RawRelease(
            reference=text(element, "{*}ReleaseReference") or "",
            upc=upc,
            title=text(details, _DISPLAY_TITLE) or text(element, "{*}ReferenceTitle/{*}TitleText") or "",
            release_type=release_type(
                types,
                compilation=details is not None and flag(details, "{*}IsMultiArtistCompilation"),
            ),
            display_artist=text(details, "{*}DisplayArtistName") or "",
            label_ref=inline_party(parts, label) if label else None,
            release_on=release_on,
            track_refs=_track_refs(element, details),
            territories=[territory_code(t) for t in territories],
            grid=grid,
            proprietary_ids=proprietary,
            release_types=tuple(dict.fromkeys(types)),
            release_date_source=date_source,
            path=where,
        )
    )


HANDLERS: dict[str, Handler] = {
    **COMMON_HANDLERS,
    "SoundRecording": read_sound_recording,
    "MusicalWork": read_musical_work,
    "Release": read_release,
}


def read_v382(events: Iterator[tuple[str, Element]], parts: MessageParts) -> None:
    dispatch(events, parts, HANDLERS)
