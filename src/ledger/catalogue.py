"""Catalogue commands: parties, works, recordings and releases, registered or re-delivered.

Re-delivery finds the same aggregate by its natural key and records only what changed, so
importing the same message twice writes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.base import LedgerBase as _Base
from ledger.domain.identifiers import (
    parse_ipi,
    parse_isni,
    parse_isrc,
    parse_iswc,
    parse_release_key,
    parse_territory,
)
from ledger.domain.ids import party_id, recording_id, release_id, work_id
from ledger.domain.party import PARTY_KINDS, DomainError, Party
from ledger.domain.recording import CREDIT_ROLES, Recording
from ledger.domain.release import Release
from ledger.domain.text import check_text, check_texts
from ledger.domain.work import Work
from ledger.pending import Pending


def _party_identifiers(identifiers: dict[str, str]) -> dict[str, str]:
    parsers: dict[str, Callable[[str], str]] = {"ipi": parse_ipi, "isni": parse_isni, "dpid": str.strip}
    unknown = set(identifiers) - set(parsers)
    if unknown:
        raise DomainError(f"unknown party identifier type(s): {', '.join(sorted(unknown))}")
    return {k: parsers[k](v) for k, v in sorted(identifiers.items()) if v}


class CatalogueCommands(_Base):
    def upsert_party(
        self,
        key: str,
        name: str,
        kinds: list[str],
        actor: str,
        identifiers: dict[str, str] | None = None,
    ) -> tuple[Party, bool]:
        """Register or update a party; returns (party, changed)."""
        if not key or not name:
            raise DomainError("a party needs a key and a name")
        check_texts({"key": (key, "key"), "name": (name, "name")})
        bad = sorted(set(kinds) - PARTY_KINDS)
        if bad or not kinds:
            raise DomainError(f"party {key}: unknown kind(s) {bad or '(none)'}; expected {sorted(PARTY_KINDS)}")
        ids = _party_identifiers(identifiers or {})
        if self._exists(party_id(key)):
            party = self.get_party(key)
            if (party.name, party.kinds, party.identifiers) == (name, sorted(kinds), ids):
                return party, False
            party.update_details(name=name, kinds=sorted(kinds), identifiers=ids, actor=actor)
        else:
            party = Party(key=key, name=name, kinds=sorted(kinds), identifiers=ids, actor=actor)
        self.save(party)
        return party, True

    def set_party_verification(self, key: str, state: str, reason: str, actor: str) -> Party:
        party = self.get_party(key)
        party.set_verification(state, reason, actor)
        self.save(party)
        return party

    def add_party_manager(self, key: str, manager_key: str, actor: str) -> Party:
        self.require_parties([manager_key])
        party = self.get_party(key)
        if manager_key not in party.managed_by:
            party.add_manager(manager_key=manager_key, actor=actor)
            self.save(party)
        return party

    def upsert_work(
        self,
        key: str,
        title: str,
        writers: list[dict[str, str]],
        actor: str,
        iswc: str | None = None,
    ) -> tuple[Work, bool]:
        work, changed = self._prepare_work(key, title, writers, actor, iswc)
        if changed:
            self.save(work)
        return work, changed

    def _prepare_work(
        self,
        key: str,
        title: str,
        writers: list[dict[str, str]],
        actor: str,
        iswc: str | None = None,
        pending: Pending | None = None,
    ) -> tuple[Work, bool]:
        """The upsert without saving: (work, changed); the caller saves it with its batch."""
        pending = pending or Pending(self)
        check_texts({"key": (key, "key"), "title": (title, "title")})
        iswc = parse_iswc(iswc) if iswc else None
        self._require_pending_parties([w["party"] for w in writers], pending)
        work = pending.find(Work, work_id(key), f"work {key}")
        if work is not None:
            if (work.title, work.iswc, work.writers) == (title, iswc, writers):
                return work, False
            work.update_details(title=title, iswc=iswc, writers=writers, actor=actor)
        else:
            work = pending.add(Work(key=key, title=title, iswc=iswc, writers=writers, actor=actor))
        return work, True

    def upsert_recording(
        self,
        isrc: str,
        title: str,
        display_artist: str,
        duration_ms: int,
        actor: str,
        work_key: str | None = None,
        credits: list[dict[str, str]] | None = None,
    ) -> tuple[Recording, bool]:
        rec, changed = self._prepare_recording(isrc, title, display_artist, duration_ms, actor, work_key, credits)
        if changed:
            self.save(rec)
        return rec, changed

    def _prepare_recording(
        self,
        isrc: str,
        title: str,
        display_artist: str,
        duration_ms: int,
        actor: str,
        work_key: str | None = None,
        credits: list[dict[str, str]] | None = None,
        pending: Pending | None = None,
    ) -> tuple[Recording, bool]:
        pending = pending or Pending(self)
        isrc = parse_isrc(isrc)
        check_texts({"title": (title, "title"), "display artist": (display_artist, "name")})
        credits = credits or []
        if duration_ms <= 0:
            raise DomainError(f"recording {isrc}: duration must be positive, got {duration_ms} ms")
        bad_roles = sorted({c["role"] for c in credits} - CREDIT_ROLES)
        if bad_roles:
            raise DomainError(f"recording {isrc}: unknown credit role(s) {', '.join(bad_roles)}")
        self._require_pending_parties([c["party"] for c in credits], pending)
        if work_key is not None and not pending.exists(work_id(work_key)):
            raise DomainError(f"recording {isrc}: work {work_key} is not registered")
        fields = dict(
            title=title, display_artist=display_artist, duration_ms=duration_ms, work_key=work_key, credits=credits
        )
        rec = pending.find(Recording, recording_id(isrc), f"recording {isrc}")
        if rec is not None:
            if all(getattr(rec, k) == v for k, v in fields.items()):
                return rec, False
            rec.update_details(
                title=title,
                display_artist=display_artist,
                duration_ms=duration_ms,
                work_key=work_key,
                credits=credits,
                actor=actor,
            )
        else:
            rec = pending.add(
                Recording(
                    isrc=isrc,
                    title=title,
                    display_artist=display_artist,
                    duration_ms=duration_ms,
                    work_key=work_key,
                    credits=credits,
                    actor=actor,
                )
            )
        return rec, True

    def deliver_release(
        self,
        upc: str,
        title: str,
        track_isrcs: list[str],
        release_date: date,
        actor: str,
        label_key: str | None = None,
        release_type: str = "album",
        territories: list[str] | None = None,
        delivered_by: str | None = None,
        status: str = "live",
    ) -> tuple[Release, bool]:
        rel, changed = self._prepare_release(
            upc,
            title,
            track_isrcs,
            release_date,
            actor,
            label_key,
            release_type,
            territories,
            delivered_by,
            status,
        )
        if changed:
            self.save(rel)
        return rel, changed

    def _prepare_release(
        self,
        upc: str,
        title: str,
        track_isrcs: list[str],
        release_date: date | None,
        actor: str,
        label_key: str | None = None,
        release_type: str = "album",
        territories: list[str] | None = None,
        delivered_by: str | None = None,
        status: str = "live",
        pending: Pending | None = None,
        details: ReleaseDetails | None = None,
    ) -> tuple[Release, bool]:
        """A re-delivery records only the fields that changed; `status` applies to a new release.

        `upc` is the release's key (a UPC, "GRID:…" or a proprietary "NS:…:id"). With `details`
        (a delivery), its identifiers, delivered types and review reasons are recorded too; review
        reasons appearing put a live release back in review, and their going away takes a release
        that waited only for them live (when `status` says its sender may go live).
        """
        pending = pending or Pending(self)
        upc = parse_release_key(upc)
        check_text(title, "title", "title")
        isrcs = [parse_isrc(i) for i in track_isrcs]
        if not isrcs:
            raise DomainError(f"release {upc}: has no tracks")
        if len(set(isrcs)) != len(isrcs):
            raise DomainError(f"release {upc}: a track is listed twice")
        missing = [i for i in isrcs if not pending.exists(recording_id(i))]
        if missing:
            raise DomainError(f"release {upc}: unknown recording(s) {', '.join(missing)}")
        self._require_pending_parties([k for k in (label_key, delivered_by) if k], pending)
        terr = sorted({parse_territory(t, allow_worldwide=True) for t in territories or ["WW"]})
        fields: dict[str, Any] = dict(
            title=title,
            label_key=label_key,
            release_type=release_type,
            track_isrcs=isrcs,
            release_date=release_date,
            territories=terr,
            delivered_by=delivered_by,
        )
        rel = pending.find(Release, release_id(upc), f"release {upc}")
        if rel is not None:
            changes = {k: v for k, v in fields.items() if getattr(rel, k) != v}
            if details is not None:
                changes.update(_detail_changes(rel, details, status))
            if not changes:
                return rel, False
            rel.redeliver(changes=changes, actor=actor)
        else:
            extra: dict[str, Any] = {}
            if details is not None:
                extra = dict(
                    identifiers=sorted(set(details.identifiers) | {upc}),
                    delivered_types=list(details.delivered_types),
                    review_reasons=list(details.review_reasons),
                    deals=[dict(d) for d in details.deals],
                )
                status = "in_review" if details.review_reasons else status
            rel = pending.add(Release(upc=upc, **fields, status=status, actor=actor, **extra))
        return rel, True

    def decide_review(self, upc: str, decision: str, reason: str, actor: str) -> Release:
        if decision not in ("approved", "rejected"):
            raise DomainError(f"review decision {decision!r}: expected approved or rejected")
        if decision == "rejected" and not reason:
            raise DomainError("a rejection needs a reason")
        rel = self.get_release(upc)
        if rel.status != "in_review":
            raise DomainError(f"release {upc} is {rel.status}, not in review")
        rel.decide_review(decision=decision, reason=reason, actor=actor)
        self.save(rel)
        return rel


@dataclass(frozen=True)
class ReleaseDetails:
    """What a delivery adds to a release beyond its catalogue fields (see `_prepare_release`)."""

    identifiers: tuple[str, ...] = ()
    delivered_types: tuple[str, ...] = ()
    review_reasons: tuple[str, ...] = ()
    deals: tuple[dict[str, Any], ...] = ()


def _detail_changes(rel: Release, details: ReleaseDetails, status: str) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    identifiers = sorted(set(rel.identifiers) | set(details.identifiers))
    if identifiers != sorted(rel.identifiers):
        changes["identifiers"] = identifiers
    if list(details.delivered_types) != rel.delivered_types:
        changes["delivered_types"] = list(details.delivered_types)
    if [dict(d) for d in details.deals] != rel.deals:
        changes["deals"] = [dict(d) for d in details.deals]
    reasons = list(details.review_reasons)
    if reasons != rel.review_reasons:
        changes["review_reasons"] = reasons
        if reasons and rel.status == "live":
            changes["status"] = "in_review"
        elif not reasons and rel.status == "in_review" and rel.review_reasons and status == "live":
            changes["status"] = "live"
    return changes
