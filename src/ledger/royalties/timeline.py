"""The rights timeline: for a recording and an as-of position, the stretches of occurred_at time
with the pie version, master version, publishing version, disputes and takedowns in force.

A version is in force for an instant when it was activated at a position ≤ as_of and has the
latest effective_from ≤ that instant (ties: activated later). A dispute applies from its
effective_from once opened ≤ as_of; after it is resolved (≤ as_of) it still applies — escrow
then release by outcome — to versions activated before the resolution, while versions
activated after it (the corrected split) supersede it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from ledger.domain.availability import WORLDWIDE
from ledger.domain.rights_pie import rule_for
from ledger.royalties.allocation import (
    NO_MASTER_SPLIT,
    NO_PUBLISHING_SPLIT,
    NO_WORK,
    AllocationContext,
    DisputeClaim,
    RightContext,
)
from ledger.royalties.history import RightsHistory, VersionFact

PieRules = tuple[tuple[str, tuple[int, int, int]], ...]
Availability = tuple[tuple[str, tuple[str, ...], str], ...]  # (action, territories, reason)


@lru_cache(maxsize=1024)
def _rules_map(pie_rules: PieRules) -> dict[str, dict[str, int]]:
    """The rules of a pie version as a mapping (cached: one per version; never modified)."""
    return {sel: dict(zip(("platform", "master", "publishing"), parts, strict=True)) for sel, parts in pie_rules}


@lru_cache(maxsize=4096)
def _pie_parts(pie_rules: PieRules, kind: str, pricing_model: str) -> tuple[int, int, int] | None:
    """(platform, master, publishing) ppm of the rule for a kind and model (cached per version)."""
    rule = rule_for(_rules_map(pie_rules), kind, pricing_model)
    return (rule["platform"], rule["master"], rule["publishing"]) if rule else None


class SegmentContext(NamedTuple):
    """Who is paid for a recording's plays during one stretch of time (any kind, any territory)."""

    pie_version: int | None
    pie_rules: PieRules
    master: RightContext
    publishing: RightContext
    availability: Availability = ()

    def for_usage(self, kind: str, pricing_model: str, territory: str) -> AllocationContext:
        """The allocation context of plays of this kind, model and territory in this stretch.

        Availability is not part of a key (DESIGN.md: a takedown never splits the keys of plays
        it does not stop): a play it does not stop gets the context of the rights alone, so
        plays on both sides of another territory's takedown share one key; a play it stops
        gets the one blocked context (all of it to suspense:taken-down), whatever the rights.
        """
        blocked = blocked_reason(self.availability, territory)
        if blocked is not None:
            return _blocked_context(blocked)
        parts = _pie_parts(self.pie_rules, kind, pricing_model)
        return AllocationContext(
            pie_version=self.pie_version if parts else None,
            pie_parts=parts,
            master=self.master,
            publishing=self.publishing,
        )


@lru_cache(maxsize=256)
def _blocked_context(reason: str) -> AllocationContext:
    return AllocationContext(None, None, RightContext(None), RightContext(None), blocked_reason=reason)


@dataclass(frozen=True, slots=True)
class Segment:
    start_us: int
    end_us: int
    context: SegmentContext


def _in_force(versions: list[VersionFact], at_us: int, as_of: int) -> VersionFact | None:
    best: VersionFact | None = None
    for v in versions:
        if (
            v.activated_at <= as_of
            and v.effective_from_us <= at_us
            and (best is None or (v.effective_from_us, v.activated_at) > (best.effective_from_us, best.activated_at))
        ):
            best = v
    return best


def _right_at(h: RightsHistory, right: str, subject: str | None, at_us: int, as_of: int, missing: str) -> RightContext:
    if subject is None:
        return RightContext(None, suspense_reason=NO_WORK)
    version = _in_force(h.versions.get((right, subject), []), at_us, as_of)
    if version is None:
        return RightContext(None, suspense_reason=missing)
    disputes = h.disputes.get((right, subject))
    if not disputes:  # the common case: no claim to sort and filter (100 000 recordings a close)
        return RightContext(version.version, version.shares, ())
    claims = tuple(
        DisputeClaim(
            d.dispute_id,
            d.claimant,
            d.respondent,
            d.claimed_ppm,
            d.outcome if d.resolved_at <= as_of else None,
            d.awarded_ppm if d.resolved_at <= as_of else 0,
        )
        for d in sorted(disputes, key=lambda d: d.opened_at)
        if d.opened_at <= as_of
        and d.effective_from_us <= at_us
        and (d.resolved_at > as_of or version.activated_at < d.resolved_at)
    )
    return RightContext(version.version, version.shares, claims)


def _pie_at(h: RightsHistory, at_us: int, as_of: int) -> tuple[int | None, PieRules]:
    best = None
    for position, version, effective_us, rules in h.pie_versions:
        if (
            position <= as_of
            and effective_us <= at_us
            and (best is None or (effective_us, version) > (best[1], best[0]))
        ):
            best = (version, effective_us, rules)
    if best is None:
        return None, ()
    rules = best[2]
    return best[0], tuple((sel, (p["platform"], p["master"], p["publishing"])) for sel, p in sorted(rules.items()))


def _blocked_at(h: RightsHistory, isrc: str, at_us: int, as_of: int) -> Availability:
    """Takedowns and reinstatements in force at `at_us`, in effective order (as `is_available`)."""
    changes = sorted(
        (c[1], c[0], c[2], c[3], c[4]) for c in h.availability.get(isrc, ()) if c[0] <= as_of and c[1] <= at_us
    )
    return tuple((action, territories, reason) for _, _, action, territories, reason in changes)


def blocked_reason(availability: Availability, territory: str) -> str | None:
    blocked: str | None = None
    for action, territories, reason in availability:
        if WORLDWIDE in territories or territory in territories:
            blocked = reason if action == "takedown" else None
    return blocked


def context_at(h: RightsHistory, isrc: str, at_us: int, as_of: int) -> SegmentContext:
    work = h.work_of(isrc, as_of)
    pie_version, pie_rules = _pie_at(h, at_us, as_of)
    return SegmentContext(
        pie_version,
        pie_rules,
        _right_at(h, "master", isrc, at_us, as_of, NO_MASTER_SPLIT),
        _right_at(h, "publishing", work, at_us, as_of, NO_PUBLISHING_SPLIT),
        _blocked_at(h, isrc, at_us, as_of),
    )


def _boundaries(h: RightsHistory, isrc: str, as_of: int) -> set[int]:
    work = h.work_of(isrc, as_of)
    found = {v.effective_from_us for v in h.versions.get(("master", isrc), []) if v.activated_at <= as_of}
    if work is not None:
        found |= {v.effective_from_us for v in h.versions.get(("publishing", work), []) if v.activated_at <= as_of}
    for subject in (("master", isrc), ("publishing", work or "")):
        found |= {d.effective_from_us for d in h.disputes.get(subject, []) if d.opened_at <= as_of}
    found |= {c[1] for c in h.availability.get(isrc, ()) if c[0] <= as_of}
    found |= {e for position, _, e, _ in h.pie_versions if position <= as_of}
    return found


def rights_timeline(h: RightsHistory, isrc: str, start_us: int, end_us: int, as_of: int) -> list[Segment]:
    """The stretches of [start_us, end_us) with one context each, adjacent equal ones merged."""
    cuts = sorted({start_us} | {b for b in _boundaries(h, isrc, as_of) if start_us < b < end_us})
    segments: list[Segment] = []
    for index, cut in enumerate(cuts):
        ctx = context_at(h, isrc, cut, as_of)
        stop = cuts[index + 1] if index + 1 < len(cuts) else end_us
        if segments and segments[-1].context == ctx:
            segments[-1] = Segment(segments[-1].start_us, stop, ctx)
        else:
            segments.append(Segment(cut, stop, ctx))
    return segments


def rights_timelines(
    h: RightsHistory, isrcs: list[str], start_us: int, end_us: int, as_of: int
) -> dict[str, list[Segment]]:
    """`rights_timeline` of each recording, the same segments: the rights-pie cuts and each cut's
    pie version are found once for all of them, and a recording's work once (a close reads
    100 000 timelines; the per-recording lookups were most of their time)."""
    pie_cuts = {e for position, _, e, _ in h.pie_versions if position <= as_of and start_us < e < end_us}
    common = sorted({start_us} | pie_cuts)
    pies: dict[int, tuple[int | None, PieRules]] = {}
    out: dict[str, list[Segment]] = {}
    for isrc in isrcs:
        work = h.work_of(isrc, as_of)
        own = {b for b in _own_boundaries(h, isrc, work, as_of) if start_us < b < end_us}
        cuts = sorted(own.union(common)) if own - pie_cuts else common
        blocked = isrc in h.availability
        segments: list[Segment] = []
        for index, cut in enumerate(cuts):
            pie = pies.get(cut)
            if pie is None:
                pie = pies[cut] = _pie_at(h, cut, as_of)
            ctx = SegmentContext(
                pie[0],
                pie[1],
                _right_at(h, "master", isrc, cut, as_of, NO_MASTER_SPLIT),
                _right_at(h, "publishing", work, cut, as_of, NO_PUBLISHING_SPLIT),
                _blocked_at(h, isrc, cut, as_of) if blocked else (),
            )
            stop = cuts[index + 1] if index + 1 < len(cuts) else end_us
            if segments and segments[-1].context == ctx:
                segments[-1] = Segment(segments[-1].start_us, stop, ctx)
            else:
                segments.append(Segment(cut, stop, ctx))
        out[isrc] = segments
    return out


def _own_boundaries(h: RightsHistory, isrc: str, work: str | None, as_of: int) -> set[int]:
    """`_boundaries` without the rights-pie versions' (the same for every recording)."""
    found = {v.effective_from_us for v in h.versions.get(("master", isrc), ()) if v.activated_at <= as_of}
    if work is not None:
        found.update(v.effective_from_us for v in h.versions.get(("publishing", work), ()) if v.activated_at <= as_of)
    if h.disputes:
        for subject in (("master", isrc), ("publishing", work or "")):
            found.update(d.effective_from_us for d in h.disputes.get(subject, ()) if d.opened_at <= as_of)
    changes = h.availability.get(isrc)
    if changes:
        found.update(c[1] for c in changes if c[0] <= as_of)
    return found
