"""ApiKey: who may call the HTTP API, in which role and for which party — only a slow hash, never the secret."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE
from ledger.domain.party import DomainError

ROLES = ("admin", "distributor", "platform", "party", "accountant", "auditor", "dispute_handler")


def api_key_id(key_id: str) -> UUID:
    """The aggregate id of a key, from its public (non-secret) key id."""
    return uuid5(NAMESPACE, f"api-key:{key_id}")


class ApiKey(Aggregate):
    """One key. The caller hashes the secret (argon2) before it reaches the domain."""

    @staticmethod
    def create_id(key_id: str, **_: Any) -> Any:
        return api_key_id(key_id)

    @event("Created")
    def __init__(
        self,
        key_id: str,
        role: str,
        party_key: str | None,
        secret_hash: str,
        label: str,
        actor: str,
    ) -> None:
        if role not in ROLES:
            raise DomainError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        if role == "party" and not party_key:
            raise DomainError("a party key needs the party it acts for")
        self.key_id = key_id
        self.role = role
        self.party_key = party_key
        self.secret_hash = secret_hash
        self.label = label
        self.revoked = False
        self.revoked_reason = ""

    def revoke(self, reason: str, actor: str) -> None:
        if self.revoked:
            raise DomainError(f"key {self.key_id} is already revoked")
        self._revoked(reason=reason, actor=actor)

    @event("Revoked")
    def _revoked(self, reason: str, actor: str) -> None:
        self.revoked = True
        self.revoked_reason = reason
