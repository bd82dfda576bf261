"""From what a parser collected (parties, resources, releases, deals) to a DeliveryMessage.

Both ERN versions and the CSV template fill the same MessageParts; assembling them in one place
keeps one rule for what a takedown is, which territories a release has, and what kind of party
each party is.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

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
    """A takedown deal stops the release where it applies, when it ends (else on receipt)."""
    return [
        Takedown(
            upc=release.upc,
            territories=deal.territories or ("WW",),
            effective_at=deal.ends_at or created_at,
            reason="takedown deal",
            release_ref=release.reference,
        )
        for deal in deals
        if deal.takedown
    ]


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
    return DeliveredRelease(
        reference=raw.reference,
        upc=raw.upc,
        title=raw.title,
        release_type=raw.release_type,
        display_artist=raw.display_artist,
        label_ref=raw.label_ref,
        release_on=raw.release_on,
        track_refs=tuple(track_refs),
        recordings=tuple(recordings),
        works=tuple(works),
        parties=tuple(parties),
        territories=_unique(territories),
        excluded_territories=_unique(excluded),
        deals=tuple(deals),
        problems=tuple(raw.problems),
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
