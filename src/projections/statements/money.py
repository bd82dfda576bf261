"""The money equation, per currency, to the micro-unit, at head and at every close:

Σ gross ingested + Σ pool contributions + Σ imported report income (converted, docs/reports.md)
    = platform + Σ party balances + Σ payouts + escrow + suspense + pools undistributed + co-op fund
      + withholding tax held (tax:<territory>, on report income) + withholding tax remitted.

At head every period with usage is allocated as known now (party balance = earnings − payouts).
At a close C(P) the recorded closing balances of every account plus the payouts up to C(P) must
equal the gross of the closed periods as known at C(P).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.royalties.history import EPOCH, to_us
from ledger.store.config import StoreConfig
from projections.statements.close import engine_for
from projections.statements.pools_money import contributions_between, contributions_overview
from projections.statements.reports import report_gross
from projections.statements.statement import StatementEngine
from projections.statements.usage import gross_between, usage_overview

CLASSES = ("platform", "party", "escrow", "suspense", "pool", "coop-fund", "tax")


@dataclass
class MoneyCheck:
    at: str
    currency: str
    gross: int
    platform: int
    parties: int
    payouts: int
    escrow: int
    suspense: int
    contributions: int = 0  # pool contributions (docs/pools.md)
    pools: int = 0  # pools' undistributed accounts
    coop_fund: int = 0
    reports: int = 0  # imported sales reports' converted amounts (the report account)
    tax: int = 0  # withholding tax held until remitted (tax:<territory>)
    remitted: int = 0  # withholding tax paid over to the tax authorities (TaxRemittance)

    @property
    def ok(self) -> bool:
        held = self.platform + self.parties + self.payouts + self.escrow + self.suspense + self.pools + self.coop_fund
        held += self.tax + self.remitted
        return self.gross + self.contributions + self.reports == held

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "currency": self.currency,
            "gross_micros": self.gross,
            "platform_micros": self.platform,
            "party_balances_micros": self.parties,
            "payouts_micros": self.payouts,
            "escrow_micros": self.escrow,
            "suspense_micros": self.suspense,
            "pool_contributions_micros": self.contributions,
            "pool_undistributed_micros": self.pools,
            "coop_fund_micros": self.coop_fund,
            "report_income_micros": self.reports,
            "withholding_tax_micros": self.tax,
            "withholding_tax_remitted_micros": self.remitted,
            "ok": self.ok,
        }


def _class(account: str) -> str:
    return account.split(":", 1)[0]


def months_spanning(first_us: int, last_us: int) -> list[Period]:
    period = Period.containing(EPOCH + timedelta(microseconds=first_us))
    last = Period.containing(EPOCH + timedelta(microseconds=last_us))
    out = []
    while period <= last:
        out.append(period)
        period = period.next()
    return out


def money_at(engine: StatementEngine, as_of: int, label: str = "head") -> list[MoneyCheck]:
    gross, first, last = usage_overview(engine.config, as_of)
    contributed, c_first, c_last = contributions_overview(engine.config, as_of)
    reported, r_first, r_last = report_gross(engine.config, as_of)
    first = min((x for x in (first, c_first, r_first) if x is not None), default=None)
    last = max((x for x in (last, c_last, r_last) if x is not None), default=None)
    sums: dict[tuple[str, str], int] = {}
    if first is not None and last is not None:
        for period in months_spanning(first, last):
            for account, lines in engine.period_result(period, as_of).lines.items():
                for key, amounts in lines.items():
                    slot = (key.currency, _class(account))
                    sums[slot] = sums.get(slot, 0) + amounts.amount_micros
    payouts: dict[str, int] = {}
    for p in engine.history.payouts_between(0, as_of):
        payouts[p.currency] = payouts.get(p.currency, 0) + p.amount_micros
    remitted = _remitted(engine, as_of)
    checks = []
    for cur in sorted(
        set(gross) | set(contributed) | set(reported) | set(payouts) | set(remitted) | {c for c, _ in sums}
    ):
        paid = payouts.get(cur, 0)
        checks.append(
            MoneyCheck(
                label,
                cur,
                gross.get(cur, 0),
                sums.get((cur, "platform"), 0),
                sums.get((cur, "party"), 0) - paid,
                paid,
                sums.get((cur, "escrow"), 0),
                sums.get((cur, "suspense"), 0),
                contributed.get(cur, 0),
                sums.get((cur, "pool"), 0),
                sums.get((cur, "coop-fund"), 0),
                reported.get(cur, 0),
                sums.get((cur, "tax"), 0) - remitted.get(cur, 0),
                remitted.get(cur, 0),
            )
        )
    return checks


def _remitted(engine: StatementEngine, as_of: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in engine.history.remittances_between(0, as_of):
        out[r.currency] = out.get(r.currency, 0) + r.amount_micros
    return out


def money_at_closes(engine: StatementEngine) -> list[MoneyCheck]:
    closes = sorted(engine.history.closes.values(), key=lambda c: Period.parse(c.period))
    if not closes:
        return []
    first_start = to_us(Period.parse(closes[0].period).start)
    checks = []
    for close in closes:
        end = to_us(Period.parse(close.period).end)
        gross = gross_between(engine.config, close.as_of_position, first_start, end)
        contributed = contributions_between(engine.config, close.as_of_position, first_start, end)
        reported, _, _ = report_gross(engine.config, close.as_of_position, first_start, end)
        sums: dict[tuple[str, str], int] = {}
        for account, per_currency in close.account_totals.items():
            for cur, totals in per_currency.items():
                slot = (cur, _class(account))
                sums[slot] = sums.get(slot, 0) + totals["closing"]
        payouts: dict[str, int] = {}
        for p in engine.history.payouts_between(0, close.as_of_position):
            payouts[p.currency] = payouts.get(p.currency, 0) + p.amount_micros
        remitted = _remitted(engine, close.as_of_position)  # the tax accounts' closings are net of them
        for cur in sorted(
            set(gross) | set(contributed) | set(reported) | set(payouts) | set(remitted) | {c for c, _ in sums}
        ):
            checks.append(
                MoneyCheck(
                    f"close {close.period}",
                    cur,
                    gross.get(cur, 0),
                    sums.get((cur, "platform"), 0),
                    sums.get((cur, "party"), 0),
                    payouts.get(cur, 0),
                    sums.get((cur, "escrow"), 0),
                    sums.get((cur, "suspense"), 0),
                    contributed.get(cur, 0),
                    sums.get((cur, "pool"), 0),
                    sums.get((cur, "coop-fund"), 0),
                    reported.get(cur, 0),
                    sums.get((cur, "tax"), 0),
                    remitted.get(cur, 0),
                )
            )
    return checks


def verify_money_equation(app: RoyaltyLedger, config: StoreConfig) -> dict[str, Any]:
    """The audit entry point: every check at head and at every close, and whether all hold."""
    engine = engine_for(app, config)
    head = app.head_position()
    checks = money_at(engine, head) + money_at_closes(engine)
    return {"ok": all(c.ok for c in checks), "head_position": head, "checks": [c.as_dict() for c in checks]}
