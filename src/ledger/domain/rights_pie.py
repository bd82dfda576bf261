"""RightsPieRuleSet: the configured, versioned cut of gross into platform, master and publishing.

One rule set for the whole ledger. Each version is effective from an instant (back-datable, like
split versions) and maps "kind:pricing_model" (either part may be "*") to three ppm shares that
sum to 10⁶. The version in force for a usage row is the latest effective_from ≤ occurred_at.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE
from ledger.domain.party import DomainError
from ledger.domain.shares import PPM_WHOLE

PIE_PARTS = ("platform", "master", "publishing")  # also the rights pie's tie-break order
# Usage kinds ("pool": money of a pool, docs/pools.md), and the right types of imported sales
# reports (issue 20: a rule "performance:SOURCE" is the pie of that right's income from that source).
USAGE_KINDS = (
    *("stream", "download", "purchase", "tip", "refund", "pool"),
    *("performance", "mechanical", "sync", "neighbouring", "master"),
    "*",
)


def rights_pie_id() -> UUID:
    return uuid5(NAMESPACE, "rights-pie")


def validate_pie_rules(rules: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Rules keyed "kind:pricing_model" → {platform, master, publishing} ppm summing to 10⁶."""
    if not rules:
        raise DomainError("a rights pie needs at least one rule")
    clean: dict[str, dict[str, int]] = {}
    for selector, parts in sorted(rules.items()):
        kind, sep, model = selector.partition(":")
        if not sep or kind not in USAGE_KINDS or not model:
            raise DomainError(f"pie rule {selector!r}: expected 'kind:pricing_model' (kind or model may be '*')")
        if set(parts) != set(PIE_PARTS):
            raise DomainError(f"pie rule {selector}: needs exactly {', '.join(PIE_PARTS)}")
        for name, ppm in parts.items():
            if not isinstance(ppm, int) or isinstance(ppm, bool) or ppm < 0:
                raise DomainError(f"pie rule {selector}: {name} must be a non-negative integer ppm")
        if sum(parts.values()) != PPM_WHOLE:
            raise DomainError(f"pie rule {selector}: parts sum to {sum(parts.values()):,} ppm, not 1,000,000")
        clean[selector] = {name: parts[name] for name in PIE_PARTS}
    return clean


def rule_for(rules: dict[str, dict[str, int]], kind: str, pricing_model: str) -> dict[str, int] | None:
    """The most specific rule: kind:model, then kind:*, then *:model, then *:*."""
    for selector in (f"{kind}:{pricing_model}", f"{kind}:*", f"*:{pricing_model}", "*:*"):
        if selector in rules:
            return rules[selector]
    return None


class RightsPieRuleSet(Aggregate):
    @staticmethod
    def create_id(**_: Any) -> Any:
        return rights_pie_id()

    @event("Opened")
    def __init__(self, actor: str) -> None:
        self.versions: list[dict[str, Any]] = []

    def add_version(self, rules: dict[str, dict[str, int]], effective_from: datetime, reason: str, actor: str) -> int:
        self._version_recorded(
            version=len(self.versions) + 1,
            rules=validate_pie_rules(rules),
            effective_from=effective_from,
            reason=reason,
            actor=actor,
        )
        return len(self.versions)

    @event("RightsPieVersionRecorded")
    def _version_recorded(
        self,
        version: int,
        rules: dict[str, dict[str, int]],
        effective_from: datetime,
        reason: str,
        actor: str,
    ) -> None:
        self.versions.append({"version": version, "rules": rules, "effective_from": effective_from, "reason": reason})
