"""PartyContact: where a party receives its statements (an email address), set by an operator."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE
from ledger.domain.party import DomainError

# A pragmatic shape check (one @, a dot in the domain, no spaces or control characters):
# the SMTP server is the judge of an address; this only refuses typos early.
EMAIL = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]{2,}$")


def party_contact_id(party: str) -> UUID:
    return uuid5(NAMESPACE, f"party-contact:{party}")


def check_email(address: str) -> str:
    address = address.strip()
    if len(address) > 254 or not EMAIL.match(address):
        raise DomainError(f"email address {address!r}: expected name@domain.tld")
    return address


class PartyContact(Aggregate):
    @staticmethod
    def create_id(party: str, **_: Any) -> Any:
        return party_contact_id(party)

    @event("Registered")
    def __init__(self, party: str, email: str, actor: str) -> None:
        self.party = party
        self.email = check_email(email)

    def change_email(self, email: str, actor: str) -> None:
        self._email_changed(email=check_email(email), actor=actor)

    @event("EmailChanged")
    def _email_changed(self, email: str, actor: str) -> None:
        self.email = email
