"""From what a parser collected (parties, resources, releases, deals) to a DeliveryMessage.

Both ERN versions and the CSV template fill the same MessageParts; assembling them in one place
keeps one rule for what a takedown is, which territories a release has, and what kind of party
each party is.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

import pycountry

from ledger.ingest.delivery import (
    DealSummary,
    DeliveredParty,
    DeliveredRecording,
    DeliveredRelease,
    DeliveredWork,
    DeliveryMessage,
    MessageKind,
    PartyKind,
    Takedown,
)
from ledger.ingest.fields import WRITER_ROLES


@dataclass
class RawRelease:
    reference: str
    upc: str
    title: str
    release_type: str
    display_artist: str
    label_ref: str | None
    release_on: date | None
    track_refs: list[str]
    territories: list[str] = field(default_factory=list)
    excluded_territories: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    grid: str = ""
    proprietary_ids: tuple[str, ...] = ()
    release_types: tuple[str, ...] = ()
    release_date_source: str = ""
    path: str = ""


@dataclass
class MessageParts:
    ern_version: str
    kind: MessageKind = MessageKind.NEW
    sender_dpid: str = ""
    sender_name: str = ""
    message_id: str = ""
    created_at: datetime | None = None
    problems: list[str] = field(default_factory=list)
    parties: dict[str, DeliveredParty] = field(default_factory=dict)
    recordings: dict[str, DeliveredRecording] = field(default_factory=dict)
    works: dict[str, DeliveredWork] = field(default_factory=dict)
    other_resources: set[str] = field(default_factory=set)
    releases: list[RawRelease] = field(default_factory=list)
    deals: dict[str, list[DealSummary]] = field(default_factory=dict)
    takedowns: list[Takedown] = field(default_factory=list)
    inline_refs: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def path(self, name: str) -> str:
        """The element path of the next `name` element read, e.g. ReleaseList/Release[2]."""
        number = self.counts[name] = self.counts.get(name, 0) + 1
        return f"{name}[{number}]"


_KIND_RANK = list(PartyKind)


def _kind_for_role(role: str) -> PartyKind:
    if role in ("main_artist", "featured_artist", "display_artist"):
        return PartyKind.ARTIST
    if role in WRITER_ROLES:
        return PartyKind.WRITER
    if role == "publisher":
        return PartyKind.PUBLISHER
    if role == "producer":
        return PartyKind.PRODUCER
    if "perform" in role or role in ("vocalist", "musician", "instrumentalist"):
        return PartyKind.PERFORMER
    return PartyKind.CONTRIBUTOR


def _party_kinds(parts: MessageParts) -> dict[str, PartyKind]:
    seen: dict[str, PartyKind] = {}

    def note(ref: str, kind: PartyKind) -> None:
        current = seen.get(ref)
        if current is None or _KIND_RANK.index(kind) < _KIND_RANK.index(current):
            seen[ref] = kind

    for release in parts.releases:
        if release.label_ref:
            note(release.label_ref, PartyKind.LABEL)
    for recording in parts.recordings.values():
        for credit in recording.credits:
            note(credit.party_ref, _kind_for_role(credit.role))
        for share in recording.master_split:
            note(share.party_ref, PartyKind.CONTRIBUTOR)
    for work in parts.works.values():
        for writer in work.writers:
            note(writer.party_ref, _kind_for_role(writer.role))
    return seen


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _referenced_parties(
    release: RawRelease, recordings: list[DeliveredRecording], works: list[DeliveredWork]
) -> list[str]:
    refs = [release.label_ref] if release.label_ref else []
    for recording in recordings:
        refs += [c.party_ref for c in recording.credits]
        refs += [s.party_ref for s in recording.master_split]
    for work in works:
        refs += [w.party_ref for w in work.writers]
    return list(dict.fromkeys(refs))


def _takedowns(release: RawRelease, deals: list[DealSummary], created_at: datetime | None) -> list[Takedown]:
    """A takedown deal stops the release where it applies, when it ends (else on receipt).

    "Worldwide except X" that ends stops it everywhere but X: the exclusions are still available.
    """
    takedowns = []
    for deal in deals:
        if not deal.takedown:
            continue
        territories = deal.territories or ("WW",)
        if deal.excluded_territories:
            territories = tuple(_expand(territories, deal.excluded_territories))
        takedowns.append(
            Takedown(
                upc=release.upc,
                territories=territories,
                effective_at=deal.ends_at or created_at,
                reason="deal ended" if deal.ends_at else "takedown deal",
                release_ref=release.reference,
                grid=release.grid,
                proprietary_ids=release.proprietary_ids,
                path=deal.path,
            )
        )
    return takedowns


def _expand(territories: tuple[str, ...], excluded: tuple[str, ...]) -> list[str]:
    """Territories minus exclusions, with "WW" spelled out as every ISO 3166 country."""
    base = {c.alpha_2 for c in pycountry.countries} if "WW" in territories else set(territories)
    return sorted(base - set(excluded))


def _release_date(raw: RawRelease, deals: list[DealSummary]) -> tuple[date | None, str, tuple[str, ...]]:
    """The delivered release date; else the earliest deal start; else none, for review to decide."""
    if raw.release_on is not None:
        return raw.release_on, raw.release_date_source, ()
    started = [(d.starts_on, d.path) for d in deals if d.starts_on is not None]
    if started:
        starts_on, path = min(started)
        return starts_on, f"{path}/ValidityPeriod/StartDate", ()
    where = raw.path or "Release"
    return (
        None,
        "",
        (
            f"{where}: no release date: none of ReleaseDate, OriginalReleaseDate, GlobalOriginalReleaseDate "
            "and no deal with a ValidityPeriod/StartDate; re-deliver with a date, or approve to release it "
            "undated",
        ),
    )


def _build_release(parts: MessageParts, raw: RawRelease, kinds: dict[str, PartyKind]) -> DeliveredRelease:
    deals = [d for d in parts.deals.get(raw.reference, []) if not d.takedown]
    track_refs = [r for r in raw.track_refs if r not in parts.other_resources]
    recordings = [parts.recordings[r] for r in track_refs if r in parts.recordings]
    work_refs = _unique([r.work_ref for r in recordings if r.work_ref])
    works = [parts.works[w] for w in work_refs if w in parts.works]
    parties = [
        replace(parts.parties[ref], kind=kinds.get(ref, PartyKind.CONTRIBUTOR))
        for ref in _referenced_parties(raw, recordings, works)
        if ref in parts.parties
    ]
    territories = [t for d in deals for t in d.territories] or raw.territories
    excluded = [t for d in deals for t in d.excluded_territories] or raw.excluded_territories
    release_on, date_source, review = _release_date(raw, deals)
    return DeliveredRelease(
        reference=raw.reference,
        upc=raw.upc,
        title=raw.title,
        release_type=raw.release_type,
        display_artist=raw.display_artist,
        label_ref=raw.label_ref,
        release_on=release_on,
        track_refs=tuple(track_refs),
        recordings=tuple(recordings),
        works=tuple(works),
        parties=tuple(parties),
        territories=_unique(territories),
        excluded_territories=_unique(excluded),
        deals=tuple(deals),
        problems=tuple(raw.problems),
        grid=raw.grid,
        proprietary_ids=raw.proprietary_ids,
        release_types=raw.release_types,
        release_date_source=date_source,
        review=review,
        path=raw.path,
    )


def assemble(parts: MessageParts) -> DeliveryMessage:
    kinds = _party_kinds(parts)
    releases: list[DeliveredRelease] = []
    takedowns = list(parts.takedowns)
    for raw in parts.releases:
        deals = parts.deals.get(raw.reference, [])
        takedowns += _takedowns(raw, deals, parts.created_at)
        if deals and all(d.takedown for d in deals):
            continue
        releases.append(_build_release(parts, raw, kinds))
    kind = parts.kind
    if takedowns and not releases:
        kind = MessageKind.TAKEDOWN
    return DeliveryMessage(
        sender_dpid=parts.sender_dpid,
        sender_name=parts.sender_name,
        message_id=parts.message_id,
        created_at=parts.created_at,
        kind=kind,
        ern_version=parts.ern_version,
        releases=tuple(releases),
        takedowns=tuple(takedowns),
        problems=tuple(parts.problems),
    )


def inline_party(
    parts: MessageParts,
    name: str,
    *,
    ipi: str | None = None,
    isni: str | None = None,
    dpid: str | None = None,
) -> str:
    """A message-local reference for a party named inline (ERN 3.8, CSV): one per name."""
    key = "name:" + name.strip().casefold()
    ref = parts.inline_refs.get(key)
    if ref is None:
        ref = parts.inline_refs[key] = f"P{len(parts.inline_refs) + 1}"
        parts.parties[ref] = DeliveredParty(ref, name.strip(), PartyKind.CONTRIBUTOR)
    known = parts.parties[ref]
    parts.parties[ref] = replace(known, ipi=known.ipi or ipi, isni=known.isni or isni, dpid=known.dpid or dpid)
    return ref
