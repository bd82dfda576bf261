"""A statement: a pure function of (account, period, as-of position), in canonical form + SHA-256.

Opening balance = the closing balance recorded by the latest closed period before this one
(as known at as_of). Earnings are f(P, as_of). Adjustments, for every closed period P' < P:
f(P', as_of) − f(P', C(prev)), where C(prev) is the as-of position of that latest close — for
P' = prev this is DESIGN.md's f(party, P', C(Q)) − f(party, P', C(P')); older periods were
already adjusted up to C(prev) by the previous statement. Payouts recorded after C(prev) and
up to as_of (for a tax:<territory> account, the withholding tax remitted: its payouts to the tax
authority). Closing = opening + earnings + escrow releases + adjustments − payouts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ledger.domain.period import Period
from ledger.royalties import RightsHistory
from ledger.royalties.history import CloseFact
from ledger.store.config import StoreConfig
from projections.statements.compute import LineAmounts, LineKey, PeriodResult, compute_period
from projections.statements.display import percent_text, versions_text
from projections.statements.pools import PoolPeriod, pool_periods, pools_unchanged
from projections.statements.reports import sales_report_summaries
from projections.statements.statement_columns import LazyStatement, earnings_blocks, raw
from projections.statements.usage import UsageReader


@dataclass
class StatementEngine:
    """Memoises f(period, as_of) over one rights history (read once from the log)."""

    config: StoreConfig
    history: RightsHistory
    _memo: dict[tuple[Period, int], PeriodResult] = field(default_factory=dict)
    # Usage pre-sums started before the history was read (close and replay start theirs first).
    prefetched: dict[tuple[Period, int], Future[pa.Table]] = field(default_factory=dict)
    # Where usage is summed: None is the store; see projections.statements.spark_engine.
    usage: UsageReader | None = None

    # Pool distributions by period, each with the position it was computed at (pool_periods).
    _pools: dict[Period, list[tuple[int, list[PoolPeriod]]]] = field(default_factory=dict)
    # previous_close by (period, as_of): a close asks it twice per statement (20 002 of them),
    # each time a pass over every close in the history.
    _previous: dict[tuple[Period, int], CloseFact | None] = field(default_factory=dict)

    def period_result(self, period: Period, as_of: int) -> PeriodResult:
        if (period, as_of) not in self._memo:
            coarse = self.prefetched.pop((period, as_of), None)
            self._memo[(period, as_of)] = compute_period(
                self.config, self.history, period, as_of, coarse, self.usage, self.pool_periods
            )
        return self._memo[(period, as_of)]

    def pool_periods(self, period: Period, as_of: int) -> list[PoolPeriod]:
        """The period's pool distributions at as_of, reused from another position when nothing
        they read was recorded in between: adjustments compute an earlier month at two positions
        (docs/pools.md), and its pool SQL is the costly part of f(P', ·)."""
        for known_at, periods in self._pools.get(period, []):
            if known_at == as_of or pools_unchanged(self.config, self.history, period, known_at, as_of):
                return periods
        periods = pool_periods(self.config, self.history, period, as_of)
        self._pools.setdefault(period, []).append((as_of, periods))
        return periods

    def previous_close(self, period: Period, as_of: int) -> CloseFact | None:
        if (period, as_of) not in self._previous:
            earlier = [c for p, c in self.history.closes_as_of(as_of).items() if Period.parse(p) < period]
            found = max(earlier, key=lambda c: Period.parse(c.period)) if earlier else None
            self._previous[(period, as_of)] = found
        return self._previous[(period, as_of)]

    def adjustment_periods(self, period: Period, as_of: int) -> list[Period]:
        return sorted(Period.parse(p) for p in self.history.closes_as_of(as_of) if Period.parse(p) < period)

    def adjustments(self, account: str, period: Period, as_of: int) -> list[tuple[Period, LineKey, int]]:
        prev = self.previous_close(period, as_of)
        if prev is None:
            return []
        out = []
        for earlier in self.adjustment_periods(period, as_of):
            now = self.period_result(earlier, as_of).lines.get(account, {})
            then = self.period_result(earlier, prev.as_of_position).lines.get(account, {})
            for key in sorted(set(now) | set(then)):
                diff = _amount(now.get(key)) - _amount(then.get(key))
                if diff:
                    out.append((earlier, key, diff))
        return out

    def accounts(self, period: Period, as_of: int) -> set[str]:
        """Every account with something on its statement for the period."""
        found = set(self.period_result(period, as_of).lines)
        prev = self.previous_close(period, as_of)
        if prev is not None:
            found |= set(prev.account_totals)
            for earlier in self.adjustment_periods(period, as_of):
                found |= set(self.period_result(earlier, as_of).lines)
                found |= set(self.period_result(earlier, prev.as_of_position).lines)
        after = prev.as_of_position if prev else 0
        found |= {f"party:{p.party}" for p in self.history.payouts_between(after, as_of)}
        found |= {r.account for r in self.history.remittances_between(after, as_of)}
        return found


def _amount(amounts: LineAmounts | None) -> int:
    return amounts.amount_micros if amounts else 0


def _line(key: LineKey, amounts: LineAmounts) -> dict[str, Any]:
    return {
        "isrc": key.isrc,
        "kind": key.kind,
        "territory": key.territory,
        "right": key.right,
        "right_ppm": key.right_ppm,
        "share_ppm": key.share_ppm,
        "units": amounts.units,
        "gross_micros": amounts.gross_micros,
        "amount_micros": amounts.amount_micros,
    }


def _shown(key: LineKey, title: str, versions: tuple[int, ...]) -> dict[str, Any]:
    """A line's display-only fields (kept out of the canonical form, see display.py)."""
    return {
        "title": title,
        "right_percent": percent_text(key.right_ppm),
        "share_percent": percent_text(key.share_ppm),
        "split_version": versions_text(versions),
    }


def _versions(*amounts: LineAmounts | None) -> tuple[int, ...]:
    return tuple(sorted({v for a in amounts if a is not None for v in a.versions}))


def build_statement(
    engine: StatementEngine, account: str, period: Period, as_of: int, *, display: bool = True
) -> dict[str, Any]:
    """The statement document (JSON-ready; integers only for money). `display=False` leaves out
    the display-only fields (title, percentages, split version): closing and replaying a month
    hash every statement and need none of them (they are not in the canonical form)."""
    prev = engine.previous_close(period, as_of)
    after = prev.as_of_position if prev else 0
    opening = {cur: t["closing"] for cur, t in (prev.account_totals.get(account, {}) if prev else {}).items()}
    currencies: dict[str, dict[str, Any]] = {}

    def section(currency: str) -> dict[str, Any]:
        return currencies.setdefault(
            currency,
            {
                "opening_micros": opening.get(currency, 0),
                "earnings": [],
                "escrow_releases": [],
                "adjustments": [],
                "payouts": [],
            },
        )

    for cur in opening:
        section(cur)
    titles: dict[str, str] = {}

    def title(isrc: str) -> str:
        if isrc not in titles:
            titles[isrc] = engine.history.title_of(isrc, as_of)
        return titles[isrc]

    def adjustment_display(earlier: Period, key: LineKey) -> dict[str, Any]:
        if not display:
            return {}
        now = engine.period_result(earlier, as_of).lines.get(account, {}).get(key)
        then = engine.period_result(earlier, after).lines.get(account, {}).get(key)
        return _shown(key, title(key.isrc), _versions(now, then))

    lines = engine.period_result(period, as_of).lines.get(account, {})
    # A close or a replay hashes the lines' canonical records straight from their columns; the
    # document builds its earnings lists when something reads it (statement_columns).
    blocks = None if display else earnings_blocks(lines)
    pending = {}
    if blocks is None:
        _current_lines(
            section,
            lines,
            period,
            (lambda key, amounts: _shown(key, title(key.isrc), amounts.versions)) if display else None,
        )
    else:
        for block in blocks:
            section(block.currency)
            pending[block.currency] = block
    for earlier, key, diff in engine.adjustments(account, period, as_of):
        entry = {
            "original_period": str(earlier),
            "isrc": key.isrc,
            "kind": key.kind,
            "territory": key.territory,
            "right": key.right,
            "right_ppm": key.right_ppm,
            "share_ppm": key.share_ppm,
            "amount_micros": diff,
            **adjustment_display(earlier, key),
        }
        # One rule for every account (DESIGN.md "Statements"): a dispute outcome for a closed
        # period is an adjustment like late usage, labelled with its dispute, so adjustments
        # across all accounts add up to what changed in that period (escrow, claimant, holders).
        section(key.currency)["adjustments"].append(
            {**entry, "dispute": key.released_from} if key.released_from else entry
        )
    party = account.removeprefix("party:")
    for payout in engine.history.payouts_between(after, as_of):
        if f"party:{payout.party}" == account:
            section(payout.currency)["payouts"].append(
                {
                    "payout_id": payout.payout_id,
                    "position": payout.position,
                    "amount_micros": payout.amount_micros,
                    "reference": payout.reference,
                }
            )
    # Withholding tax paid over leaves its tax account as a payout leaves a party's balance.
    for remittance in engine.history.remittances_between(after, as_of):
        if remittance.account == account:
            section(remittance.currency)["payouts"].append(
                {
                    "payout_id": remittance.remittance_id,
                    "position": remittance.position,
                    "amount_micros": remittance.amount_micros,
                    "reference": remittance.reference,
                    "periods": list(remittance.periods),
                }
            )
    for cur, sec in currencies.items():
        in_columns = pending.get(cur)
        sec["earnings_micros"] = in_columns.micros if in_columns else sum(x["amount_micros"] for x in sec["earnings"])
        sec["escrow_release_micros"] = sum(x["amount_micros"] for x in sec["escrow_releases"])
        sec["adjustment_micros"] = sum(x["amount_micros"] for x in sec["adjustments"])
        sec["payout_micros"] = sum(x["amount_micros"] for x in sec["payouts"])
        sec["closing_micros"] = (
            sec["opening_micros"]
            + sec["earnings_micros"]
            + sec["escrow_release_micros"]
            + sec["adjustment_micros"]
            - sec["payout_micros"]
        )
        currencies[cur] = sec
    doc: dict[str, Any] = {
        "account": account,
        "party": party if account.startswith("party:") else None,
        "period": str(period),
        "as_of_position": as_of,
        "previous_period": prev.period if prev else None,
        "currencies": dict(sorted(currencies.items())),
    }
    if display:  # imported sales reports behind the lines: original amounts, rates (docs/reports.md)
        sources = {x["kind"].split("@", 1)[1] for s in currencies.values() for x in s["earnings"] if "@" in x["kind"]}
        if sources:
            doc["sales_reports"] = sales_report_summaries(engine.config, period, as_of, sources)
    if pending:
        texts = {cur: block.text for cur, block in pending.items()}
        return LazyStatement(doc, texts, lambda: _current_lines(section, lines, period, None))
    return doc


def _current_lines(
    section: Callable[[str], dict[str, Any]],
    lines: dict[LineKey, LineAmounts],
    period: Period,
    shown_of: Callable[[LineKey, LineAmounts], dict[str, Any]] | None,
) -> None:
    """The period's lines into their currency's section: earnings, and escrow releases apart."""
    current: tuple[str, list[dict[str, Any]]] | None = None
    for key, amounts in sorted(lines.items()):
        shown = shown_of(key, amounts) if shown_of is not None else {}
        if key.released_from:
            section(key.currency)["escrow_releases"].append(
                {**_line(key, amounts), **shown, "dispute": key.released_from, "original_period": str(period)}
            )
            continue
        if current is None or current[0] != key.currency:
            current = (key.currency, section(key.currency)["earnings"])
        current[1].append(
            {
                "isrc": key.isrc,
                "kind": key.kind,
                "territory": key.territory,
                "right": key.right,
                "right_ppm": key.right_ppm,
                "share_ppm": key.share_ppm,
                "units": amounts.units,
                "gross_micros": amounts.gross_micros,
                "amount_micros": amounts.amount_micros,
                **shown,
            }
        )


# A statement's per-currency summary, in reading order (every rendering shows these columns).
SUMMARY_FIELDS = (
    "opening_micros",
    "earnings_micros",
    "escrow_release_micros",
    "adjustment_micros",
    "payout_micros",
    "closing_micros",
)
_LINE = ("isrc", "kind", "territory", "right", "right_ppm", "share_ppm", "units", "gross_micros", "amount_micros")


def _text(value: Any) -> str:
    """A field of the canonical form: integers as digits, text JSON-escaped (no tabs/newlines)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None:
        return ""
    return json.dumps(str(value), ensure_ascii=False)[1:-1]


def _plain(value: str) -> str:
    """Codes (ISRC, kind, territory, right) are plain already; escape only if they are not."""
    if "\t" in value or "\n" in value or "\\" in value or '"' in value:
        return _text(value)
    return value


def canonical(document: dict[str, Any]) -> bytes:
    """The canonical form, version 1: UTF-8 text, one tab-separated record per line.

    `royalty-statement/1`; `account`, `period`, `as_of_position`, `previous_period`; then per
    currency (sorted) a `C` summary record and its `E` earnings, `R` escrow-release, `A`
    adjustment (a dispute's outcome ends with the dispute id) and `P` payout records in the
    statement's (sorted) order. Money is integer
    micro-units; a line-oriented form hashes hundreds of thousands of lines in well under a
    second, which a sorted-keys JSON dump does not.
    """
    document, pending = raw(document)  # earnings still in columns: their records as they are
    out: list[str | bytes] = ["royalty-statement/1"]
    for name in ("account", "period", "as_of_position", "previous_period"):
        out.append(f"{name}\t{_text(document[name])}")
    for currency, sec in sorted(document["currencies"].items()):
        out.append("\t".join(["C", currency, *(str(sec[k]) for k in SUMMARY_FIELDS)]))
        if currency in pending:
            out.append(pending[currency])
        out.extend(
            f"E\t{_plain(x['isrc'])}\t{_plain(x['kind'])}\t{_plain(x['territory'])}\t"
            f"{_plain(x['right'])}\t{x['right_ppm']:d}\t{x['share_ppm']:d}\t{x['units']:d}\t"
            f"{x['gross_micros']:d}\t{x['amount_micros']:d}"
            for x in sec["earnings"]
        )
        for line in sec["escrow_releases"]:
            out.append(
                "\t".join(
                    ["R", _text(line["original_period"]), _text(line["dispute"]), *(_text(line.get(k)) for k in _LINE)]
                )
            )
        for line in sec["adjustments"]:
            fields = ["A", _text(line["original_period"]), *(_text(line.get(k)) for k in _LINE)]
            out.append("\t".join([*fields, _text(line["dispute"])] if "dispute" in line else fields))
        for payout in sec["payouts"]:
            out.append(
                "\t".join(
                    [
                        "P",
                        _text(payout["payout_id"]),
                        str(payout["position"]),
                        str(payout["amount_micros"]),
                        _text(payout["reference"]),
                    ]
                )
            )
    if pending:  # the records in columns are UTF-8 already: encode the rest around them
        return b"\n".join(x if isinstance(x, bytes) else x.encode() for x in out) + b"\n"
    return ("\n".join(x for x in out if isinstance(x, str)) + "\n").encode()  # all of them str here


def statement_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def totals_of(document: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The per-currency totals a PeriodClosed records for one account."""
    document, _ = raw(document)
    return {
        cur: {
            "opening": s["opening_micros"],
            "earnings": s["earnings_micros"],
            "escrow_releases": s["escrow_release_micros"],
            "adjustments": s["adjustment_micros"],
            "payouts": s["payout_micros"],
            "closing": s["closing_micros"],
        }
        for cur, s in document["currencies"].items()
    }
