"""Pool facts folded from the log with their positions, asked "as known at position X".

Folded by the rights history (`ledger.royalties.history`), so statements read them in the same
bulk read as splits and closes, and replay sees exactly what the close saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.domain.period import Period
from ledger.domain.pool import Collective, Pool


@dataclass(frozen=True, slots=True)
class PoolFact:
    key: str
    name: str
    kind: str
    currency: str
    position: int


@dataclass(frozen=True, slots=True)
class RuleFact:
    position: int
    version: int
    effective_from: str
    rule: dict[str, Any]


@dataclass
class PoolFacts:
    pools: dict[str, PoolFact] = field(default_factory=dict)
    rules: dict[str, list[RuleFact]] = field(default_factory=dict)
    collectives: dict[str, list[tuple[int, int, str, dict[str, int]]]] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)

    def pools_as_of(self, as_of: int) -> list[PoolFact]:
        return sorted((p for p in self.pools.values() if p.position <= as_of), key=lambda p: p.key)

    def rule_for(self, pool: str, period: Period, as_of: int) -> RuleFact | None:
        """The version in force for `period`: the latest effective at its start (recorded later
        wins a tie), among those recorded at or before `as_of`."""
        month = str(period)
        found = [r for r in self.rules.get(pool, ()) if r.position <= as_of and r.effective_from <= month]
        return max(found, key=lambda r: (r.effective_from, r.position)) if found else None

    def members_of(self, party: str, period: Period, as_of: int) -> dict[str, int] | None:
        """The collective's members' shares in force for `period`, or None for a single party."""
        month = str(period)
        found = [v for v in self.collectives.get(party, ()) if v[0] <= as_of and v[2] <= month]
        return max(found, key=lambda v: (v[2], v[0]))[3] if found else None


def _configured(facts: PoolFacts, position: int, e: Any) -> None:
    facts._keys[str(e.originator_id)] = e.key
    facts.pools[e.key] = PoolFact(e.key, e.name, e.kind, e.currency, position)


def _rule(facts: PoolFacts, position: int, e: Any) -> None:
    key = facts._keys[str(e.originator_id)]
    facts.rules.setdefault(key, []).append(RuleFact(position, e.version, e.effective_from, e.rule))


def _formed(facts: PoolFacts, position: int, e: Any) -> None:
    facts._keys[str(e.originator_id)] = e.party_key


def _members(facts: PoolFacts, position: int, e: Any) -> None:
    party = facts._keys[str(e.originator_id)]
    facts.collectives.setdefault(party, []).append((position, e.version, e.effective_from, dict(e.members)))


POOL_HANDLED: list[tuple[type, str, Any]] = [
    (Pool, "Configured", _configured),
    (Pool, "RuleVersionRecorded", _rule),
    (Collective, "Formed", _formed),
    (Collective, "MembersSet", _members),
]
