"""What a party-scoped key is involved in (and so may see or act on), as route dependencies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path

from api.auth import Principal
from api.deps import LedgerDep, PrincipalDep, hide_unless
from api.schemas.common import Isrc, Key, ReleaseRef
from ledger.application import RoyaltyLedger
from ledger.domain.dispute import Dispute
from ledger.domain.recording import Recording
from ledger.domain.release import Release
from ledger.domain.work import Work


def split_holders(app: RoyaltyLedger, right: str, subject_key: str | None) -> set[str]:
    """Everyone who holds or held a share of an active version of this split. A proposal that
    never activated grants nothing: proposing a split is no way to read a subject."""
    return app.split_holders(right, subject_key) if subject_key else set()


def recording_parties(app: RoyaltyLedger, rec: Recording) -> set[str]:
    """Credited parties, the parties that delivered it (sender, label) and every master (and
    publishing) holder, past or present."""
    parties = {c["party"] for c in rec.credits} | split_holders(app, "master", rec.isrc)
    parties |= set(app.subject_deliverers("master", rec.isrc))
    return parties | split_holders(app, "publishing", rec.work_key)


def work_parties(app: RoyaltyLedger, work_key: str) -> set[str]:
    """Writers, the parties that delivered a recording of it, every publishing holder past or present."""
    work = app.get_work(work_key)
    parties = {w["party"] for w in work.writers} | split_holders(app, "publishing", work_key)
    return parties | set(app.subject_deliverers("publishing", work_key))


def sees_recording(app: RoyaltyLedger, principal: Principal, rec: Recording) -> bool:
    return not principal.is_party or bool(principal.scope & recording_parties(app, rec))


def sees_work(app: RoyaltyLedger, principal: Principal, work_key: str) -> bool:
    return not principal.is_party or bool(principal.scope & work_parties(app, work_key))


def sees_split(app: RoyaltyLedger, principal: Principal, right: str, subject_key: str) -> bool:
    """A split's history is as visible as its subject."""
    if not principal.is_party:
        return True
    if right == "master":
        return sees_recording(app, principal, app.get_recording(subject_key))
    return sees_work(app, principal, subject_key)


def controls_recording(app: RoyaltyLedger, principal: Principal, rec: Recording, now: datetime) -> bool:
    """A party key may take down a recording whose master it (or a managed party) holds now."""
    if not principal.is_party:
        return True
    agreement = app.find_split("master", rec.isrc)
    version = agreement.version_in_force(now) if agreement else None
    return bool(version and principal.scope & set(version["shares"]))


def edits_recording(app: RoyaltyLedger, principal: Principal, rec: Recording, now: datetime) -> bool:
    """A party key may change a track's title, display artist and credits when it holds its
    master now, or labels or delivered a release carrying it."""
    if controls_recording(app, principal, rec, now):
        return True
    return bool(principal.scope & set(app.subject_deliverers("master", rec.isrc)))


def sees_release(app: RoyaltyLedger, principal: Principal, rel: Release) -> bool:
    if not principal.is_party or controls_release(principal, rel):
        return True
    return any(principal.scope & recording_parties(app, app.get_recording(isrc)) for isrc in rel.track_isrcs)


def controls_release(principal: Principal, rel: Release) -> bool:
    """A party key may take down a release it labels or delivered."""
    if not principal.is_party:
        return True
    return bool(principal.scope & {k for k in (rel.label_key, rel.delivered_by) if k})


# --- dependencies: scope is decided before the body is read, so an outsider learns nothing ---


def _visible_recording(isrc: Annotated[Isrc, Path()], app: LedgerDep, principal: PrincipalDep) -> Recording:
    rec = app.get_recording(isrc)
    hide_unless(sees_recording(app, principal, rec), f"recording {isrc}")
    return rec


def _visible_release(upc: Annotated[ReleaseRef, Path()], app: LedgerDep, principal: PrincipalDep) -> Release:
    rel = app.find_release(upc)
    hide_unless(sees_release(app, principal, rel), f"release {upc}")
    return rel


def _visible_work(work_key: Annotated[Key, Path()], app: LedgerDep, principal: PrincipalDep) -> Work:
    work = app.get_work(work_key)
    hide_unless(sees_work(app, principal, work_key), f"work {work_key}")
    return work


def _visible_dispute(dispute_id: Annotated[UUID, Path()], app: LedgerDep, principal: PrincipalDep) -> Dispute:
    dispute = app.get_dispute(dispute_id)
    sides = {dispute.claimant, dispute.respondent} - {None}
    hide_unless(not principal.is_party or bool(principal.scope & sides), f"dispute {dispute_id}")
    return dispute


VisibleRecording = Annotated[Recording, Depends(_visible_recording)]
VisibleRelease = Annotated[Release, Depends(_visible_release)]
VisibleWork = Annotated[Work, Depends(_visible_work)]
VisibleDispute = Annotated[Dispute, Depends(_visible_dispute)]
