"""ApiKey: roles, party keys, revocation — and only a hash ever reaches the log."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, profiles

from api.auth import Unauthenticated, create_key, list_keys, revoke_key, split_token
from ledger.application import RoyaltyLedger
from ledger.domain.api_key import ApiKey, api_key_id
from ledger.domain.party import DomainError

FAKE_HASH = "$argon2id$v=19$not-a-real-hash"


def test_a_key_needs_a_known_role_and_a_party_key_its_party() -> None:
    with pytest.raises(DomainError, match="role 'root'"):
        ApiKey(key_id="k1", role="root", party_key=None, secret_hash=FAKE_HASH, label="", actor="t")
    with pytest.raises(DomainError, match="needs the party"):
        ApiKey(key_id="k1", role="party", party_key=None, secret_hash=FAKE_HASH, label="", actor="t")
    key = ApiKey(key_id="k1", role="party", party_key="alice", secret_hash=FAKE_HASH, label="", actor="t")
    assert key.id == api_key_id("k1") and not key.revoked


def test_a_key_is_revoked_once() -> None:
    key = ApiKey(key_id="k1", role="admin", party_key=None, secret_hash=FAKE_HASH, label="", actor="t")
    key.revoke("left", "t")
    assert key.revoked and key.revoked_reason == "left"
    with pytest.raises(DomainError, match="already revoked"):
        key.revoke("again", "t")


def test_the_secret_never_reaches_the_log(memory_app: RoyaltyLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    from api import auth

    monkeypatch.setattr(auth, "_HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
    memory_app.upsert_party("alice", "Alice", ["artist"], "t")
    issued = create_key(memory_app, "party", "t", "alice", "phone")
    key_id, secret = split_token(issued.token)
    assert key_id == issued.key_id and secret == issued.secret
    stored = b"".join(bytes(n.state) for n in memory_app.read_log())
    assert secret.encode() not in stored and b"$argon2" in stored
    revoke_key(memory_app, key_id, "lost", "t")
    [listed] = list_keys(memory_app)
    assert listed["revoked"] is True and "secret_hash" not in listed
    with pytest.raises(DomainError):
        create_key(memory_app, "party", "t", "nobody")


@pytest.mark.parametrize("token", ["", "rk_short_x", "xx_0123456789abcdef_secret", "rk_0123456789abcdef_"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(Unauthenticated):
        split_token(token)
