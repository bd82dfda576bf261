"""Party: an artist, label, publisher, distributor, writer, producer or performer, and its verification."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import party_id

PARTY_KINDS = frozenset(
    {
        "artist",
        "label",
        "publisher",
        "distributor",
        "writer",
        "producer",
        "performer",
        "engineer",
        "mixer",
        "musician",
        "platform",
        "other",
    }
)
VERIFICATION_STATES = ("unverified", "verified", "suspended")


class DomainError(ValueError):
    """A command that the domain refuses; the message says why, for a person to act on."""


class Party(Aggregate):
    @staticmethod
    def create_id(key: str, **_: Any) -> Any:
        return party_id(key)

    @event("Registered")
    def __init__(self, key: str, name: str, kinds: list[str], identifiers: dict[str, str], actor: str) -> None:
        self.key = key
        self.name = name
        self.kinds = kinds
        self.identifiers = identifiers
        self.verification = "unverified"
        self.verification_history: list[dict[str, str]] = []
        self.managed_by: list[str] = []
        self.payout_account: str | None = None

    @event("DetailsUpdated")
    def update_details(self, name: str, kinds: list[str], identifiers: dict[str, str], actor: str) -> None:
        self.name, self.kinds, self.identifiers = name, kinds, identifiers

    def set_verification(self, state: str, reason: str, actor: str) -> None:
        if state not in VERIFICATION_STATES:
            raise DomainError(f"verification state {state!r}: expected one of {VERIFICATION_STATES}")
        if state == self.verification:
            raise DomainError(f"party {self.key} is already {state}")
        self._verification_changed(state=state, reason=reason, actor=actor)

    @event("VerificationChanged")
    def _verification_changed(self, state: str, reason: str, actor: str) -> None:
        self.verification_history.append({"from": self.verification, "to": state, "reason": reason, "actor": actor})
        self.verification = state

    @event("ManagerAdded")
    def add_manager(self, manager_key: str, actor: str) -> None:
        """A label or distributor that may act for this party (party-scoped API keys)."""
        self.managed_by.append(manager_key)

    @event("ProfileUpdated")
    def update_profile(
        self, biography: str, links: list[dict[str, str]], images: list[dict[str, Any]], actor: str
    ) -> None:
        """What the party shows of itself: a biography, links (http/https), press images (blobs
        by SHA-256). The whole profile each time, so one event says what it became."""
        self.biography, self.links, self.images = biography, links, images

    @property
    def profile(self) -> dict[str, Any]:
        """The profile as last recorded (parties registered before profiles: empty)."""
        return {
            "biography": getattr(self, "biography", ""),
            "links": list(getattr(self, "links", [])),
            "images": list(getattr(self, "images", [])),
        }

    @event("PayoutAccountLinked")
    def link_payout_account(self, account_ref: str, actor: str) -> None:
        self.payout_account = account_ref
