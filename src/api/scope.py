"""Which recordings, works and releases a party-scoped key is involved in (and so may see or act on)."""

from __future__ import annotations

from datetime import datetime

from api.auth import Principal
from ledger.application import RoyaltyLedger
from ledger.domain.recording import Recording
from ledger.domain.release import Release


def split_holders(app: RoyaltyLedger, right: str, subject_key: str | None) -> set[str]:
    """Everyone who holds, held or was proposed a share of this split, in any version."""
    agreement = app.find_split(right, subject_key) if subject_key else None
    if agreement is None:
        return set()
    return {p for v in agreement.versions for p in (*v["shares"], *v["required"])}


def recording_parties(app: RoyaltyLedger, rec: Recording) -> set[str]:
    """Credited parties and every master (and publishing) holder, past or present."""
    parties = {c["party"] for c in rec.credits} | split_holders(app, "master", rec.isrc)
    return parties | split_holders(app, "publishing", rec.work_key)


def work_parties(app: RoyaltyLedger, work_key: str) -> set[str]:
    work = app.get_work(work_key)
    return {w["party"] for w in work.writers} | split_holders(app, "publishing", work_key)


def sees_recording(app: RoyaltyLedger, principal: Principal, rec: Recording) -> bool:
    return not principal.is_party or bool(principal.scope & recording_parties(app, rec))


def sees_work(app: RoyaltyLedger, principal: Principal, work_key: str) -> bool:
    return not principal.is_party or bool(principal.scope & work_parties(app, work_key))


def controls_recording(app: RoyaltyLedger, principal: Principal, rec: Recording,
                       now: datetime) -> bool:
    """A party key may take down a recording whose master it (or a managed party) holds now."""
    if not principal.is_party:
        return True
    agreement = app.find_split("master", rec.isrc)
    version = agreement.version_in_force(now) if agreement else None
    return bool(version and principal.scope & set(version["shares"]))


def controls_release(principal: Principal, rel: Release) -> bool:
    """A party key may take down a release it labels or delivered."""
    if not principal.is_party:
        return True
    return bool(principal.scope & {k for k in (rel.label_key, rel.delivered_by) if k})
