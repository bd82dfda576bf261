"""One accepted release (or takedown) as ledger changes, prepared in a Pending batch and saved whole.

Parties are upserted by merging (kinds and identifiers are added, a registered name is kept),
works and recordings are upserted, a delivered split is recorded as the initial version when the
subject has none and proposed (awaiting acceptance, never activated by a delivery) when it differs
from every version on record. The release goes live when its sender is verified, else it waits in
review. A release already delivered by another sender is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pycountry

from ledger.catalogue import ReleaseDetails
from ledger.domain.alias import IdentifierAlias
from ledger.domain.identifiers import parse_release_key
from ledger.domain.ids import alias_id, party_id, recording_id, release_id, split_agreement_id, work_id
from ledger.domain.party import DomainError, Party
from ledger.domain.recording import CREDIT_ROLES
from ledger.domain.release import Release
from ledger.domain.split_agreement import SplitAgreement
from ledger.ingest.delivery import DealSummary, DeliveredParty, DeliveredRelease, PartyKind, Takedown
from ledger.ingest.fields import WRITER_ROLES
from ledger.ingest.parties import PartyDirectory, conflicts, delivered_identifiers
from ledger.pending import Pending
from ledger.store.existing import existing_ids

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

_CREDIT_ALIASES = {
    "composer_lyricist": "composer",
    "songwriter": "writer",
    "author": "writer",
    "display_artist": "main_artist",
    "musician": "session_musician",
    "instrumentalist": "session_musician",
    "vocalist": "performer",
}
_KIND_OF_ROLE = {
    "main_artist": "artist",
    "featured_artist": "artist",
    "producer": "producer",
    "engineer": "engineer",
    "mastering_engineer": "engineer",
    "mixer": "mixer",
    "performer": "performer",
    "session_musician": "musician",
    "remixer": "artist",
    "publisher": "publisher",
}
_KIND_OF_DELIVERED = {
    PartyKind.DISTRIBUTOR: "distributor",
    PartyKind.LABEL: "label",
    PartyKind.PUBLISHER: "publisher",
    PartyKind.ARTIST: "artist",
    PartyKind.WRITER: "writer",
    PartyKind.PRODUCER: "producer",
    PartyKind.PERFORMER: "performer",
}


@dataclass(frozen=True)
class Sender:
    """Who delivered the message: its party (maybe registered in this batch) and whether verified."""

    key: str
    party: DeliveredParty
    verified: bool
    suspended: bool


@dataclass(frozen=True)
class Delivery:
    """What every change of one message shares: who sent it, which message, acting as whom, when."""

    sender: Sender
    message_id: str
    created_at: datetime
    actor: str
    directory: PartyDirectory
    content_sha256: str = ""


def credit_role(role: str) -> str:
    role = _CREDIT_ALIASES.get(role, role)
    return role if role in CREDIT_ROLES else "other"


def deal_record(deal: DealSummary) -> dict[str, Any]:
    """A delivered deal as the release records it (plain JSON values)."""
    return {
        "territories": list(deal.territories),
        "excluded_territories": list(deal.excluded_territories),
        "starts_on": deal.starts_on.isoformat() if deal.starts_on else None,
        "ends_at": deal.ends_at.isoformat() if deal.ends_at else None,
        "commercial_models": list(deal.commercial_models),
        "use_types": list(deal.use_types),
    }


def territories_of(release: DeliveredRelease) -> list[str]:
    """Where the release is available; "everywhere except X" becomes the explicit list."""
    included = set(release.territories) or {"WW"}
    excluded = set(release.excluded_territories)
    if not excluded:
        return sorted(included)
    base = {c.alpha_2 for c in pycountry.countries} if "WW" in included else included
    return sorted(base - excluded)


def _kinds_by_ref(release: DeliveredRelease) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {p.reference: set() for p in release.parties}
    for p in release.parties:
        if p.kind in _KIND_OF_DELIVERED:
            kinds[p.reference].add(_KIND_OF_DELIVERED[p.kind])
    if release.label_ref in kinds:
        kinds[release.label_ref].add("label")
    for rec in release.recordings:
        for c in rec.credits:
            kind = _KIND_OF_ROLE.get(credit_role(c.role))
            if kind and c.party_ref in kinds:
                kinds[c.party_ref].add(kind)
    for work in release.works:
        for w in work.writers:
            if w.party_ref in kinds:
                kinds[w.party_ref].add("writer" if w.role in WRITER_ROLES else _KIND_OF_ROLE.get(w.role, "publisher"))
    return kinds


def _merged_kinds(known: list[str], delivered: set[str]) -> list[str]:
    kinds = set(known) | delivered
    return sorted(kinds - {"other"} if len(kinds) > 1 else kinds or {"other"})


def _upsert_party(
    app: RoyaltyLedger, d: Delivery, key: str, party: DeliveredParty, kinds: set[str], pending: Pending
) -> None:
    ids = delivered_identifiers(party)
    known = d.directory.by_key.get(key)
    pending_party = pending.aggregates.get(party_id(key))
    if isinstance(pending_party, Party):
        current = (pending_party.name, list(pending_party.kinds), dict(pending_party.identifiers))
    elif known is not None:
        current = (known.name, known.kinds, known.identifiers)
    else:
        pending.add(Party(key=key, name=party.name, kinds=_merged_kinds([], kinds), identifiers=ids, actor=d.actor))
        return
    name, known_kinds, known_ids = current
    clash = conflicts(known_ids, ids)
    if clash:
        raise DomainError(
            f"party {party.name}: {', '.join(t.upper() + ' ' + ids[t] for t in clash)} "
            f"differs from party {key}'s registered {', '.join(known_ids[t] for t in clash)}"
        )
    new_kinds, new_ids = _merged_kinds(known_kinds, kinds), {**known_ids, **ids}
    if (new_kinds, new_ids) != (sorted(known_kinds), known_ids):
        target = pending.find(Party, party_id(key), f"party {key}")
        assert target is not None
        target.update_details(name=name, kinds=new_kinds, identifiers=dict(sorted(new_ids.items())), actor=d.actor)


def _party_keys(d: Delivery, release: DeliveredRelease, pending: Pending) -> dict[str, str]:
    keys: dict[str, str] = {}
    # Parties keyed earlier in this batch (not yet in the directory) hold their identifiers too;
    # only the keys `resolve` may weigh are looked up (not every aggregate of the group).
    taken: dict[str, dict[str, str]] = {}
    for party in release.parties:
        for key in d.directory.candidates(party):
            found = pending.aggregates.get(party_id(key))
            if isinstance(found, Party):
                taken[key] = dict(found.identifiers)
    for party in release.parties:
        key = d.directory.resolve(party, taken)
        keys[party.reference] = key
        taken[key] = {**taken.get(key, {}), **delivered_identifiers(party)}
    return keys


def _split(
    app: RoyaltyLedger,
    d: Delivery,
    right: str,
    subject: str,
    shares: dict[str, int],
    effective_from: datetime,
    pending: Pending,
) -> None:
    """The initial version when there is none; a proposal when it differs from every version."""
    agreement = pending.find(SplitAgreement, split_agreement_id(right, subject), f"{right} split of {subject}")
    if agreement is None or not agreement.versions:
        app._prepare_split(
            right,
            subject,
            shares,
            effective_from,
            d.actor,
            f"delivered in message {d.message_id}",
            "initial",
            pending,
            one_event=True,
        )
        return
    if any(v["shares"] == shares for v in agreement.versions):
        return
    agreement.propose(
        shares,
        max(effective_from, d.created_at),
        d.sender.key,
        f"re-delivered in message {d.message_id}",
        d.actor,
        "change",
    )


def _shares(keys: dict[str, str], pairs: list[tuple[str, int]]) -> dict[str, int]:
    shares: dict[str, int] = {}
    for ref, ppm in pairs:
        shares[keys[ref]] = shares.get(keys[ref], 0) + ppm
    return shares


def release_candidates(identifiers: Iterable[str]) -> list[UUID]:
    """The ids under which a release named by these identifiers may be on record, or pointed at."""
    keys = [parse_release_key(i) for i in identifiers]
    return [release_id(k) for k in keys] + [alias_id("release", k) for k in keys]


def aggregate_ids(release: DeliveredRelease) -> set[UUID]:
    """Every aggregate id the release may touch, parties aside (those the directory knows)."""
    ids = set(release_candidates(release.identifiers))
    for rec in release.recordings:
        ids |= {alias_id("recording", p) for p in rec.proprietary_ids}
        if rec.isrc:
            ids |= {recording_id(rec.isrc), split_agreement_id("master", rec.isrc)}
    for work_key in _work_keys(release).values():
        ids |= {work_id(work_key), split_agreement_id("publishing", work_key)}
    return ids


def _known_parties(d: Delivery, keys: Iterable[str], pending: Pending) -> None:
    """Parties exist iff the directory (or this batch) has them: no query per party."""
    for key in {*keys, d.sender.key}:
        (pending.present if key in d.directory.by_key else pending.absent).add(party_id(key))


def _prefetch(app: RoyaltyLedger, release: DeliveredRelease) -> Pending:
    ids = aggregate_ids(release)
    present = existing_ids(app, ids)
    return Pending(app, present=present, absent=ids - present)


def _work_keys(release: DeliveredRelease) -> dict[str, str]:
    """A work is keyed by its ISWC; without one, by the first recording of it in the release."""
    keys = {w.reference: w.iswc for w in release.works if w.iswc}
    for rec in release.recordings:
        if rec.work_ref and rec.work_ref not in keys:
            keys[rec.work_ref] = f"work-of-{rec.isrc}"
    return keys


def _aliased(pending: Pending, kind: str, identifier: str) -> str | None:
    alias = pending.find(IdentifierAlias, alias_id(kind, identifier), f"{kind} alias {identifier}")
    return alias.key if alias is not None else None


def resolve_release_key(pending: Pending, identifiers: tuple[str, ...], default: str) -> str:
    """The key the release is on record under: any id it is filed under, else any alias, else `default`."""
    keys = [parse_release_key(i) for i in identifiers]
    for key in keys:
        if pending.exists(release_id(key)):
            return key
    for key in keys:
        target = _aliased(pending, "release", key)
        if target is not None:
            return target
    return parse_release_key(default) if default else default


def _alias(pending: Pending, d: Delivery, kind: str, identifiers: Iterable[str], key: str) -> None:
    """Point every other identifier at `key`; one that already points elsewhere is a conflict."""
    for identifier in identifiers:
        if identifier == key:
            continue
        target = _aliased(pending, kind, identifier)
        if target is None:
            pending.add(IdentifierAlias(kind=kind, identifier=identifier, key=key, actor=d.actor))
        elif target != key:
            raise DomainError(f"{kind} id {identifier} already identifies {kind} {target}, not {key}")


def _resolve_recordings(pending: Pending, d: Delivery, release: DeliveredRelease) -> DeliveredRelease:
    """Each recording's ISRC; one delivered by proprietary id only is found through its alias."""
    recordings = []
    for rec in release.recordings:
        isrc = rec.isrc
        if not isrc:
            isrc = next((t for p in rec.proprietary_ids if (t := _aliased(pending, "recording", p))), "")
            if not isrc:
                where = f"{rec.path} ({rec.reference})" if rec.path else f"recording {rec.reference}"
                raise DomainError(
                    f"{where}: no ISRC, and no earlier delivery gave an ISRC for ProprietaryId "
                    f"{', '.join(rec.proprietary_ids)}; add its ISRC"
                )
        _alias(pending, d, "recording", rec.proprietary_ids, isrc)
        recordings.append(replace(rec, isrc=isrc) if isrc != rec.isrc else rec)
    return replace(release, recordings=tuple(recordings))


def prepare_release(
    app: RoyaltyLedger, d: Delivery, release: DeliveredRelease, pending: Pending | None = None
) -> tuple[Pending, bool, str]:
    """Every change the release makes, unsaved: (pending, is it new, its status). Raises DomainError.

    With `pending` (a batch of releases committed together, prefetched by `aggregate_ids`), the
    changes join it; a failure then leaves it half-prepared, and the caller must discard it.
    The release is found by any of its identifiers (ICPN, GRid, proprietary ids); the others get
    aliases, so the next delivery finds it by any of them too.
    """
    pending = pending or _prefetch(app, release)
    filed_as = resolve_release_key(pending, release.identifiers, release.key)
    release = _resolve_recordings(pending, d, release)
    keys = _party_keys(d, release, pending)
    _known_parties(d, keys.values(), pending)
    existing = pending.find(Release, release_id(filed_as), f"release {filed_as}")
    if existing is not None and existing.delivered_by not in (None, d.sender.key):
        raise DomainError(
            f"release {filed_as} was delivered by {existing.delivered_by}; only that sender may re-deliver it"
        )
    _alias(pending, d, "release", [parse_release_key(i) for i in release.identifiers], filed_as)
    if d.sender.key not in d.directory.by_key:
        _upsert_party(app, d, d.sender.key, d.sender.party, {"distributor"}, pending)
    kinds = _kinds_by_ref(release)
    for party in release.parties:
        _upsert_party(app, d, keys[party.reference], party, kinds[party.reference], pending)
    starts = datetime.combine(release.release_on or d.created_at.date(), time(), UTC)
    work_keys = _work_keys(release)
    for work in release.works:
        key = work_keys.get(work.reference)
        if key is None:
            continue
        writers = list({(keys[w.party_ref], w.role): None for w in work.writers})
        app._prepare_work(key, work.title, [{"party": p, "role": r} for p, r in writers], d.actor, work.iswc, pending)
        if work.writers and all(w.share_ppm is not None for w in work.writers):
            shares = _shares(keys, [(w.party_ref, w.share_ppm or 0) for w in work.writers])
            _split(app, d, "publishing", key, shares, starts, pending)
    for rec in release.recordings:
        credits = list({(keys[c.party_ref], credit_role(c.role)): None for c in rec.credits})
        app._prepare_recording(
            rec.isrc,
            rec.title,
            rec.display_artist,
            rec.duration_ms or 0,
            d.actor,
            work_keys.get(rec.work_ref or ""),
            [{"party": p, "role": r} for p, r in credits],
            pending,
        )
        if rec.master_split:
            _split(
                app,
                d,
                "master",
                rec.isrc,
                _shares(keys, [(s.party_ref, s.ppm) for s in rec.master_split]),
                starts,
                pending,
            )
    rel, _ = app._prepare_release(
        filed_as,
        release.title,
        list(release.track_isrcs),
        release.release_on,
        d.actor,
        keys.get(release.label_ref or ""),
        release.release_type,
        territories_of(release),
        d.sender.key,
        "live" if d.sender.verified else "in_review",
        pending,
        ReleaseDetails(
            identifiers=tuple(parse_release_key(i) for i in release.identifiers),
            delivered_types=release.release_types,
            review_reasons=release.review,
            deals=tuple(deal_record(deal) for deal in release.deals),
        ),
    )
    return pending, existing is None, rel.status


def prepare_takedown(app: RoyaltyLedger, d: Delivery, takedown: Takedown) -> Pending:
    """The takedown as a pending change, or nothing pending when it is already on record."""
    pending = Pending(app)
    key = resolve_release_key(pending, takedown.identifiers, takedown.key)
    release = pending.find(Release, release_id(key), f"release {key}") if key else None
    if release is None:
        raise DomainError(f"takedown of release {takedown.key}, which is not in the catalogue")
    if release.delivered_by not in (None, d.sender.key):
        raise DomainError(f"release {key} was delivered by {release.delivered_by}; only that sender may take it down")
    effective_at = takedown.effective_at or d.created_at
    territories = sorted(set(takedown.territories) or {"WW"})
    if any(
        c["action"] == "takedown" and c["territories"] == territories and c["effective_at"] == effective_at
        for c in release.availability
    ):
        return pending
    reason = f"{takedown.reason or 'takedown'} (message {d.message_id} from {d.sender.party.name})"
    app._prepare_take_down("release", key, territories, reason, effective_at, d.actor, pending=pending)
    return pending
