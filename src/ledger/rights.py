"""Rights commands: split versions, ownership transfers, takedowns, disputes — each with its actor."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ledger.base import LedgerBase as _Base
from ledger.base import NotFound
from ledger.domain.dispute import Dispute
from ledger.domain.identifiers import parse_territory
from ledger.domain.ids import recording_id, release_id, split_agreement_id, work_id
from ledger.domain.party import DomainError
from ledger.domain.period import require_utc
from ledger.domain.recording import Recording
from ledger.domain.release import Release
from ledger.domain.split_agreement import RIGHTS, SplitAgreement
from ledger.pending import Pending


class RightsCommands(_Base):
    def _require_subject(self, right: str, subject_key: str, pending: Pending | None = None) -> None:
        if right not in RIGHTS:
            raise DomainError(f"right {right!r}: expected one of {RIGHTS}")
        subject_id = recording_id(subject_key) if right == "master" else work_id(subject_key)
        exists = pending.exists(subject_id) if pending else self._exists(subject_id)
        if not exists:
            kind = "recording" if right == "master" else "work"
            raise DomainError(f"{right} split: {kind} {subject_key} is not registered")

    def propose_split(
        self,
        right: str,
        subject_key: str,
        shares: dict[str, int],
        effective_from: datetime,
        proposed_by: str,
        actor: str,
        reason: str = "",
        kind: str = "change",
    ) -> tuple[SplitAgreement, int]:
        """Propose a version; the proposer's own acceptance is recorded with it."""
        self._require_subject(right, subject_key)
        require_utc(effective_from, "effective_from")
        self.require_parties([proposed_by, *shares])
        agreement = self.find_split(right, subject_key) or SplitAgreement(
            right=right, subject_key=subject_key, actor=actor
        )
        version = agreement.propose(shares, effective_from, proposed_by, reason, actor, kind)
        # The proposer's own acceptance is recorded with the proposal.
        proposer_affected = proposed_by in agreement.get_version(version)["required"]
        if proposer_affected and agreement.accept(version, proposed_by, actor):
            agreement.activate(version, actor)
        self.save(agreement)
        return agreement, version

    def accept_split(self, right: str, subject_key: str, version: int, party_key: str, actor: str) -> SplitAgreement:
        """Accept on behalf of `party_key`; the last acceptance activates the version."""
        agreement = self.get_split(right, subject_key)
        if agreement.accept(version, party_key, actor):
            agreement.activate(version, actor)
        self.save(agreement)
        return agreement

    def activate_split_override(
        self, right: str, subject_key: str, version: int, reason: str, actor: str
    ) -> SplitAgreement:
        if not reason.strip():
            raise DomainError("an admin override needs a reason")
        agreement = self.get_split(right, subject_key)
        agreement.activate(version, actor, override_reason=reason)
        self.save(agreement)
        return agreement

    def set_split(
        self,
        right: str,
        subject_key: str,
        shares: dict[str, int],
        effective_from: datetime,
        actor: str,
        reason: str,
        kind: str = "change",
    ) -> tuple[SplitAgreement, int]:
        """Propose and activate by admin override in one step (initial deliveries, transfers)."""
        agreement, version = self._prepare_split(right, subject_key, shares, effective_from, actor, reason, kind)
        self.save(agreement)
        return agreement, version

    def _prepare_split(
        self,
        right: str,
        subject_key: str,
        shares: dict[str, int],
        effective_from: datetime,
        actor: str,
        reason: str,
        kind: str = "change",
        pending: Pending | None = None,
    ) -> tuple[SplitAgreement, int]:
        """`set_split` without saving: the caller saves the agreement with its batch."""
        pending = pending or Pending(self)
        self._require_subject(right, subject_key, pending)
        self._require_pending_parties(list(shares), pending)
        agreement = pending.find(
            SplitAgreement, split_agreement_id(right, subject_key), f"{right} split of {subject_key}"
        ) or pending.add(SplitAgreement(right=right, subject_key=subject_key, actor=actor))
        version = agreement.propose(shares, require_utc(effective_from), actor, reason, actor, kind)
        agreement.activate(version, actor, override_reason=reason or kind)
        return agreement, version

    def transfer_ownership(
        self,
        right: str,
        subject_key: str,
        shares: dict[str, int],
        effective_from: datetime,
        proposed_by: str,
        reason: str,
        actor: str,
    ) -> tuple[SplitAgreement, int]:
        """A catalogue sale: a new version of kind 'transfer' that the affected parties accept."""
        if not reason.strip():
            raise DomainError("an ownership transfer needs a reason")
        return self.propose_split(right, subject_key, shares, effective_from, proposed_by, actor, reason, "transfer")

    def take_down(
        self,
        subject: str,
        key: str,
        territories: list[str],
        reason: str,
        effective_at: datetime,
        actor: str,
        *,
        reinstate: bool = False,
    ) -> Recording | Release:
        """Take down (or reinstate) a recording (ISRC) or a release (UPC), globally or by territory;
        returns the aggregate as saved."""
        target = self._prepare_take_down(subject, key, territories, reason, effective_at, actor, reinstate=reinstate)
        self.save(target)
        return target

    def _prepare_take_down(
        self,
        subject: str,
        key: str,
        territories: list[str],
        reason: str,
        effective_at: datetime,
        actor: str,
        *,
        reinstate: bool = False,
        pending: Pending | None = None,
    ) -> Recording | Release:
        if not reason.strip():
            raise DomainError("a takedown or reinstatement needs a reason")
        terr = sorted({parse_territory(t, allow_worldwide=True) for t in territories or ["WW"]})
        pending = pending or Pending(self)
        target: Recording | Release | None
        if subject == "recording":
            target = pending.find(Recording, recording_id(key), f"recording {key}")
        else:
            target = pending.find(Release, release_id(key), f"release {key}")
        if target is None:
            raise NotFound(f"{subject} {key}: not found")
        action = target.reinstate if reinstate else target.take_down
        action(territories=terr, reason=reason, effective_at=require_utc(effective_at), actor=actor)
        return target

    def open_dispute(
        self,
        right: str,
        subject_key: str,
        claimant: str,
        claimed_ppm: int,
        effective_from: datetime,
        statement: str,
        actor: str,
        respondent: str | None = None,
    ) -> Dispute:
        self._require_subject(right, subject_key)
        self.require_parties([claimant] + ([respondent] if respondent else []))
        dispute = Dispute(
            right=right,
            subject_key=subject_key,
            claimant=claimant,
            respondent=respondent,
            claimed_ppm=claimed_ppm,
            effective_from=require_utc(effective_from),
            statement=statement,
            actor=actor,
        )
        self.save(dispute)
        return dispute

    def get_dispute(self, dispute_id: UUID) -> Dispute:
        return self._get(Dispute, dispute_id, f"dispute {dispute_id}")

    def resolve_dispute(
        self,
        dispute_id: UUID,
        outcome: str,
        note: str,
        actor: str,
        awarded_ppm: int | None = None,
        corrected_shares: dict[str, int] | None = None,
        effective_from: datetime | None = None,
    ) -> Dispute:
        """Resolve; when upheld or partial with corrected shares, activate them as a new version."""
        dispute = self.get_dispute(dispute_id)
        dispute.resolve(outcome, awarded_ppm, note, actor)
        to_save: list[object] = [dispute]
        if outcome != "rejected" and corrected_shares:
            agreement = self.get_split(dispute.right, dispute.subject_key)
            self.require_parties(list(corrected_shares))
            version = agreement.propose(
                corrected_shares,
                require_utc(effective_from or dispute.effective_from),
                actor,
                f"dispute {dispute_id} {outcome}: {note}",
                actor,
                "dispute_resolution",
            )
            agreement.activate(version, actor, override_reason=f"dispute {dispute_id} resolved")
            to_save.append(agreement)
        self.save(*to_save)  # type: ignore[arg-type]
        return dispute
