"""Allocating one key's cumulative gross: rights pie, splits, disputes into escrow, suspense.

DESIGN.md "Money": G is the key's gross summed over its accepted usage rows up to the as-of
position. LR(G) over the pie (ties: platform, master, publishing); the master part by LR over
the master version's shares, the publishing part by LR over the work's publishing version's
shares (ties: the account id that sorts first). An open dispute turns the claimed ppm of its
right into the weight of `escrow:<dispute id>`; a resolved one does the same, then releases that
escrow part by LR between the claimant (awarded ppm) and the holders it was taken from.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ledger.domain.money import allocate_by_shares, allocate_largest_remainder

PLATFORM = "platform"
NO_RIGHTS_PIE = "no-rights-pie"
NO_MASTER_SPLIT = "no-master-split"
NO_WORK = "no-work"
NO_PUBLISHING_SPLIT = "no-publishing-split"
TAKEN_DOWN = "taken-down"


def party_account(party_key: str) -> str:
    return f"party:{party_key}"


def escrow_account(dispute_id: str) -> str:
    return f"escrow:{dispute_id}"


def suspense_account(reason: str) -> str:
    return f"suspense:{reason}"


@dataclass(frozen=True, slots=True)
class DisputeClaim:
    """A dispute as known at the as-of position; outcome None while it is still open."""

    dispute_id: str
    claimant: str
    respondent: str | None
    claimed_ppm: int
    outcome: str | None = None
    awarded_ppm: int = 0


@dataclass(frozen=True, slots=True)
class RightContext:
    """Who holds one right for a stretch of time, or the suspense reason when nobody known does."""

    version: int | None
    shares: tuple[tuple[str, int], ...] = ()
    disputes: tuple[DisputeClaim, ...] = ()
    suspense_reason: str | None = None


@dataclass(frozen=True, slots=True)
class AllocationContext:
    """Everything in an allocation key that decides who is paid (besides period and currency)."""

    pie_version: int | None
    pie_parts: tuple[int, int, int] | None  # platform, master, publishing ppm
    master: RightContext
    publishing: RightContext
    blocked_reason: str | None = None


# (account, right, released_from): released_from is the dispute id for escrow releases, else "".
Part = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class _Weights:
    weights: tuple[tuple[str, int], ...]
    releases: tuple[tuple[DisputeClaim, int, tuple[tuple[str, int], ...]], ...]


def _take(shares: dict[str, int], claim: DisputeClaim) -> dict[str, int]:
    """The ppm a claim takes: from the respondent if named and holding, else pro rata (LR)."""
    if claim.respondent and claim.respondent != claim.claimant and shares.get(claim.respondent):
        return {claim.respondent: min(claim.claimed_ppm, shares[claim.respondent])}
    holders = sorted((p, s) for p, s in shares.items() if p != claim.claimant and s > 0)
    available = sum(s for _, s in holders)
    wanted = min(claim.claimed_ppm, available)
    if wanted == 0:
        return {}
    return {p: t for p, t in allocate_largest_remainder(wanted, holders).items() if t}


@lru_cache(maxsize=65_536)
def _right_weights(ctx: RightContext) -> _Weights:
    shares = dict(ctx.shares)
    held: list[tuple[DisputeClaim, int, tuple[tuple[str, int], ...]]] = []
    for claim in ctx.disputes:
        taken = _take(shares, claim)
        for party, ppm in taken.items():
            shares[party] -= ppm
        held.append((claim, sum(taken.values()), tuple(sorted(taken.items()))))
    weights = {party_account(p): s for p, s in shares.items() if s > 0}
    weights.update({escrow_account(c.dispute_id): ppm for c, ppm, _ in held if ppm > 0})
    releases = tuple(h for h in held if h[0].outcome is not None and h[1] > 0)
    return _Weights(tuple(sorted(weights.items())), releases)


def _allocate_right(amount: int, right: str, ctx: RightContext, out: dict[Part, int]) -> None:
    if ctx.suspense_reason is not None or ctx.version is None:
        _add(out, (suspense_account(ctx.suspense_reason or NO_MASTER_SPLIT), right, ""), amount)
        return
    plan = _right_weights(ctx)
    parts = allocate_by_shares(amount, dict(plan.weights))
    for claim, held_ppm, taken in plan.releases:
        escrowed = parts.pop(escrow_account(claim.dispute_id))
        awarded = min(claim.awarded_ppm, held_ppm)
        split = allocate_largest_remainder(escrowed, [("claimant", awarded), ("returned", held_ppm - awarded)])
        _add(out, (party_account(claim.claimant), right, claim.dispute_id), split["claimant"])
        for party, back in allocate_largest_remainder(split["returned"], list(taken)).items():
            _add(out, (party_account(party), right, claim.dispute_id), back)
    for account, micros in parts.items():
        _add(out, (account, right, ""), micros)


def _add(out: dict[Part, int], part: Part, micros: int) -> None:
    if micros:
        out[part] = out.get(part, 0) + micros


def allocate_key_detailed(gross_micros: int, ctx: AllocationContext) -> dict[Part, int]:
    """Allocate a key's cumulative gross to (account, right, released_from) parts summing to it."""
    out: dict[Part, int] = {}
    if ctx.blocked_reason is not None:
        _add(out, (suspense_account(TAKEN_DOWN), "all", ""), gross_micros)
        return out
    if ctx.pie_parts is None:
        _add(out, (suspense_account(NO_RIGHTS_PIE), "all", ""), gross_micros)
        return out
    platform_ppm, master_ppm, publishing_ppm = ctx.pie_parts
    pie = allocate_largest_remainder(
        gross_micros,
        [("platform", platform_ppm), ("master", master_ppm), ("publishing", publishing_ppm)],
    )
    _add(out, (PLATFORM, "platform", ""), pie["platform"])
    _allocate_right(pie["master"], "master", ctx.master, out)
    _allocate_right(pie["publishing"], "publishing", ctx.publishing, out)
    return out


def allocate_key(gross_micros: int, ctx: AllocationContext) -> dict[str, int]:
    """Allocate a key's cumulative gross to accounts; the parts always sum to `gross_micros`.

    Accounts: `platform`, `party:<key>`, `escrow:<dispute id>`, `suspense:<reason>`.
    """
    totals: dict[str, int] = {}
    for (account, _, _), micros in allocate_key_detailed(gross_micros, ctx).items():
        totals[account] = totals.get(account, 0) + micros
    return {a: m for a, m in totals.items() if m}


def right_weights(ctx: RightContext) -> dict[str, int]:
    """Each account's ppm of one right after open and resolved disputes took their claim."""
    if ctx.suspense_reason is not None or ctx.version is None:
        return {suspense_account(ctx.suspense_reason or NO_MASTER_SPLIT): 1_000_000}
    return dict(_right_weights(ctx).weights)
