"""Imported sales reports in statements: match each report line to a recording as known at X,
then key it like usage, so the same allocation (pie by right type and source, splits, disputes,
suspense) distributes it.

Matching is a pure function of the log at the as-of position X: a line's identifiers are tried
in order — ISRC of a registered recording, the platform's own recording id, a proprietary id
(an alias kept from an ERN delivery, or a link an operator made for the line's source), the
ISWC of a registered work (its first recording by ISRC), a UPC or GRid of a delivered release
(spread over its tracks in equal shares, largest remainder, track order breaking ties). A line
nothing matches goes whole to `suspense:unmatched-report` and shows in the matching queue. Since
links and catalogue facts carry positions, a link made after a close releases the suspense of
the closed month through adjustments, and replay at the close's position still finds it unmatched.

A report line keys as (target currency, recording, kind "RIGHT@SOURCE", territory, context at the
line's usage period start, with the pie rule "RIGHT:SOURCE" — the platform part of that rule is the
platform's distribution fee under its contract with the source).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, NamedTuple

import psycopg

from ledger.domain.alias import IdentifierAlias
from ledger.domain.money import allocate_largest_remainder
from ledger.domain.period import Period
from ledger.domain.recording import Recording
from ledger.domain.release import Release
from ledger.domain.sales_report import ReportSource, SalesReport
from ledger.domain.work import Work
from ledger.royalties import RightsHistory, period_bounds_us
from ledger.royalties.allocation import AllocationContext, RightContext, party_account, suspense_account
from ledger.royalties.keys import AllocationKey
from ledger.royalties.timeline import context_at
from ledger.store.config import StoreConfig
from ledger.store.log_reader import iter_stored_events
from ledger.store.migrate import pg_conninfo

UNMATCHED = "unmatched-report"
_ID_COLUMNS = ("isrc", "platform_id", "proprietary_id", "iswc", "upc", "grid")


def report_kind(right: str, source: str) -> str:
    return f"{right}@{source}"


@dataclass
class Identity:
    """Identifier facts with the position each became known at (a fold of the log)."""

    upto: int = 0
    recordings: dict[str, int] = field(default_factory=dict)  # isrc → registered at
    platform_ids: dict[str, tuple[int, str]] = field(default_factory=dict)  # recording uuid → (at, isrc)
    works: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # iswc → (at, work key)
    releases: dict[str, list[tuple[int, list[str]]]] = field(default_factory=dict)  # identifier → (at, tracks)
    aliases: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)  # (kind, id) → (at, key)
    links: dict[tuple[str, str, str], list[tuple[int, str]]] = field(default_factory=dict)  # (source, kind, id)
    _sources: dict[str, str] = field(default_factory=dict)
    _release_ids: dict[str, list[str]] = field(default_factory=dict)


def _topic(cls: type, name: str) -> str:
    event_class = getattr(cls, name)
    return f"{event_class.__module__}:{event_class.__qualname__}"


_TOPICS = {
    "recording": _topic(Recording, "Registered"),
    "release": _topic(Release, "Delivered"),
    "redelivered": _topic(Release, "Redelivered"),
    "alias": _topic(IdentifierAlias, "Registered"),
    "work": _topic(Work, "Registered"),
    "source": _topic(ReportSource, "Opened"),
    "link": _topic(ReportSource, "IdentifierLinked"),
}
_BY_TOPIC = {v: k for k, v in _TOPICS.items()}


def _fold(identity: Identity, position: int, what: str, originator: str, e: dict[str, Any]) -> None:
    if what == "recording":
        identity.recordings.setdefault(e["isrc"], position)
        identity.platform_ids.setdefault(originator, (position, e["isrc"]))
    elif what == "release":
        ids = list(dict.fromkeys([e["upc"], *(e.get("identifiers") or [])]))
        identity._release_ids[originator] = ids
        for identifier in ids:
            identity.releases.setdefault(identifier, []).append((position, list(e["track_isrcs"])))
    elif what == "redelivered":
        changes = e.get("changes") or {}
        if "track_isrcs" in changes:
            for identifier in identity._release_ids.get(originator, []):
                identity.releases.setdefault(identifier, []).append((position, list(changes["track_isrcs"])))
    elif what == "alias":
        identity.aliases.setdefault((e["kind"], e["identifier"]), (position, e["key"]))
    elif what == "work":
        if e.get("iswc"):
            identity.works.setdefault(e["iswc"], []).append((position, e["key"]))
    elif what == "source":
        identity._sources[originator] = e["name"]
    elif what == "link":
        source = identity._sources.get(originator, "")
        identity.links.setdefault((source, e["id_kind"], e["id_value"]), []).append((position, e["isrc"]))


@lru_cache(maxsize=8)
def read_identity(config: StoreConfig, upto: int, recordings: bool = True) -> Identity:
    """The identifier facts up to `upto` (`recordings=False`: without the recordings, which a
    rights history holds already — see identity_at)."""
    identity = Identity(upto)
    topics = [t for w, t in _TOPICS.items() if recordings or w != "recording"]
    for position, originator, topic, state in iter_stored_events(config, topics, upto):
        _fold(identity, position, _BY_TOPIC[topic], originator, json.loads(state))
    return identity


def identity_at(config: StoreConfig, history: RightsHistory, upto: int) -> Identity:
    """read_identity(config, upto), with the recordings taken from a rights history read at least
    that far instead of decoding every recording's event again: the history keeps each
    recording's id → ISRC and the positions of its events, the first being its registration."""
    if history.upto < upto:
        return read_identity(config, upto)
    identity = replace(read_identity(config, upto, recordings=False), recordings={}, platform_ids={})
    for originator, isrc, at in history.recordings_registered(upto):
        identity.recordings.setdefault(isrc, at)
        identity.platform_ids.setdefault(originator, (at, isrc))
    return identity


def _latest(entries: Iterable[tuple[int, Any]], as_of: int) -> Any:
    found = None
    for position, value in entries:
        if position <= as_of:
            found = value
    return found


Match = list[tuple[str, int]]  # (isrc, weight): one recording, or a release's tracks


def match_line(
    identity: Identity, history: RightsHistory, source: str, ids: dict[str, str | None], as_of: int
) -> Match | None:
    """The recording(s) a line's identifiers name as known at `as_of`, or None (unmatched)."""

    def known(isrc: str | None) -> bool:
        return isrc is not None and identity.recordings.get(isrc, 1 << 62) <= as_of

    for kind in _ID_COLUMNS:
        value = ids.get(kind)
        if not value:
            continue
        linked = _latest(identity.links.get((source, kind, value), ()), as_of)
        if known(linked):
            return [(linked, 1)]
        if kind == "isrc" and known(value):
            return [(value, 1)]
        if kind == "platform_id":
            at, isrc = identity.platform_ids.get(value, (1 << 62, ""))
            if at <= as_of:
                return [(isrc, 1)]
        if kind == "proprietary_id":
            for candidate in (value, value.split(":", 1)[1] if ":" in value else value):
                at, isrc = identity.aliases.get(("recording", candidate), (1 << 62, ""))
                if at <= as_of and known(isrc):
                    return [(isrc, 1)]
        if kind == "iswc":
            work = _latest(identity.works.get(value, ()), as_of)
            isrcs = sorted(i for i in history.work_links if work is not None and history.work_of(i, as_of) == work)
            if isrcs:
                return [(isrcs[0], 1)]
        if kind in ("upc", "grid"):
            key = value if kind == "upc" else f"GRID:{value}"
            tracks = _latest(identity.releases.get(key, ()), as_of)
            if tracks is None:
                at, target = identity.aliases.get(("release", key), (1 << 62, ""))
                tracks = _latest(identity.releases.get(target, ()), as_of) if at <= as_of else None
            if tracks:
                return [(isrc, 1) for isrc in tracks]
    return None


class ReportGroup(NamedTuple):
    source: str
    right: str
    territory: str
    currency: str
    at_us: int
    ids: tuple[str | None, ...]  # _ID_COLUMNS order
    lines: int
    units: int
    amount_micros: int


# Each report's lines are grouped once, at import (report_line_groups, migration 0032): a month is
# the sum of its reports' groups, not a GROUP BY over every line again.
_GROUPS = (
    "SELECT source, right_type, territory, target_currency, occurred_at_us, "
    + ", ".join(_ID_COLUMNS)
    + ", CAST(sum(lines) AS BIGINT), CAST(sum(units) AS BIGINT), CAST(sum(amount_micros) AS BIGINT) "
    "FROM report_line_groups l "
    "WHERE position <= {p} AND occurred_at_us >= {p} AND occurred_at_us < {p}{superseded} "
    "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"
)
_HEX = re.compile(r"[0-9a-f]{32}")


def superseded_filter(config: StoreConfig, as_of: int) -> str:
    """` AND report_id NOT IN (…)` for the reports superseded at `as_of` (a few ids, read first:
    one list instead of an anti-join per line). Ids are 32 hex digits from the table itself."""
    rows = _query(config, "SELECT report_id FROM report_supersessions WHERE position <= {p}", (as_of,))
    ids = sorted(str(r[0]) for r in rows if _HEX.fullmatch(str(r[0])))
    return f" AND report_id NOT IN ({', '.join(repr(i) for i in ids)})" if ids else ""


def _query(config: StoreConfig, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    if config.backend == "sqlite":
        assert config.sqlite_path is not None
        conn = sqlite3.connect(f"file:{config.sqlite_path}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(query.format(p="?"), params).fetchall()
        finally:
            conn.close()
    with psycopg.connect(pg_conninfo(config)) as pg, pg.cursor(binary=True) as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")
        return cur.execute(query.format(p="%s"), params).fetchall()


def report_groups(config: StoreConfig, start_us: int, end_us: int, as_of: int) -> list[ReportGroup]:
    rows = _query(config, _GROUPS.replace("{superseded}", superseded_filter(config, as_of)), (as_of, start_us, end_us))
    return [
        ReportGroup(r[0], r[1], r[2], r[3], int(r[4]), tuple(r[5:11]), int(r[11]), int(r[12]), int(r[13])) for r in rows
    ]


def unmatched_context(reason: str = UNMATCHED) -> AllocationContext:
    return AllocationContext(
        None, None, RightContext(None), RightContext(None), blocked_reason=suspense_account(reason)
    )


def unmatched_key(group: ReportGroup) -> str:
    """What an unmatched line shows in place of an ISRC: its first identifier, kind-qualified."""
    for kind, value in zip(_ID_COLUMNS, group.ids, strict=True):
        if value:
            return f"{kind}:{value}"
    return "none"


def expand_groups(
    groups: Iterable[ReportGroup], identity: Identity, history: RightsHistory, as_of: int
) -> Iterator[tuple[ReportGroup, str, bool, int]]:
    """(group, recording or unmatched key, matched?, micro-units) — a release's line spread over
    its tracks by largest remainder; statements and live earnings both cut groups this way."""
    matches: dict[tuple[str, tuple[str | None, ...]], Match | None] = {}
    for g in groups:
        memo = (g.source, g.ids)
        if memo not in matches:
            matches[memo] = match_line(identity, history, g.source, dict(zip(_ID_COLUMNS, g.ids, strict=True)), as_of)
        found = matches[memo]
        if found is None:
            yield g, unmatched_key(g), False, g.amount_micros
        elif len(found) == 1:
            yield g, found[0][0], True, g.amount_micros
        else:
            parts = allocate_largest_remainder(g.amount_micros, [(i, w) for i, (_, w) in enumerate(found)])
            for index, (isrc, _) in enumerate(found):
                yield g, isrc, True, parts[index]


def tax_account(territory: str) -> str:
    return f"tax:{territory}"


def with_withholding(
    ctx: AllocationContext, history: RightsHistory, territory: str, at_us: int, as_of: int
) -> AllocationContext:
    """The context of a report line with the withholding tax of its payees in its territory: the
    rates version in force at the line's usage period start, as known at `as_of`."""
    best = None
    for position, version, effective_us, rates in history.withholding:
        if position <= as_of and effective_us <= at_us and (best is None or (effective_us, version) > best[:2]):
            best = (effective_us, version, rates)
    if best is None or ctx.blocked_reason is not None:
        return ctx
    holders = {p for p, _ in ctx.master.shares} | {p for p, _ in ctx.publishing.shares}
    taxed = tuple(
        (party_account(p), best[2][p][territory], tax_account(territory))
        for p in sorted(holders)
        if best[2].get(p, {}).get(territory)
    )
    return ctx._replace(withholding=taxed) if taxed else ctx


def report_keys(
    config: StoreConfig, history: RightsHistory, period: Period, as_of: int
) -> list[tuple[AllocationKey, int, int]]:
    """(key, units, gross) for every matched or unmatched report group of the period at `as_of`,
    one group at a time: the reference that report_columns.add_report_lines computes column-wise."""
    start, end = period_bounds_us(period)
    groups = report_groups(config, start, end, as_of)
    if not groups:
        return []
    identity = read_identity(config, max(history.upto, as_of))
    out: list[tuple[AllocationKey, int, int]] = []
    contexts: dict[tuple[str, int], Any] = {}
    for g, isrc, matched, micros in expand_groups(groups, identity, history, as_of):
        kind = report_kind(g.right, g.source)
        if not matched:
            out.append((AllocationKey(g.currency, isrc, kind, g.territory, unmatched_context()), g.units, micros))
            continue
        segment = contexts.get((isrc, g.at_us))
        if segment is None:
            segment = contexts[(isrc, g.at_us)] = context_at(history, isrc, g.at_us, as_of)
        ctx = with_withholding(segment.for_usage(g.right, g.source, g.territory), history, g.territory, g.at_us, as_of)
        out.append((AllocationKey(g.currency, isrc, kind, g.territory, ctx), g.units, micros))
    return out


_GROSS = (
    "SELECT target_currency, CAST(sum(amount_micros) AS BIGINT), min(occurred_at_us), max(occurred_at_us) "
    "FROM report_line_groups l WHERE position <= {p} AND occurred_at_us >= {p} AND occurred_at_us < {p}{superseded} "
    "GROUP BY target_currency"
)


def report_gross(
    config: StoreConfig, as_of: int, start_us: int = -(1 << 62), end_us: int = 1 << 62
) -> tuple[dict[str, int], int | None, int | None]:
    """Σ converted amounts per currency of report lines counted at `as_of` in [start, end), and
    the usage-period range they span (the money equation's report account)."""
    rows = _query(config, _GROSS.replace("{superseded}", superseded_filter(config, as_of)), (as_of, start_us, end_us))
    gross = {str(c): int(t) for c, t, _, _ in rows}
    lows, highs = [int(r[2]) for r in rows], [int(r[3]) for r in rows]
    return gross, (min(lows) if lows else None), (max(highs) if highs else None)


_IMPORTED = f"{SalesReport.Imported.__module__}:{SalesReport.Imported.__qualname__}"
_REPORTS_IN = (
    "SELECT report_id, CAST(sum(lines) AS BIGINT) FROM report_line_groups l WHERE position <= {p} "
    "AND occurred_at_us >= {p} AND occurred_at_us < {p}{superseded} GROUP BY report_id"
)


def sales_report_summaries(config: StoreConfig, period: Period, as_of: int, sources: set[str]) -> list[dict[str, Any]]:
    """Display-only (not hashed): each report of these sources counted in the period at `as_of`,
    with its original totals, service fee, rates and converted amounts — what a statement shows
    beside the lines of a source (docs/reports.md)."""
    if not sources:
        return []
    start, end = period_bounds_us(period)
    query = _REPORTS_IN.replace("{superseded}", superseded_filter(config, as_of))
    counted = {str(r[0]): int(r[1]) for r in _query(config, query, (as_of, start, end))}
    out = []
    for position, originator, _, state in iter_stored_events(config, [_IMPORTED], as_of):
        hex_id = originator.replace("-", "")
        if hex_id not in counted:
            continue
        e = json.loads(state)
        if e["source"] not in sources:
            continue
        out.append(
            {
                "source": e["source"],
                "report_id": originator,
                "position": position,
                "period": e["period"],
                "lines_in_period": counted[hex_id],
                "totals_micros": e["totals"],
                "conversions": e["conversions"],
            }
        )
    return out
