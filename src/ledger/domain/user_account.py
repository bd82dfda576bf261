"""UserAccount: a person who logs in to the dashboard, tied to one party and a role — only a slow
password hash (argon2, made by the caller), never the password."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE
from ledger.domain.party import DomainError

# party: an artist's or a label's people (they see their party and the parties it manages);
# admin: operators (they see everything); accountant and auditor read everything.
USER_ROLES = ("party", "admin", "accountant", "auditor")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")


def user_account_id(username: str) -> UUID:
    return uuid5(NAMESPACE, f"user-account:{username}")


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise DomainError(
            f"username {username!r}: 2–64 characters, lower-case letters, digits and . _ @ -, "
            "starting with a letter or digit"
        )
    return username


class UserAccount(Aggregate):
    @staticmethod
    def create_id(username: str, **_: Any) -> Any:
        return user_account_id(username)

    @event("Created")
    def __init__(self, username: str, role: str, party_key: str | None, password_hash: str, actor: str) -> None:
        check_username(username)
        if role not in USER_ROLES:
            raise DomainError(f"role {role!r}: expected one of {', '.join(USER_ROLES)}")
        if role == "party" and not party_key:
            raise DomainError("a party user needs the party it acts for (--party)")
        self.username = username
        self.role = role
        self.party_key = party_key
        self.password_hash = password_hash
        self.disabled = False

    def change_password(self, password_hash: str, actor: str) -> None:
        self._password_changed(password_hash=password_hash, actor=actor)

    @event("PasswordChanged")
    def _password_changed(self, password_hash: str, actor: str) -> None:
        self.password_hash = password_hash

    def disable(self, reason: str, actor: str) -> None:
        if self.disabled:
            raise DomainError(f"user {self.username} is already disabled")
        self._disabled(reason=reason, actor=actor)

    @event("Disabled")
    def _disabled(self, reason: str, actor: str) -> None:
        self.disabled = True
