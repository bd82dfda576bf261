"""Where parties receive their statements: set or change a party's email address."""

from __future__ import annotations

from eventsourcing.application import AggregateNotFoundError

from ledger.application import RoyaltyLedger
from ledger.domain.party_contact import PartyContact, check_email, party_contact_id


def set_party_email(app: RoyaltyLedger, party: str, email: str, actor: str) -> tuple[PartyContact, bool]:
    """Record the address (a registered party only); returns (contact, changed)."""
    app.require_parties([party])
    email = check_email(email)
    try:
        contact: PartyContact = app.repository.get(party_contact_id(party))
    except AggregateNotFoundError:
        contact = PartyContact(party=party, email=email, actor=actor)
    else:
        if contact.email == email:
            return contact, False
        contact.change_email(email, actor)
    app.save(contact)
    return contact, True


def party_email(app: RoyaltyLedger, party: str) -> str | None:
    try:
        contact: PartyContact = app.repository.get(party_contact_id(party))
    except AggregateNotFoundError:
        return None
    return contact.email
