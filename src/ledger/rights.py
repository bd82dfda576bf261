"""Rights commands: split versions, ownership transfers, takedowns, disputes — each with its actor.

Who may change who is paid (DESIGN): a party proposes a split only for a subject it delivered
or holds (or held) a share of, and a subject's first version needs a delivering party's
acceptance or an operator's override (`SplitAgreement`); a dispute moves money only with
standing — a credit on the subject, a current or past share, or an operator's admission — and
is *pending* until then; back-dating a version or a dispute before the end of the latest
closed period needs an operator. `by_operator` says whether the caller is one (the CLI, an
admin key; for disputes also a dispute handler's key): the API decides it from the key's role.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.base import LedgerBase as _Base
from ledger.base import NotFound
from ledger.domain.dispute import Dispute
from ledger.domain.identifiers import parse_territory
from ledger.domain.ids import recording_id, release_id, split_agreement_id, work_id
from ledger.domain.party import DomainError
from ledger.domain.period import Period, require_utc
from ledger.domain.period_close import PeriodClose
from ledger.domain.recording import Recording
from ledger.domain.release import Release
from ledger.domain.shares import PPM_WHOLE
from ledger.domain.split_agreement import RIGHTS, SplitAgreement
from ledger.domain.work import Work
from ledger.pending import Pending
from ledger.usage.catalogue_cache import recordings_of_work, releases_carrying


class NoStanding(DomainError):
    """The acting party has no standing for this change, or only an operator may make it."""


class RightsCommands(_Base):
    # --- standing: who delivered, holds or held, is credited on a subject ---------------------

    def subject_deliverers(self, right: str, subject_key: str) -> list[str]:
        """The parties that delivered the subject: the sender and the label of every release
        carrying the recording (for a work, carrying a recording of it)."""
        isrcs = [subject_key] if right == "master" else recordings_of_work(self, subject_key)  # type: ignore[arg-type]
        found: set[str] = set()
        for isrc in isrcs:
            for upc in releases_carrying(self, isrc):  # type: ignore[arg-type]
                rel = self.get_release(upc)
                found |= {k for k in (rel.delivered_by, rel.label_key) if k}
        return sorted(found)

    def split_holders(self, right: str, subject_key: str) -> set[str]:
        """Every party that holds or held a share of an active version (never a mere proposal)."""
        agreement = self.find_split(right, subject_key)
        if agreement is None:
            return set()
        return {p for v in agreement.versions if v["status"] == "active" for p in v["shares"]}

    def credited_parties(self, right: str, subject_key: str) -> set[str]:
        """A recording's credited parties; a work's writers."""
        if right == "master":
            return {c["party"] for c in self.get_recording(subject_key).credits}
        work: Work = self.get_work(subject_key)
        return {w["party"] for w in work.writers}

    def latest_close_end(self) -> datetime | None:
        """The end of the latest closed period: what was known before it is on issued statements."""
        periods = [self.decode(n).period for n in self.read_log(topics=self.topics_of(PeriodClose.PeriodClosed))]  # type: ignore[attr-defined]
        return max(Period.parse(p) for p in periods).end if periods else None

    def _require_operator_to_back_date(self, effective_from: datetime, what: str) -> None:
        end = self.latest_close_end()
        if end is not None and effective_from < end:
            raise NoStanding(
                f"{what} from {effective_from.isoformat()} reaches back before the end of the latest "
                f"closed period ({end.isoformat()}): only an operator may back-date that far"
            )

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
        *,
        by_operator: bool,
    ) -> tuple[SplitAgreement, int]:
        """Propose a version; the proposer's own acceptance is recorded with it.

        The proposer must have delivered the subject or hold (or have held) a share of it, and
        may back-date only to the end of the latest closed period — unless an operator proposes.
        """
        self._require_subject(right, subject_key)
        effective_from = require_utc(effective_from, "effective_from")
        self.require_parties([proposed_by, *shares])
        deliverers = self.subject_deliverers(right, subject_key)
        if not by_operator:
            if proposed_by not in deliverers and proposed_by not in self.split_holders(right, subject_key):
                what = "recording" if right == "master" else "work"
                raise NoStanding(
                    f"{proposed_by} neither delivered {what} {subject_key} nor holds or held a share of its "
                    f"{right} split: it may not propose one"
                )
            self._require_operator_to_back_date(effective_from, "a split version")
        agreement = self.find_split(right, subject_key) or SplitAgreement(
            right=right, subject_key=subject_key, actor=actor
        )
        version = agreement.propose(shares, effective_from, proposed_by, reason, actor, kind, deliverers)
        # The proposer's own acceptance (as a holder or as the delivering party) is recorded with it.
        proposed = agreement.get_version(version)
        if proposed_by in {*proposed["required"], *(proposed["consent_from"] or ())} and agreement.accept(
            version, proposed_by, actor
        ):
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

    def proposals_awaiting(self, party_key: str) -> list[tuple[SplitAgreement, int]]:
        """Proposed versions that ask for `party_key`'s acceptance (as a holder or, for a first
        version, as a delivering party) and do not have it yet, in the order proposed."""
        topics = self.topics_of(SplitAgreement.SplitVersionProposed)  # type: ignore[attr-defined]
        wanted: dict[Any, list[int]] = {}
        for n in self.read_log(topics=topics):
            e = self.decode(n)
            if party_key in e.required or party_key in (getattr(e, "consent_from", None) or ()):
                wanted.setdefault(n.originator_id, []).append(e.version)
        found = []
        for agreement_id, versions in wanted.items():
            agreement = self._get(SplitAgreement, agreement_id, f"split agreement {agreement_id}")
            for number in versions:
                v = agreement.get_version(number)
                if v["status"] == "proposed" and party_key not in v["accepted_by"]:
                    found.append((agreement, number))
        return found

    def refuse_split(
        self, right: str, subject_key: str, version: int, party_key: str, reason: str, actor: str
    ) -> SplitAgreement:
        """Refuse on behalf of `party_key` (asked to accept): the version never activates."""
        agreement = self.get_split(right, subject_key)
        agreement.refuse(version, party_key, reason, actor)
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
        *,
        one_event: bool = False,
    ) -> tuple[SplitAgreement, int]:
        """`set_split` without saving: the caller saves the agreement with its batch.

        `one_event` (a delivery): a subject with no agreement yet gets it as one `Established`
        event instead of Opened + SplitVersionProposed + SplitVersionActivated.
        """
        pending = pending or Pending(self)
        self._require_subject(right, subject_key, pending)
        self._require_pending_parties(list(shares), pending)
        agreement = pending.find(
            SplitAgreement, split_agreement_id(right, subject_key), f"{right} split of {subject_key}"
        )
        if agreement is None and one_event:
            effective_from = require_utc(effective_from)
            agreement = SplitAgreement.establish(right, subject_key, shares, effective_from, reason, actor, kind)
            return pending.add(agreement), 1
        agreement = agreement or pending.add(SplitAgreement(right=right, subject_key=subject_key, actor=actor))
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
        *,
        by_operator: bool,
    ) -> tuple[SplitAgreement, int]:
        """A catalogue sale: a new version of kind 'transfer' that the affected parties accept."""
        if not reason.strip():
            raise DomainError("an ownership transfer needs a reason")
        return self.propose_split(
            right, subject_key, shares, effective_from, proposed_by, actor, reason, "transfer", by_operator=by_operator
        )

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
        *,
        by_operator: bool,
    ) -> Dispute:
        """Open a dispute: *open* (escrowing) when the claimant has standing or an operator opens
        it, else *pending* until an operator admits it. The claim is capped (`_cap_claim`)."""
        self._require_subject(right, subject_key)
        self.require_parties([claimant] + ([respondent] if respondent else []))
        effective_from = require_utc(effective_from, "effective_from")
        if respondent == claimant:
            raise DomainError(f"{claimant} cannot claim a share from itself")
        self._cap_claim(right, subject_key, claimant, respondent, claimed_ppm, effective_from)
        if not by_operator:
            self._require_operator_to_back_date(effective_from, "a dispute")
        standing = "operator" if by_operator else self.dispute_standing(right, subject_key, claimant)
        dispute = Dispute(
            right=right,
            subject_key=subject_key,
            claimant=claimant,
            respondent=respondent,
            claimed_ppm=claimed_ppm,
            effective_from=effective_from,
            statement=statement,
            actor=actor,
            standing=standing,
        )
        self.save(dispute)
        return dispute

    def dispute_standing(self, right: str, subject_key: str, claimant: str) -> str | None:
        """'credit' or 'share' when the claimant has standing on its own; None when it has not."""
        if claimant in self.credited_parties(right, subject_key):
            return "credit"
        if claimant in self.split_holders(right, subject_key):
            return "share"
        return None

    def _cap_claim(
        self,
        right: str,
        subject_key: str,
        claimant: str,
        respondent: str | None,
        claimed_ppm: int,
        effective_from: datetime,
    ) -> None:
        """A claim takes no more than there is to take: at most what a named respondent holds,
        else what the claimant does not hold itself — in the version in force at `from` or any
        active version after it (allocation then takes, at each instant, no more than is there)."""
        if not 0 < claimed_ppm <= PPM_WHOLE:
            raise DomainError(f"claimed share {claimed_ppm} ppm must be within 1…1,000,000")
        agreement = self.find_split(right, subject_key)
        if agreement is None:
            versions = []
        else:
            in_force = agreement.version_in_force(effective_from)
            versions = [
                v for v in agreement.versions if v["status"] == "active" and v["effective_from"] > effective_from
            ] + ([in_force] if in_force else [])
        if respondent:
            held = max((v["shares"].get(respondent, 0) for v in versions), default=0)
            if held == 0:
                raise DomainError(
                    f"respondent {respondent} holds no share of the {right} split of {subject_key} from then on"
                )
            if claimed_ppm > held:
                raise DomainError(
                    f"claimed {claimed_ppm} ppm exceeds the {held} ppm respondent {respondent} holds at most"
                )
            return
        room = max((PPM_WHOLE - v["shares"].get(claimant, 0) for v in versions), default=PPM_WHOLE)
        if claimed_ppm > room:
            raise DomainError(f"claimed {claimed_ppm} ppm exceeds the {room} ppm {claimant} does not already hold")

    def admit_dispute(self, dispute_id: UUID, reason: str, actor: str) -> Dispute:
        """An operator admits a pending dispute: from this position on, it escrows."""
        dispute = self.get_dispute(dispute_id)
        dispute.admit(reason, actor)
        self.save(dispute)
        return dispute

    def refuse_dispute(self, dispute_id: UUID, reason: str, actor: str) -> Dispute:
        """An operator refuses a pending dispute: it never moves money."""
        dispute = self.get_dispute(dispute_id)
        dispute.refuse(reason, actor)
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
