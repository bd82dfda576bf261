"""Dispute: a claimant contests a share of a recording's master or a work's publishing.

While open, the claimed share's earnings from `effective_from` go to the dispute's escrow
account. Resolution (upheld, rejected, partial) releases escrow and, when upheld or partial,
names the corrected shares that the application activates as a new split version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.domain.party import DomainError
from ledger.domain.shares import PPM_WHOLE

OUTCOMES = ("upheld", "rejected", "partial")


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
    ) -> None:
        if not 0 < claimed_ppm <= PPM_WHOLE:
            raise DomainError(f"claimed share {claimed_ppm} ppm must be within 1…1,000,000")
        self.right = right
        self.subject_key = subject_key
        self.claimant = claimant
        self.respondent = respondent
        self.claimed_ppm = claimed_ppm
        self.effective_from = effective_from
        self.statement = statement
        self.status = "open"
        self.outcome: str | None = None
        self.awarded_ppm = 0
        self.resolution_note = ""

    @property
    def escrow_account(self) -> str:
        return escrow_account(self.id)

    def resolve(self, outcome: str, awarded_ppm: int | None, note: str, actor: str) -> None:
        if self.status != "open":
            raise DomainError(f"dispute {self.id} is already resolved ({self.outcome})")
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
