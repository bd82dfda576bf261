"""Withholding tax held and remitted: what each `tax:<territory>` account holds by the statement
rules, and a remittance refused when it is more than that.

An account's withheld total is the sum, over every month with report income, of its statement
lines as known at the position asked (so a superseded report or a late link changes it the way it
changes statements); its remitted total is the sum of its `TaxRemittance.Recorded` events up to
that position. Held = withheld − remitted, per currency; a remittance never takes it below zero.

A correction can: a report superseded after its tax was remitted withholds less than was paid
over. The account is then *over-remitted* (held below zero) — money the platform can reclaim from
the tax authority. Nothing is hidden or refused: `over_remitted_micros` names it, the import of
the correction and `reports tax-held` say so, and later withholding fills the gap first (a
remittance is refused until the account holds money again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.application import RoyaltyLedger
from ledger.domain.money import format_micros
from ledger.domain.party import DomainError
from ledger.domain.period import Period
from ledger.domain.sales_report import TaxRemittance
from ledger.reports.remittance import clean_remittance, record_tax_remittance
from projections.statements.close import engine_for
from projections.statements.money import months_spanning
from projections.statements.reports import report_gross, tax_account
from projections.statements.statement import StatementEngine

TAX_PREFIX = "tax:"


@dataclass(frozen=True)
class TaxHeld:
    account: str
    currency: str
    withheld_micros: int
    remitted_micros: int

    @property
    def held_micros(self) -> int:
        return self.withheld_micros - self.remitted_micros

    @property
    def over_remitted_micros(self) -> int:
        """More paid over than the statement rules now withhold (after a correction), else 0."""
        return max(0, -self.held_micros)

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "territory": self.account.removeprefix(TAX_PREFIX),
            "currency": self.currency,
            "withheld_micros": self.withheld_micros,
            "remitted_micros": self.remitted_micros,
            "held_micros": self.held_micros,
            "over_remitted_micros": self.over_remitted_micros,
        }


def tax_held(engine: StatementEngine, as_of: int) -> list[TaxHeld]:
    """Every tax account and currency with something withheld or remitted, as known at `as_of`."""
    withheld: dict[tuple[str, str], int] = {}
    _, first, last = report_gross(engine.config, as_of)
    if first is not None and last is not None:
        for period in months_spanning(first, last):
            for account, lines in engine.period_result(period, as_of).lines.items():
                if account.startswith(TAX_PREFIX):
                    for key, amounts in lines.items():
                        slot = (account, key.currency)
                        withheld[slot] = withheld.get(slot, 0) + amounts.amount_micros
    remitted: dict[tuple[str, str], int] = {}
    for r in engine.history.remittances_between(0, as_of):
        remitted[(r.account, r.currency)] = remitted.get((r.account, r.currency), 0) + r.amount_micros
    return [TaxHeld(a, c, withheld.get((a, c), 0), remitted.get((a, c), 0)) for a, c in sorted(withheld | remitted)]


def over_remitted(app: RoyaltyLedger) -> list[TaxHeld]:
    """The tax accounts paid over more than the statement rules now withhold, as known at the head
    (a report superseded after its tax was remitted); none when nothing was ever remitted."""
    head = app.head_position()
    engine = engine_for(app, app.config, head)
    if not engine.history.remittances_between(0, head):
        return []
    return [t for t in tax_held(engine, head) if t.over_remitted_micros]


def over_remitted_text(account: TaxHeld) -> str:
    return (
        f"{account.account} was paid over {format_micros(account.over_remitted_micros)} {account.currency} more "
        f"than the corrected reports withhold (withheld {format_micros(account.withheld_micros)}, remitted "
        f"{format_micros(account.remitted_micros)}): reclaim it from the tax authority; later withholding "
        "fills it first"
    )


def remit_withholding_tax(
    app: RoyaltyLedger,
    *,
    territory: str,
    currency: str,
    amount_micros: int,
    periods: list[str],
    reference: str,
    actor: str,
) -> tuple[TaxRemittance, TaxHeld]:
    """Record a remittance if the account holds it (as known at the head); returns the record
    and the account after it. DomainError names what is wrong (nothing is recorded then)."""
    territory, currency = clean_remittance(territory, currency, amount_micros, periods)
    now = Period.containing(app.clock())
    later = sorted(p for p in periods if Period.parse(p) > now)
    if later:
        raise DomainError(f"a remittance covers past or current periods; {', '.join(later)} is still to come")
    head = app.head_position()
    engine = engine_for(app, app.config, head)
    account = tax_account(territory)
    found = [t for t in tax_held(engine, head) if (t.account, t.currency) == (account, currency)]
    before = found[0] if found else TaxHeld(account, currency, 0, 0)
    if amount_micros > before.held_micros:
        raise DomainError(
            f"{account} holds {format_micros(before.held_micros)} {currency} (withheld "
            f"{format_micros(before.withheld_micros)}, remitted {format_micros(before.remitted_micros)}): "
            f"a remittance of {format_micros(amount_micros)} {currency} is more than it holds"
        )
    earlier = [r for r in engine.history.remittances if (r.account, r.currency) == (account, currency)]
    remittance = record_tax_remittance(
        app,
        territory=territory,
        currency=currency,
        amount_micros=amount_micros,
        periods=periods,
        reference=reference,
        sequence=len(earlier) + 1,
        actor=actor,
    )
    after = TaxHeld(account, currency, before.withheld_micros, before.remitted_micros + amount_micros)
    return remittance, after
