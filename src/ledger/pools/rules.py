"""The distribution rules of a pool, exact to the micro-unit (docs/pools.md has worked examples).

Pure: given what the store summed for a pool and a period (each subscriber's user-centric result
already cut by `user_centric_reference` or its SQL twin in projections.statements.pools), split
the pool into recordings (then through each recording's rights pie and splits, like any
revenue), parties (equal share, direct patronage; a collective by its members' shares), the
co-op fund and the pool's own undistributed account. Every split is largest-remainder with a
stated tie-break, so the parts always sum to the pool.

A hybrid rule (the pure rules are hybrids with one weight of 10⁶):
1. each subscriber's net payment is cut by the weights (LR; ties pro-rata, user-centric,
   equal share); money no subscriber paid (the co-op's, a refund net) is cut the same way, its
   user-centric part has nobody's plays and goes to the fallback;
2. the user-centric part of a subscriber is split over that subscriber's counted plays of the
   eligible recordings (LR; ties by ISRC); a subscriber with none goes to the fallback
   (the pro-rata part, or the co-op fund);
3. floors come out of the pro-rata part: each eligible recording gets min(floor, equal share);
4. the pro-rata part by the eligible recordings' counted plays (ties by ISRC);
5. the equal-share part equally among the eligible parties (ties by party key: ≤ 1 µ apart);
6. a recording's total above the cap goes to the co-op fund.
Eligible recordings have at least `min_plays` counted plays of the pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.domain.money import allocate_largest_remainder
from ledger.domain.pool import METHODS

PPM = 1_000_000
COOP_FUND = "coop-fund"


def pool_account(key: str) -> str:
    """The pool's own account: money the rule could not give anyone yet (no plays, no parties)."""
    return f"pool:{key}"


def equal_share(amount: int, keys: list[str]) -> dict[str, int]:
    """`amount` equally over `keys` (sorted): parts differ by at most one micro-unit."""
    ordered = sorted(keys)
    return allocate_largest_remainder(amount, [(k, 1) for k in ordered]) if ordered else {}


def by_weights(amount: int, weights: Mapping[str, int]) -> dict[str, int]:
    """`amount` cut by the rule's method weights (ppm), ties in METHODS order."""
    return allocate_largest_remainder(amount, [(m, weights.get(m, 0)) for m in METHODS])


def by_plays(amount: int, plays: Mapping[str, int]) -> dict[str, int]:
    """Pro-rata: `amount` by counted plays, ties by ISRC; {} when nothing was played."""
    ordered = sorted((r, n) for r, n in plays.items() if n > 0)
    return allocate_largest_remainder(amount, ordered) if ordered else {}


@dataclass
class UserCentric:
    """What the per-subscriber step yields (the store computes it column-wise at scale)."""

    subscribers: int = 0
    paid: int = 0  # Σ net payments of subscribers with a positive net
    per_recording: dict[str, int] = field(default_factory=dict)  # their user-centric money, by recording
    listeners: dict[str, int] = field(default_factory=dict)  # subscribers who played each recording
    pro_rata: int = 0  # Σ of the subscribers' pro-rata parts
    equal: int = 0  # Σ of their equal-share parts
    no_plays: int = 0  # user-centric parts of subscribers with no eligible play (to the fallback)


def user_centric_reference(
    payments: Mapping[str, int], plays: Mapping[str, Mapping[str, int]], weights: Mapping[str, int], min_plays: int
) -> tuple[UserCentric, dict[str, int]]:
    """The per-subscriber step in plain Python (the obviously-correct model of the SQL), and the
    eligible recordings' counted plays. `payments`: net by listener HMAC; `plays`: listener →
    recording → counted plays (only listeners with a positive net count)."""
    subs = {s: a for s, a in payments.items() if a > 0}
    totals: dict[str, int] = {}
    for s in subs:
        for r, n in plays.get(s, {}).items():
            totals[r] = totals.get(r, 0) + n
    eligible = {r: n for r, n in totals.items() if n >= max(min_plays, 1)}
    out = UserCentric(subscribers=len(subs), paid=sum(subs.values()))
    for s, a in sorted(subs.items()):
        parts = by_weights(a, weights)
        out.pro_rata += parts["pro-rata"]
        out.equal += parts["equal-share"]
        own = {r: n for r, n in plays.get(s, {}).items() if r in eligible and n > 0}
        if not own:
            out.no_plays += parts["user-centric"]
            continue
        for r, micros in by_plays(parts["user-centric"], own).items():
            out.per_recording[r] = out.per_recording.get(r, 0) + micros
            out.listeners[r] = out.listeners.get(r, 0) + 1
    return out, eligible


@dataclass
class PoolInputs:
    key: str
    rule: dict[str, Any]
    untargeted: int  # every untargeted contribution's net in the period (subscribers' and others')
    targeted: dict[str, int]  # patronage for a named party: party → net
    plays: dict[str, int]  # eligible recordings' counted plays of the pool
    uc: UserCentric


@dataclass
class PoolDistribution:
    recordings: dict[str, int] = field(default_factory=dict)  # isrc → micro-units
    parties: dict[tuple[str, str, str, int], int] = field(default_factory=dict)  # (party, part, via, ppm) → µ
    coop_fund: dict[str, int] = field(default_factory=dict)  # reason → µ
    undistributed: dict[str, int] = field(default_factory=dict)  # reason → µ
    components: dict[str, int] = field(default_factory=dict)  # the pots, for reports

    def total(self) -> int:
        return (
            sum(self.recordings.values())
            + sum(self.parties.values())
            + sum(self.coop_fund.values())
            + sum(self.undistributed.values())
        )


def _add(target: dict[Any, int], key: Any, micros: int) -> None:
    if micros:
        target[key] = target.get(key, 0) + micros


MembersOf = Mapping[str, Mapping[str, int] | None]


def _to_party(out: PoolDistribution, party: str, part: str, micros: int, members: MembersOf) -> None:
    """A party's money; a collective's goes on to its members by their shares (LR, key order)."""
    shares = members.get(party)
    if not shares:
        _add(out.parties, (party, part, "", PPM), micros)
        return
    for member, amount in allocate_largest_remainder(micros, sorted(shares.items())).items():
        _add(out.parties, (member, part, party, int(shares[member])), amount)


def distribute(inputs: PoolInputs, members: MembersOf) -> PoolDistribution:
    """Every micro-unit of the pool's period to exactly one recording, party or account."""
    rule, uc, out = inputs.rule, inputs.uc, PoolDistribution()
    weights = rule["weights"]
    others = by_weights(inputs.untargeted - uc.paid, weights)
    fallback = others["user-centric"] + uc.no_plays
    pro_rata = others["pro-rata"] + uc.pro_rata
    equal = others["equal-share"] + uc.equal
    if rule["fallback"] == "pro-rata":
        pro_rata += fallback
    else:
        _add(out.coop_fund, "fallback", fallback)
    out.components = {
        "user-centric": sum(uc.per_recording.values()),
        "pro-rata": pro_rata,
        "equal-share": equal,
        "fallback": fallback,
    }
    for r, micros in uc.per_recording.items():
        _add(out.recordings, r, micros)
    floor = rule["floor_micros"]
    if floor and pro_rata > 0 and inputs.plays:
        floors = equal_share(min(pro_rata, floor * len(inputs.plays)), list(inputs.plays))
        for r, micros in floors.items():
            _add(out.recordings, r, micros)
        pro_rata -= sum(floors.values())
    shares = by_plays(pro_rata, inputs.plays)
    for r, micros in shares.items():
        _add(out.recordings, r, micros)
    if not shares:
        _add(out.undistributed, "no-plays", pro_rata)
    for party, micros in equal_share(equal, rule["eligible"]).items():
        _to_party(out, party, "equal-share", micros, members)
    if not rule["eligible"]:
        _add(out.undistributed, "no-eligible-parties", equal)
    cap = rule["cap_micros"]
    if cap:
        for r in sorted(out.recordings):
            if out.recordings[r] > cap:
                _add(out.coop_fund, "cap-excess", out.recordings[r] - cap)
                out.recordings[r] = cap
    for party, micros in sorted(inputs.targeted.items()):
        _to_party(out, party, "direct", micros, members)
    return out
