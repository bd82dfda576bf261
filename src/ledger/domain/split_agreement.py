"""SplitAgreement: who holds which share of one right (master of a recording, publishing of a work).

Versions are effective-dated and back-datable. A version is proposed by one party, accepted by
each affected party (its holders and the holders of the version it replaces), and activated when
all have accepted — or by a recorded admin override with a reason. A subject's **first** version
(no version of it was ever active) also needs the acceptance of a party that delivered the
subject (`consent_from`); with none known, only an operator's override activates it — the
proposer's own acceptance is never enough. Any party whose acceptance is asked may refuse
instead, which closes the version for good. The version in force for an instant is the active
version with the latest effective_from ≤ that instant (ties: the one activated later).

A split delivered with a release (ERN, catalogue CSV) for a subject that has no agreement yet is
recorded as ONE event, `Established`: the agreement opened with its first version, proposed and
activated by the delivery's override at once — the same state as `Opened` +
`SplitVersionProposed` + `SplitVersionActivated`, in a third of the events (a bulk import writes
two splits per track). Logs holding the three-event form read as before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import split_agreement_id
from ledger.domain.party import DomainError
from ledger.domain.shares import validate_shares

RIGHTS = ("master", "publishing")


class SplitAgreement(Aggregate):
    @staticmethod
    def create_id(right: str, subject_key: str, **_: Any) -> Any:
        return split_agreement_id(right, subject_key)

    class Established(Aggregate.Created):
        """Opened with version 1 proposed and activated by override in the same instant."""

        right: str
        subject_key: str
        actor: str
        version: int
        shares: dict[str, int]
        effective_from: datetime
        proposed_by: str
        required: list[str]
        reason: str
        kind: str
        override_reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.activation_seq = 1
            aggregate.versions.append(
                {
                    "version": self.version,
                    "shares": dict(self.shares),
                    "effective_from": self.effective_from,
                    "proposed_by": self.proposed_by,
                    "required": list(self.required),
                    "accepted_by": {},
                    "status": "active",
                    "reason": self.reason,
                    "kind": self.kind,
                    "activated_by": self.actor,
                    "override_reason": self.override_reason,
                    "activation_seq": 1,
                    "consent_from": [],  # as propose() records a first version with no deliverers
                    "refused_by": None,
                }
            )

    @classmethod
    def establish(
        cls,
        right: str,
        subject_key: str,
        shares: dict[str, int],
        effective_from: datetime,
        reason: str,
        actor: str,
        kind: str = "initial",
    ) -> SplitAgreement:
        """A new agreement whose first version is active at once (a delivery's override)."""
        if right not in RIGHTS:
            raise DomainError(f"right {right!r}: expected one of {RIGHTS}")
        shares = validate_shares(shares)
        return cls._create(
            cls.Established,
            right=right,
            subject_key=subject_key,
            actor=actor,
            version=1,
            shares=shares,
            effective_from=effective_from,
            proposed_by=actor,
            required=sorted(shares),
            reason=reason,
            kind=kind,
            override_reason=reason or kind,
        )

    @event("Opened")
    def __init__(self, right: str, subject_key: str, actor: str) -> None:
        if right not in RIGHTS:
            raise DomainError(f"right {right!r}: expected one of {RIGHTS}")
        self.right = right
        self.subject_key = subject_key
        self.versions: list[dict[str, Any]] = []
        self.activation_seq = 0

    def propose(
        self,
        shares: dict[str, int],
        effective_from: datetime,
        proposed_by: str,
        reason: str,
        actor: str,
        kind: str = "change",
        deliverers: list[str] | tuple[str, ...] = (),
    ) -> int:
        """Record a proposal. `deliverers`: the parties that delivered the subject, asked for
        their consent when this would be the subject's first active version."""
        shares = validate_shares(shares)
        in_force = self.version_in_force(effective_from)
        affected = sorted(set(shares) | set(in_force["shares"] if in_force else ()))
        first = not any(v["status"] == "active" for v in self.versions)
        self._proposed(
            version=len(self.versions) + 1,
            shares=shares,
            effective_from=effective_from,
            proposed_by=proposed_by,
            required=affected,
            reason=reason,
            kind=kind,
            actor=actor,
            consent_from=sorted(set(deliverers)) if first else None,
        )
        return len(self.versions)

    @event("SplitVersionProposed")
    def _proposed(
        self,
        version: int,
        shares: dict[str, int],
        effective_from: datetime,
        proposed_by: str,
        required: list[str],
        reason: str,
        kind: str,
        actor: str,
        consent_from: list[str] | None = None,  # absent from events recorded before the rule
    ) -> None:
        self.versions.append(
            {
                "version": version,
                "shares": shares,
                "effective_from": effective_from,
                "proposed_by": proposed_by,
                "required": required,
                "accepted_by": {},
                "status": "proposed",
                "reason": reason,
                "kind": kind,
                "activated_by": None,
                "override_reason": None,
                "activation_seq": None,
                "consent_from": consent_from,
                "refused_by": None,
            }
        )

    def get_version(self, version: int) -> dict[str, Any]:
        if not 1 <= version <= len(self.versions):
            raise DomainError(f"{self.right} split of {self.subject_key} has no version {version}")
        return self.versions[version - 1]

    def _awaiting(self, version: int, party_key: str) -> dict[str, Any]:
        v = self.get_version(version)
        if v["status"] != "proposed":
            raise DomainError(f"version {version} is {v['status']}, not awaiting acceptance")
        if party_key not in v["required"] and party_key not in (v.get("consent_from") or ()):
            raise DomainError(f"{party_key} is not affected by version {version}")
        if party_key in v["accepted_by"]:
            raise DomainError(f"{party_key} has already accepted version {version}")
        return v

    def accept(self, version: int, party_key: str, actor: str) -> bool:
        """Record an acceptance; returns True when that completes the required acceptances."""
        v = self._awaiting(version, party_key)
        self._accepted(version=version, party_key=party_key, actor=actor)
        return not missing_consent(v)

    @event("SplitVersionAccepted")
    def _accepted(self, version: int, party_key: str, actor: str) -> None:
        self.versions[version - 1]["accepted_by"][party_key] = actor

    def refuse(self, version: int, party_key: str, reason: str, actor: str) -> None:
        """A party whose acceptance is asked says no: the version can never become active."""
        if not reason.strip():
            raise DomainError("a refusal needs a reason")
        self._awaiting(version, party_key)
        self._refused(version=version, party_key=party_key, reason=reason, actor=actor)

    @event("SplitVersionRefused")
    def _refused(self, version: int, party_key: str, reason: str, actor: str) -> None:
        self.versions[version - 1].update(status="refused", refused_by=party_key)

    def activate(self, version: int, actor: str, override_reason: str | None = None) -> None:
        v = self.get_version(version)
        if v["status"] != "proposed":
            raise DomainError(f"version {version} is {v['status']}, cannot activate")
        missing = missing_consent(v)
        if missing and not override_reason:
            raise DomainError(f"version {version} still needs {missing}; an admin override needs a reason")
        self._activated(version=version, override_reason=override_reason, actor=actor)

    @event("SplitVersionActivated")
    def _activated(self, version: int, override_reason: str | None, actor: str) -> None:
        self.activation_seq += 1
        v = self.versions[version - 1]
        v.update(
            status="active", activated_by=actor, override_reason=override_reason, activation_seq=self.activation_seq
        )

    def version_in_force(self, at: datetime) -> dict[str, Any] | None:
        candidates = [v for v in self.versions if v["status"] == "active" and v["effective_from"] <= at]
        if not candidates:
            return None
        return max(candidates, key=lambda v: (v["effective_from"], v["activation_seq"]))


def missing_consent(version: dict[str, Any]) -> str:
    """What a proposed version still lacks before it activates by acceptance alone ("" if nothing)."""
    accepted = set(version["accepted_by"])
    needs = []
    missing = sorted(set(version["required"]) - accepted)
    if missing:
        needs.append(f"acceptance from {', '.join(missing)}")
    consent_from = version.get("consent_from")
    if consent_from is not None and not accepted & set(consent_from):
        needs.append(
            f"a first version needs the acceptance of a party that delivered the subject "
            f"({', '.join(consent_from)}) or an operator's override"
            if consent_from
            else "a first version of a subject no party is known to have delivered needs an operator's override"
        )
    return " and ".join(needs)
