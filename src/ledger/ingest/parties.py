"""Who a delivered party is: the ledger's party key, found by DPID, ISNI or IPI, else by name.

Deliveries name parties by message-local references; the ledger keys them. A delivered party
with an identifier the ledger knows is that party. Otherwise it is the party registered under
exactly its name, else its key is the slug of its name ("Aria Lune" → `aria-lune`) — unless a
party with that key holds a different identifier of the same type: then it is someone else with
the same name, keyed `<slug>-<identifier>`. Folded from the log's Party events, refreshed from
its last position.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.domain.party import Party
from ledger.ingest.delivery import DeliveredParty

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

IDENTIFIER_TYPES = ("dpid", "isni", "ipi")


@lru_cache(maxsize=1 << 14)
def slug(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "party"


def delivered_identifiers(party: DeliveredParty) -> dict[str, str]:
    found = {"dpid": party.dpid, "isni": party.isni, "ipi": party.ipi}
    return {k: v for k, v in found.items() if v}


def conflicts(known: dict[str, str], delivered: dict[str, str]) -> list[str]:
    """Identifier types both name, with different values."""
    return [t for t in IDENTIFIER_TYPES if known.get(t) and delivered.get(t) and known[t] != delivered[t]]


@dataclass
class KnownParty:
    key: str
    name: str
    kinds: list[str]
    identifiers: dict[str, str]
    verification: str = "unverified"


@dataclass
class PartyDirectory:
    by_key: dict[str, KnownParty] = field(default_factory=dict)
    by_identifier: dict[tuple[str, str], str] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)
    position: int = 0

    def note(self, party: Party) -> None:
        """Record a party's current state (after a load from the log or a save)."""
        known = self.by_key.get(party.key)
        if known is not None:
            for t, value in known.identifiers.items():
                self.by_identifier.pop((t, value), None)
        self.by_key[party.key] = KnownParty(
            party.key, party.name, list(party.kinds), dict(party.identifiers), party.verification
        )
        for t, value in party.identifiers.items():
            self.by_identifier[(t, value)] = party.key
        self.by_name.setdefault(party.name.casefold(), party.key)

    def by_dpid(self, dpid: str) -> KnownParty | None:
        key = self.by_identifier.get(("dpid", dpid))
        return self.by_key.get(key) if key else None

    def resolve(self, party: DeliveredParty, taken: dict[str, dict[str, str]] | None = None) -> str:
        """The key for a delivered party; `taken` holds parties keyed earlier in the same batch."""
        ids = delivered_identifiers(party)
        for t in IDENTIFIER_TYPES:
            if t in ids and (t, ids[t]) in self.by_identifier:
                return self.by_identifier[(t, ids[t])]
        for key in self.candidates(party):
            if not self._clashes(key, ids, taken or {}):
                return key
        base = slug(party.name)
        t = next(t for t in IDENTIFIER_TYPES if t in ids)
        return f"{base}-{ids[t].lower()}"

    def candidates(self, party: DeliveredParty) -> list[str]:
        """Keys a party without a known identifier may take, in order: its registered name's, its slug."""
        return [k for k in (self.by_name.get(party.name.casefold()), slug(party.name)) if k is not None]

    def _clashes(self, key: str, ids: dict[str, str], taken: dict[str, dict[str, str]]) -> bool:
        held = [taken.get(key), self.by_key[key].identifiers if key in self.by_key else None]
        return any(h is not None and conflicts(h, ids) for h in held)

    def refresh(self, app: RoyaltyLedger) -> PartyDirectory:
        """Fold the Party events recorded since the last refresh (touched parties are reloaded)."""
        topics = app.topics_of(Party.Registered, Party.DetailsUpdated, Party.VerificationChanged)  # type: ignore[attr-defined]
        touched: dict[UUID, None] = {}
        for notification in app.read_log(self.position + 1, topics=topics):
            touched[UUID(str(notification.originator_id))] = None
            self.position = max(self.position, notification.id)
        for party_uuid in touched:
            party: object = app.repository.get(party_uuid)
            assert isinstance(party, Party)
            self.note(party)
        return self


_DIRECTORIES: weakref.WeakKeyDictionary[object, PartyDirectory] = weakref.WeakKeyDictionary()


def party_directory(app: RoyaltyLedger) -> PartyDirectory:
    """The app's directory, refreshed to the log's head (one per app, kept between imports)."""
    directory = _DIRECTORIES.get(app)
    if directory is None:
        directory = _DIRECTORIES[app] = PartyDirectory()
    return directory.refresh(app)
