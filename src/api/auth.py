"""API keys and principals: shown once, stored as argon2 hashes in the log, verified per request.

A key reads `rk_<key id>_<secret>`. The key id is not secret: it names the ApiKey aggregate,
so a request costs one aggregate load plus, the first time a process sees the key, one argon2
verify (slow on purpose). After that a SHA-256 of the verified secret is kept in memory only,
so a hot key is checked in microseconds; revocation is still read from the log every time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.application import AggregateNotFoundError

from ledger.application import NotFound, RoyaltyLedger
from ledger.domain.api_key import ROLES, ApiKey, api_key_id
from ledger.domain.party import DomainError, Party
from ledger.domain.text import check_text

PREFIX = "rk"
_HASHER = PasswordHasher()


class Unauthenticated(Exception):
    """No key, a malformed key, an unknown or revoked key, or a wrong secret (401)."""


class Forbidden(Exception):
    """The key is valid but its role or party scope does not allow this (403)."""


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: str
    party_key: str | None
    scope: frozenset[str] = field(default_factory=frozenset)
    operator: str | None = None

    @classmethod
    def for_operator(cls, actor: str) -> Principal:
        """The operator at the command line: an admin recorded under its own actor name."""
        return cls(key_id="operator", role="admin", party_key=None, operator=actor)

    @property
    def actor(self) -> str:
        """What events record as their actor: the key, its role and its party (or the operator)."""
        if self.operator:
            return self.operator
        base = f"apikey:{self.key_id}/{self.role}"
        return f"{base}/{self.party_key}" if self.party_key else base

    @property
    def is_party(self) -> bool:
        return self.role == "party"

    def may_act_for(self, party_key: str) -> bool:
        """Party keys act for their party and the parties it manages; other roles are not scoped."""
        return not self.is_party or party_key in self.scope


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    secret: str
    role: str
    party_key: str | None
    label: str

    @property
    def token(self) -> str:
        return f"{PREFIX}_{self.key_id}_{self.secret}"


def create_key(app: RoyaltyLedger, role: str, actor: str, party_key: str | None = None, label: str = "") -> IssuedKey:
    """Record a new key (hash only) and return the one and only copy of its secret."""
    if role not in ROLES:
        raise DomainError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    check_text(label, "label", "key")
    if party_key:
        app.require_parties([party_key])
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        key_id=key_id,
        role=role,
        party_key=party_key or None,
        secret_hash=_HASHER.hash(secret),
        label=label,
        actor=actor,
    )
    app.save(key)
    return IssuedKey(key_id, secret, role, party_key or None, label)


def get_key(app: RoyaltyLedger, key_id: str) -> ApiKey:
    try:
        key: Any = app.repository.get(api_key_id(key_id))
    except AggregateNotFoundError:
        raise NotFound(f"API key {key_id}: not found") from None
    assert isinstance(key, ApiKey)
    return key


def revoke_key(app: RoyaltyLedger, key_id: str, reason: str, actor: str) -> ApiKey:
    key = get_key(app, key_id)
    key.revoke(reason or "revoked", actor)
    app.save(key)
    return key


def list_keys(app: RoyaltyLedger) -> list[dict[str, Any]]:
    """Every key ever issued, oldest first: id, role, party, label, revoked — never the hash."""
    ids = dict.fromkeys(app.aggregate_ids_with(ApiKey.Created))
    out = []
    for aggregate_id in ids:
        key: Any = app.repository.get(aggregate_id)
        assert isinstance(key, ApiKey)
        out.append(key_doc(key))
    return out


def key_doc(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "role": key.role,
        "party_key": key.party_key,
        "label": key.label,
        "created_at": key.created_on,
        "revoked": key.revoked,
        "revoked_reason": key.revoked_reason or None,
    }


def split_token(token: str) -> tuple[str, str]:
    prefix, _, rest = token.strip().partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or len(key_id) != 16 or not secret:
        raise Unauthenticated("malformed API key: expected rk_<key id>_<secret>")
    return key_id, secret


class Authenticator:
    """Verifies tokens against the log; caches proof of a verified secret, never the secret.

    A verified principal is reused for `ttl_s` (default 2 s) so a hot key costs no store
    read. Revocations and manager changes made through this process take effect at once
    (`forget`); made elsewhere (the CLI, another worker), within `ttl_s`.
    """

    def __init__(self, app: RoyaltyLedger, ttl_s: float = 2.0) -> None:
        self.app = app
        self.ttl_s = ttl_s
        self.scopes = ManagedParties(app)
        self._verified: dict[str, bytes] = {}
        self._recent: dict[bytes, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def recent(self, token: str | None) -> Principal | None:
        """The principal verified for this token less than `ttl_s` ago (memory only), if any."""
        if not token:
            return None
        with self._lock:
            found = self._recent.get(hashlib.sha256(token.encode()).digest())
        return found[0] if found is not None and found[1] > time.monotonic() else None

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthenticated("an API key is required: Authorization: Bearer rk_…")
        recent = self.recent(token)
        if recent is not None:
            return recent
        digest = hashlib.sha256(token.encode()).digest()
        now = time.monotonic()
        principal = self._authenticate(token)
        with self._lock:
            if len(self._recent) > 10_000:
                self._recent.clear()
            self._recent[digest] = (principal, now + self.ttl_s)
        return principal

    def forget(self) -> None:
        """Drop every cached principal (after a revocation or a change of managers)."""
        with self._lock:
            self._recent.clear()

    def _authenticate(self, token: str) -> Principal:
        key_id, secret = split_token(token)
        try:
            key = get_key(self.app, key_id)
        except NotFound:
            raise Unauthenticated("unknown API key") from None
        if key.revoked:
            raise Unauthenticated(f"API key {key_id} was revoked")
        self._verify(key, secret)
        scope = self.scopes.scope_of(key.party_key) if key.party_key else frozenset()
        return Principal(key.key_id, key.role, key.party_key, scope)

    def _verify(self, key: ApiKey, secret: str) -> None:
        proof = hashlib.sha256(f"{key.key_id}:{secret}".encode()).digest()
        with self._lock:
            known = self._verified.get(key.key_id)
        if known is not None and hmac.compare_digest(known, proof):
            return
        try:
            _HASHER.verify(key.secret_hash, secret)
        except (VerificationError, InvalidHashError):
            raise Unauthenticated("wrong secret for this API key") from None
        with self._lock:
            self._verified[key.key_id] = proof


class ManagedParties:
    """Which parties each party manages (Party.ManagerAdded), followed incrementally."""

    def __init__(self, app: RoyaltyLedger) -> None:
        self.app = app
        self._managed: dict[str, set[str]] = {}
        self._next = 1
        self._lock = threading.Lock()
        self._topics = app.topics_of(Party.ManagerAdded)  # type: ignore[attr-defined]

    def scope_of(self, party_key: str) -> frozenset[str]:
        with self._lock:
            head = self.app.head_position()
            if head >= self._next:
                for n in self.app.read_log(self._next, stop=head, topics=self._topics):
                    event = self.app.decode(n)
                    party: Any = self.app.repository.get(UUID(str(n.originator_id)))
                    self._managed.setdefault(event.manager_key, set()).add(party.key)
                self._next = head + 1
            return frozenset({party_key, *self._managed.get(party_key, ())})
