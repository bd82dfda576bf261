"""Dispute: a claimant contests a share of a recording's master or a work's publishing.

A dispute needs standing before it moves money. It opens *open* when the claimant has standing
(a credit on the subject, a current or past share of it) or an operator opens it; otherwise it
opens *pending*, moves nothing, and waits for an operator to admit it (→ open) or refuse it
(→ refused, for good). While open, the claimed share's earnings from `effective_from` go to the
dispute's escrow account. Resolution (upheld, rejected, partial) releases escrow and, when upheld
or partial, names the corrected shares that the application activates as a new split version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.domain.party import DomainError
from ledger.domain.shares import PPM_WHOLE

OUTCOMES = ("upheld", "rejected", "partial")
# Why a dispute moves money: the claimant's standing, or an operator's admission.
STANDINGS = ("credit", "share", "operator")
# What `standing` reads for a dispute recorded before standing was checked (all were open).
UNCHECKED = "unchecked"


class Dispute(Aggregate):
    @event("Opened")
    def __init__(
        self,
        right: str,
        subject_key: str,
        claimant: str,
        respondent: str | None,
        claimed_ppm: int,
        effective_from: datetime,
        statement: str,
        actor: str,
        standing: str | None = UNCHECKED,  # None: pending, no standing shown yet
    ) -> None:
        if not 0 < claimed_ppm <= PPM_WHOLE:
            raise DomainError(f"claimed share {claimed_ppm} ppm must be within 1…1,000,000")
        if standing is not None and standing not in (*STANDINGS, UNCHECKED):
            raise DomainError(f"standing {standing!r}: expected one of {STANDINGS}")
        self.right = right
        self.subject_key = subject_key
        self.claimant = claimant
        self.respondent = respondent
        self.claimed_ppm = claimed_ppm
        self.effective_from = effective_from
        self.statement = statement
        self.standing = standing
        self.status = "open" if standing else "pending"
        self.decision_note = ""
        self.outcome: str | None = None
        self.awarded_ppm = 0
        self.resolution_note = ""

    @property
    def escrow_account(self) -> str:
        return escrow_account(self.id)

    @property
    def moves_money(self) -> bool:
        return self.status in ("open", "resolved")

    def _require_pending(self, what: str, reason: str) -> None:
        if self.status != "pending":
            raise DomainError(f"dispute {self.id} is {self.status}, not pending: nothing to {what}")
        if not reason.strip():
            raise DomainError(f"to {what} a dispute needs a reason")

    def admit(self, reason: str, actor: str) -> None:
        """An operator admits a pending dispute: from now on it escrows the claimed share."""
        self._require_pending("admit", reason)
        self._admitted(reason=reason, actor=actor)

    @event("Admitted")
    def _admitted(self, reason: str, actor: str) -> None:
        self.status, self.standing, self.decision_note = "open", "operator", reason

    def refuse(self, reason: str, actor: str) -> None:
        """An operator refuses a pending dispute: it never moves money."""
        self._require_pending("refuse", reason)
        self._refused(reason=reason, actor=actor)

    @event("Refused")
    def _refused(self, reason: str, actor: str) -> None:
        self.status, self.decision_note = "refused", reason

    def resolve(self, outcome: str, awarded_ppm: int | None, note: str, actor: str) -> None:
        if self.status == "pending":
            raise DomainError(f"dispute {self.id} is pending: admit it (or refuse it) before resolving it")
        if self.status != "open":
            raise DomainError(f"dispute {self.id} is already {self.status} ({self.outcome or self.decision_note})")
        if outcome not in OUTCOMES:
            raise DomainError(f"outcome {outcome!r}: expected one of {OUTCOMES}")
        awarded = {"upheld": self.claimed_ppm, "rejected": 0}.get(outcome, awarded_ppm)
        if awarded is None or (not 0 < awarded < self.claimed_ppm and outcome == "partial"):
            raise DomainError(f"a partial outcome awards between 1 and {self.claimed_ppm - 1} ppm, got {awarded}")
        self._resolved(outcome=outcome, awarded_ppm=int(awarded), note=note, actor=actor)

    @event("Resolved")
    def _resolved(self, outcome: str, awarded_ppm: int, note: str, actor: str) -> None:
        self.status = "resolved"
        self.outcome = outcome
        self.awarded_ppm = awarded_ppm
        self.resolution_note = note


def escrow_account(dispute_id: UUID | Any) -> str:
    return f"escrow:{dispute_id}"
