"""Dashboard user accounts: created by an operator (`royalty users create`), passwords kept only
as argon2 hashes in the log, verified at login. API keys stay for machines."""

from __future__ import annotations

from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.application import AggregateNotFoundError

from api import auth
from ledger.application import NotFound, RoyaltyLedger
from ledger.domain.party import DomainError
from ledger.domain.user_account import UserAccount, check_username, user_account_id

MIN_PASSWORD = 12
# Verified against when the username is unknown, so a wrong name costs the same time as a
# wrong password and login answers do not tell which names exist.
_DUMMY: dict[str, str] = {}


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise DomainError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise DomainError("a password may have at most 1024 characters")


def create_user(
    app: RoyaltyLedger, username: str, role: str, party_key: str | None, password: str, actor: str
) -> UserAccount:
    check_username(username)
    check_password(password)
    if party_key:
        app.require_parties([party_key])
    try:
        app.repository.get(user_account_id(username))
    except AggregateNotFoundError:
        pass
    else:
        raise DomainError(f"user {username} exists already")
    user = UserAccount(
        username=username,
        role=role,
        party_key=party_key or None,
        password_hash=auth._HASHER.hash(password),
        actor=actor,
    )
    app.save(user)
    return user


def get_user(app: RoyaltyLedger, username: str) -> UserAccount:
    try:
        user: Any = app.repository.get(user_account_id(username))
    except AggregateNotFoundError:
        raise NotFound(f"user {username}: not found") from None
    assert isinstance(user, UserAccount)
    return user


def set_password(app: RoyaltyLedger, username: str, password: str, actor: str) -> UserAccount:
    check_password(password)
    user = get_user(app, username)
    user.change_password(auth._HASHER.hash(password), actor)
    app.save(user)
    return user


def disable_user(app: RoyaltyLedger, username: str, reason: str, actor: str) -> UserAccount:
    user = get_user(app, username)
    user.disable(reason or "disabled", actor)
    app.save(user)
    return user


def list_users(app: RoyaltyLedger) -> list[dict[str, Any]]:
    out = []
    for aggregate_id in dict.fromkeys(app.aggregate_ids_with(UserAccount.Created)):
        user: Any = app.repository.get(aggregate_id)
        out.append(user_doc(user))
    return sorted(out, key=lambda u: u["username"])


def user_doc(user: UserAccount) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role,
        "party_key": user.party_key,
        "disabled": user.disabled,
        "created_at": user.created_on,
    }


def verify_login(app: RoyaltyLedger, username: str, password: str) -> UserAccount | None:
    """The user when the name and password match an enabled account; None otherwise."""
    try:
        user = get_user(app, username.strip().lower())
    except (NotFound, DomainError, ValueError):
        user = None
    hashed = user.password_hash if user else _DUMMY.setdefault("hash", auth._HASHER.hash("not-a-password-ever"))
    try:
        auth._HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return None
    return user if user is not None and not user.disabled else None
