"""Pools: money collected for a period (subscriptions, patronage, a share of the co-op's surplus),
distributed at the period's close by a configured, versioned rule (docs/pools.md).

A `Pool` holds its rule versions; each is in force from a month (`effective_from`, "YYYY-MM") and
the version for a period is the latest one effective at its start, as known at the as-of position
(two for the same month: the one recorded later). A `Collective` holds the members' shares its
support is split by. Contributions are rows in the `pool_contributions` table, written beside one
`PoolContributionBatch` event (as usage rows are beside a UsageBatch).
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE
from ledger.domain.party import DomainError
from ledger.domain.shares import PPM_WHOLE

POOL_KINDS = ("subscription", "patronage", "surplus")
METHODS = ("pro-rata", "user-centric", "equal-share")  # also the tie-break order of a hybrid's parts
RULE_METHODS = (*METHODS, "hybrid")
FALLBACKS = ("pro-rata", "coop-fund")
PLAY_SCOPES = ("contributors", "all")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def pool_id(key: str) -> UUID:
    return uuid5(NAMESPACE, f"pool:{key}")


def collective_id(party_key: str) -> UUID:
    return uuid5(NAMESPACE, f"collective:{party_key}")


def contribution_batch_id(source: str, rows_sha256: str) -> UUID:
    return uuid5(NAMESPACE, f"pool-contributions:{source}:{rows_sha256}")


def check_pool_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise DomainError(f"pool key {key!r}: lower-case letters, digits, '-' or '_' (at most 63)")
    return key


def check_month(text: str, what: str = "effective_from") -> str:
    if not _MONTH.fullmatch(text):
        raise DomainError(f"{what} {text!r}: expected a month YYYY-MM")
    return text


def _count(rule: dict[str, Any], name: str, default: int = 0) -> int:
    value = rule.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DomainError(f"pool rule: {name} must be a non-negative integer, got {value!r}")
    return value


def validate_rule(rule: dict[str, Any], pool_kind: str) -> dict[str, Any]:
    """A rule in its normal form: method, weights (ppm by method, summing to 10⁶), fallback,
    eligible parties, min_plays, floor_micros, cap_micros (0: none) and the plays it counts."""
    unknown = set(rule) - {
        "method",
        "weights",
        "fallback",
        "eligible",
        "min_plays",
        "floor_micros",
        "cap_micros",
        "plays",
    }
    if unknown:
        raise DomainError(f"pool rule: unknown field(s) {', '.join(sorted(unknown))}")
    method = rule.get("method")
    if method not in RULE_METHODS:
        raise DomainError(f"pool rule: method {method!r}, expected one of {', '.join(RULE_METHODS)}")
    if method == "hybrid":
        weights = rule.get("weights")
        if not isinstance(weights, dict) or not weights or set(weights) - set(METHODS):
            raise DomainError(f"pool rule: a hybrid needs weights by method ({', '.join(METHODS)}) in ppm")
        for name, ppm in weights.items():
            if not isinstance(ppm, int) or isinstance(ppm, bool) or ppm < 0:
                raise DomainError(f"pool rule: weight of {name} must be a non-negative integer ppm")
        if sum(weights.values()) != PPM_WHOLE:
            raise DomainError(f"pool rule: weights sum to {sum(weights.values()):,} ppm, not 1,000,000")
        clean_weights = {m: int(weights.get(m, 0)) for m in METHODS}
    else:
        if "weights" in rule:
            raise DomainError("pool rule: weights are for a hybrid rule only")
        clean_weights = {m: PPM_WHOLE if m == method else 0 for m in METHODS}
    fallback = rule.get("fallback", "pro-rata")
    if fallback not in FALLBACKS:
        raise DomainError(f"pool rule: fallback {fallback!r}, expected one of {', '.join(FALLBACKS)}")
    eligible = rule.get("eligible", [])
    if not isinstance(eligible, list) or not all(isinstance(p, str) and p for p in eligible):
        raise DomainError("pool rule: eligible must be a list of party keys")
    if clean_weights["equal-share"] and not eligible:
        raise DomainError("pool rule: an equal share needs the eligible parties (--eligible)")
    if len(set(eligible)) != len(eligible):
        raise DomainError("pool rule: a party is named twice in eligible")
    plays = rule.get("plays", "contributors" if pool_kind == "subscription" else "all")
    if plays not in PLAY_SCOPES:
        raise DomainError(f"pool rule: plays {plays!r}, expected one of {', '.join(PLAY_SCOPES)}")
    return {
        "method": method,
        "weights": clean_weights,
        "fallback": fallback,
        "eligible": sorted(eligible),
        "min_plays": _count(rule, "min_plays"),
        "floor_micros": _count(rule, "floor_micros"),
        "cap_micros": _count(rule, "cap_micros"),
        "plays": plays,
    }


class Pool(Aggregate):
    @staticmethod
    def create_id(key: str, **_: Any) -> Any:
        return pool_id(key)

    @event("Configured")
    def __init__(self, key: str, name: str, kind: str, currency: str, actor: str) -> None:
        self.key, self.name, self.kind, self.currency = key, name, kind, currency
        self.versions: list[dict[str, Any]] = []

    def record_rule(self, rule: dict[str, Any], effective_from: str, reason: str, actor: str) -> int:
        clean = validate_rule(rule, self.kind)
        self._rule_recorded(
            version=len(self.versions) + 1,
            rule=clean,
            effective_from=check_month(effective_from),
            reason=reason,
            actor=actor,
        )
        return len(self.versions)

    @event("RuleVersionRecorded")
    def _rule_recorded(self, version: int, rule: dict[str, Any], effective_from: str, reason: str, actor: str) -> None:
        self.versions.append({"version": version, "rule": rule, "effective_from": effective_from, "reason": reason})


class Collective(Aggregate):
    """A collective's members and their shares (ppm summing to 10⁶): its support is split by them."""

    @staticmethod
    def create_id(party_key: str, **_: Any) -> Any:
        return collective_id(party_key)

    @event("Formed")
    def __init__(self, party_key: str, actor: str) -> None:
        self.party_key = party_key
        self.versions: list[dict[str, Any]] = []

    def set_members(self, members: dict[str, int], effective_from: str, actor: str) -> int:
        if not members:
            raise DomainError("a collective needs at least one member")
        if self.party_key in members:
            raise DomainError("a collective cannot be its own member")
        for party, ppm in members.items():
            if not isinstance(ppm, int) or isinstance(ppm, bool) or ppm <= 0:
                raise DomainError(f"member {party}: share must be a positive integer ppm")
        if sum(members.values()) != PPM_WHOLE:
            raise DomainError(f"members' shares sum to {sum(members.values()):,} ppm, not 1,000,000")
        self._members_set(
            version=len(self.versions) + 1,
            members=dict(sorted(members.items())),
            effective_from=check_month(effective_from),
            actor=actor,
        )
        return len(self.versions)

    @event("MembersSet")
    def _members_set(self, version: int, members: dict[str, int], effective_from: str, actor: str) -> None:
        self.versions.append({"version": version, "members": members, "effective_from": effective_from})


class PoolContributionBatch(Aggregate):
    """One accepted batch of contributions; its rows are written in the same transaction."""

    @staticmethod
    def create_id(source: str, rows_sha256: str, **_: Any) -> Any:
        return contribution_batch_id(source, rows_sha256)

    @event("Recorded")
    def __init__(
        self,
        source: str,
        rows_sha256: str,
        row_count: int,
        totals: dict[str, int],
        quarantined: dict[str, int],
        duplicates: int,
        origin: str,
        actor: str,
    ) -> None:
        self.source, self.rows_sha256, self.row_count = source, rows_sha256, row_count
        self.totals, self.quarantined, self.duplicates = totals, quarantined, duplicates


def gift_credit_id(gift_id: str) -> UUID:
    return uuid5(NAMESPACE, f"gift-credit:{gift_id}")


class GiftCredit(Aggregate):
    """Credits granted to a listener (an HMAC) by the co-op or by a friend (`listener:<HMAC>`),
    spent through stream2own like bought credits; the grant's row is in `gift_credits`."""

    @staticmethod
    def create_id(gift_id: str, **_: Any) -> Any:
        return gift_credit_id(gift_id)

    @event("Granted")
    def __init__(
        self, gift_id: str, listener_hash: str, funded_by: str, currency: str, amount_micros: int, actor: str
    ) -> None:
        if amount_micros <= 0:
            raise DomainError(f"a gift must be positive, got {amount_micros} micro-units")
        self.gift_id, self.listener_hash, self.funded_by = gift_id, listener_hash, funded_by
        self.currency, self.amount_micros = currency, amount_micros


def pool_subscription_id(provider: str, subscription_id: str) -> UUID:
    return uuid5(NAMESPACE, f"pool-subscription:{provider}:{subscription_id}")


class PoolSubscription(Aggregate):
    """A payment provider's subscription tied to a pool and a subscriber (an HMAC): its invoices
    are that subscriber's contributions to that pool."""

    @staticmethod
    def create_id(provider: str, subscription_id: str, **_: Any) -> Any:
        return pool_subscription_id(provider, subscription_id)

    @event("Linked")
    def __init__(
        self, provider: str, subscription_id: str, pool: str, listener_hash: str, status: str, actor: str
    ) -> None:
        self.provider, self.subscription_id, self.pool = provider, subscription_id, pool
        self.listener_hash, self.status = listener_hash, status

    @event("StatusChanged")
    def change_status(self, status: str, actor: str) -> None:
        self.status = status
