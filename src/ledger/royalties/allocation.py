"""Allocating one key's cumulative gross: rights pie, splits, disputes into escrow, suspense.

DESIGN.md "Money": G is the key's gross summed over its accepted usage rows up to the as-of
position. LR(G) over the pie (ties: platform, master, publishing); the master part by LR over
the master version's shares, the publishing part by LR over the work's publishing version's
shares (ties: the account id that sorts first). An open dispute turns the claimed ppm of its
right into the weight of `escrow:<dispute id>`; a resolved one does the same, then releases that
escrow part by LR between the claimant (awarded ppm) and the holders it was taken from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from ledger.domain.money import allocate_largest_remainder

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


class DisputeClaim(NamedTuple):
    """A dispute as known at the as-of position; outcome None while it is still open."""

    dispute_id: str
    claimant: str
    respondent: str | None
    claimed_ppm: int
    outcome: str | None = None
    awarded_ppm: int = 0


class RightContext(NamedTuple):
    """Who holds one right for a stretch of time, or the suspense reason when nobody known does."""

    version: int | None
    shares: tuple[tuple[str, int], ...] = ()
    disputes: tuple[DisputeClaim, ...] = ()
    suspense_reason: str | None = None


class AllocationContext(NamedTuple):
    """Everything in an allocation key that decides who is paid (besides period and currency)."""

    pie_version: int | None
    pie_parts: tuple[int, int, int] | None  # platform, master, publishing ppm
    master: RightContext
    publishing: RightContext
    blocked_reason: str | None = None
    # Withholding tax on imported report income (docs/reports.md): (payee account, ppm, the
    # account holding the tax until it is remitted), empty for everything else.
    withholding: tuple[tuple[str, int, str], ...] = ()


# (account, right, released_from): released_from is the dispute id for escrow releases, else "".
Part = tuple[str, str, str]


def _lr(amount: int, weights: tuple[int, ...], total: int) -> list[int]:
    """Largest remainder over weights in tie-break order (the hot path of allocate_key).

    Identical to ledger.domain.money.allocate_largest_remainder: floors first, then one unit
    each to the largest remainders, equal remainders in list order.
    """
    parts, remainders, given = [], [], 0
    for index, weight in enumerate(weights):
        quotient, remainder = divmod(amount * weight, total)
        parts.append(quotient)
        remainders.append((-remainder, index))
        given += quotient
    leftover = amount - given
    if leftover:
        for _, index in sorted(remainders)[:leftover]:
            parts[index] += 1
    return parts


@dataclass(frozen=True, slots=True)
class _Release:
    dispute_id: str
    escrow_index: int
    claimant: str
    awarded: int
    held: int
    returned_to: tuple[str, ...]
    returned_weights: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RightPlan:
    accounts: tuple[str, ...]  # sorted by account id: the tie-break order
    weights: tuple[int, ...]
    total: int
    releases: tuple[_Release, ...]
    suspense: str | None = None


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


@lru_cache(maxsize=262_144)
def _right_plan(ctx: RightContext) -> RightPlan:
    if ctx.suspense_reason is not None or ctx.version is None:
        account = suspense_account(ctx.suspense_reason or NO_MASTER_SPLIT)
        return RightPlan((account,), (1,), 1, (), account)
    shares = dict(ctx.shares)
    if not ctx.disputes:  # the common case, without the escrow bookkeeping below
        # Accounts sort as their party keys do (one prefix): sort the keys, then name them.
        holders = sorted((p, s) for p, s in shares.items() if s > 0)
        parts = tuple(s for _, s in holders)
        return RightPlan(tuple(party_account(p) for p, _ in holders), parts, sum(parts), ())
    held: list[tuple[DisputeClaim, int, tuple[tuple[str, int], ...]]] = []
    for claim in ctx.disputes:
        taken = _take(shares, claim)
        for party, ppm in taken.items():
            shares[party] -= ppm
        held.append((claim, sum(taken.values()), tuple(sorted(taken.items()))))
    weights = {party_account(p): s for p, s in shares.items() if s > 0}
    weights.update({escrow_account(c.dispute_id): ppm for c, ppm, _ in held if ppm > 0})
    ordered = sorted(weights.items())
    accounts = tuple(a for a, _ in ordered)
    releases = tuple(
        _Release(
            c.dispute_id,
            accounts.index(escrow_account(c.dispute_id)),
            party_account(c.claimant),
            min(c.awarded_ppm, ppm),
            ppm,
            tuple(party_account(p) for p, _ in taken),
            tuple(t for _, t in taken),
        )
        for c, ppm, taken in held
        if c.outcome is not None and ppm > 0
    )
    return RightPlan(accounts, tuple(w for _, w in ordered), sum(weights.values()), releases)


def _allocate_right(amount: int, right: str, ctx: RightContext, out: dict[Part, int]) -> None:
    plan = _right_plan(ctx)
    if plan.suspense is not None:
        _add(out, (plan.suspense, right, ""), amount)
        return
    parts = _lr(amount, plan.weights, plan.total)
    for release in plan.releases:
        escrowed, parts[release.escrow_index] = parts[release.escrow_index], 0
        claimant, returned = _lr(escrowed, (release.awarded, release.held - release.awarded), release.held)
        _add(out, (release.claimant, right, release.dispute_id), claimant)
        if returned:
            total = sum(release.returned_weights)
            for account, back in zip(release.returned_to, _lr(returned, release.returned_weights, total), strict=True):
                _add(out, (account, right, release.dispute_id), back)
    for account, micros in zip(plan.accounts, parts, strict=True):
        _add(out, (account, right, ""), micros)


def _add(out: dict[Part, int], part: Part, micros: int) -> None:
    if micros:
        out[part] = out.get(part, 0) + micros


def _withhold(out: dict[Part, int], withholding: tuple[tuple[str, int, str], ...]) -> dict[Part, int]:
    """Each taxed payee's total in the key (every right) is taxed once, rounded toward zero, and the
    tax moves to the account holding it: a "withholding" part each side, so the parts still sum to G."""
    for account, ppm, held_in in withholding:
        earned = sum(m for (a, _, _), m in out.items() if a == account)
        tax = (abs(earned) * ppm // 1_000_000) * (1 if earned >= 0 else -1)
        _add(out, (account, "withholding", ""), -tax)
        _add(out, (held_in, "withholding", ""), tax)
    return out


def allocate_key_detailed(gross_micros: int, ctx: AllocationContext) -> dict[Part, int]:
    """Allocate a key's cumulative gross to (account, right, released_from) parts summing to it."""
    out: dict[Part, int] = {}
    if ctx.blocked_reason is not None:
        # A takedown's reason is text for people; a blocked context that names its suspense
        # account ("suspense:unmatched-report", an imported report line nothing matches) uses it.
        blocked = ctx.blocked_reason
        account = blocked if blocked.startswith("suspense:") else suspense_account(TAKEN_DOWN)
        _add(out, (account, "all", ""), gross_micros)
        return out
    if ctx.pie_parts is None:
        _add(out, (suspense_account(NO_RIGHTS_PIE), "all", ""), gross_micros)
        return out
    platform, master, publishing = _lr(gross_micros, ctx.pie_parts, sum(ctx.pie_parts))
    _add(out, (PLATFORM, "platform", ""), platform)
    if ctx.withholding:
        _allocate_right(master, "master", ctx.master, out)
        _allocate_right(publishing, "publishing", ctx.publishing, out)
        return _withhold(out, ctx.withholding)
    _allocate_right(master, "master", ctx.master, out)
    _allocate_right(publishing, "publishing", ctx.publishing, out)
    return out


def allocate_key(gross_micros: int, ctx: AllocationContext) -> dict[str, int]:
    """Allocate a key's cumulative gross to accounts; the parts always sum to `gross_micros`.

    Accounts: `platform`, `party:<key>`, `escrow:<dispute id>`, `suspense:<reason>`.
    """
    totals: dict[str, int] = {}
    for (account, _, _), micros in allocate_key_detailed(gross_micros, ctx).items():
        totals[account] = totals.get(account, 0) + micros
    return {a: m for a, m in totals.items() if m}


@lru_cache(maxsize=262_144)
def _weights_map(ctx: RightContext) -> dict[str, int]:
    plan = _right_plan(ctx)
    if plan.suspense is not None:
        return {plan.suspense: 1_000_000}
    return dict(zip(plan.accounts, plan.weights, strict=True))


def right_weights(ctx: RightContext) -> dict[str, int]:
    """Each account's ppm of one right after open and resolved disputes took their claim.

    The returned mapping is shared (cached): do not modify it.
    """
    return _weights_map(ctx)


@dataclass(frozen=True, slots=True)
class KeyPlan:
    parts: tuple[Part, ...]
    pie: tuple[int, int, int]
    pie_total: int
    master: RightPlan
    publishing: RightPlan


@lru_cache(maxsize=262_144)
def key_plan(ctx: AllocationContext) -> KeyPlan | None:
    """The fixed part layout of a context without takedown, missing pie or escrow release
    (None for those: use allocate_key_detailed). Cached per context."""
    return _key_plan(ctx, _right_plan)


def key_plan_once(ctx: AllocationContext) -> KeyPlan | None:
    """`key_plan` without its caches, for a context used once: a month's close plans each of its
    (hundreds of thousands of) contexts once, and cached they would outlive it by the process's
    life — and be walked by every full pass of the cyclic garbage collector."""
    return _key_plan(ctx, _right_plan_once)


def _right_plan_once(ctx: RightContext) -> RightPlan:
    """A right's plan uncached, but for a right in suspense (few distinct ones, cached)."""
    if ctx.suspense_reason is not None or ctx.version is None:
        return _right_plan(ctx)
    plan: RightPlan = _right_plan.__wrapped__(ctx)
    return plan


def _key_plan(ctx: AllocationContext, right_plan: Callable[[RightContext], RightPlan]) -> KeyPlan | None:
    if ctx.blocked_reason is not None or ctx.pie_parts is None or ctx.withholding:
        return None
    master, publishing = right_plan(ctx.master), right_plan(ctx.publishing)
    if master.releases or publishing.releases:
        return None
    parts: list[Part] = [(PLATFORM, "platform", "")]
    parts += [(a, "master", "") for a in master.accounts]
    parts += [(a, "publishing", "") for a in publishing.accounts]
    return KeyPlan(tuple(parts), ctx.pie_parts, sum(ctx.pie_parts), master, publishing)


def allocate_key_parts(gross_micros: int, ctx: AllocationContext) -> tuple[tuple[Part, ...], list[int]]:
    """The detailed allocation as (parts, amounts) — the statement hot path.

    Same numbers as `allocate_key_detailed` (zero amounts included, callers skip them); the
    common contexts reuse one cached part layout, so only the arithmetic runs per key.
    """
    plan = key_plan(ctx)
    if plan is None:
        detailed = allocate_key_detailed(gross_micros, ctx)
        return tuple(detailed), list(detailed.values())
    platform, master, publishing = _lr(gross_micros, plan.pie, plan.pie_total)
    return plan.parts, [
        platform,
        *_lr(master, plan.master.weights, plan.master.total),
        *_lr(publishing, plan.publishing.weights, plan.publishing.total),
    ]
