"""Accounting commands: the rights pie, period closes and payouts — each recorded with its actor."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.application import AggregateNotFoundError

from ledger.base import LedgerBase as _Base
from ledger.domain.identifiers import minor_unit_exponent, parse_currency
from ledger.domain.party import DomainError
from ledger.domain.payout import Payout
from ledger.domain.period import Period, require_utc
from ledger.domain.period_close import PeriodClose, period_close_id
from ledger.domain.rights_pie import RightsPieRuleSet, rights_pie_id


def minor_unit_micros(currency: str) -> int:
    """Micro-units in one minor unit: USD 10 000 (a cent), JPY 1 000 000, KWD 1 000."""
    return int(10 ** (6 - minor_unit_exponent(currency)))


def floor_to_minor_unit(amount_micros: int, currency: str) -> int:
    """Payouts leave in whole minor units; the sub-cent rest stays in the balance."""
    step = minor_unit_micros(currency)
    return (amount_micros // step) * step


class AccountingCommands(_Base):
    def set_rights_pie(
        self, rules: dict[str, dict[str, int]], effective_from: datetime, reason: str, actor: str
    ) -> int:
        """Record a new rights-pie version; returns its number."""
        require_utc(effective_from, "effective_from")
        if rights_pie_id() in self.repository:
            ruleset: RightsPieRuleSet = self.repository.get(rights_pie_id())
            assert isinstance(ruleset, RightsPieRuleSet)
        else:
            ruleset = RightsPieRuleSet(actor=actor)
        version = ruleset.add_version(rules, effective_from, reason, actor)
        self.save(ruleset)
        return version

    def get_rights_pie(self) -> RightsPieRuleSet | None:
        if rights_pie_id() not in self.repository:
            return None
        ruleset: RightsPieRuleSet = self.repository.get(rights_pie_id())
        assert isinstance(ruleset, RightsPieRuleSet)
        return ruleset

    def is_period_closed(self, period: Period) -> bool:
        return period_close_id(str(period)) in self.repository

    def period_close(self, period: Period) -> PeriodClose | None:
        """The month's close as recorded, or None while it is open."""
        try:
            close: PeriodClose = self.repository.get(period_close_id(str(period)))
        except AggregateNotFoundError:
            return None
        return close

    def record_period_close(
        self,
        period: Period,
        as_of_position: int,
        previous_period: str | None,
        account_totals: dict[str, dict[str, dict[str, int]]],
        statement_hashes: dict[str, str],
        actor: str,
        forced: bool = False,
        reason: str = "",
    ) -> PeriodClose:
        if self.is_period_closed(period):
            raise DomainError(f"period {period} is already closed")
        if forced and not reason.strip():
            raise DomainError("a forced close needs a reason")
        close = PeriodClose(
            period=str(period),
            as_of_position=as_of_position,
            previous_period=previous_period,
            account_totals=account_totals,
            statement_hashes=statement_hashes,
            forced=forced,
            reason=reason,
            actor=actor,
        )
        self.save(close)
        return close

    def record_payout(self, party: str, amount_micros: int, currency: str, actor: str, reference: str = "") -> Payout:
        """Record money leaving a balance; the balance and threshold checks are the caller's."""
        currency = parse_currency(currency)
        self.require_parties([party])
        if amount_micros <= 0:
            raise DomainError(f"a payout must be positive, got {amount_micros} micro-units")
        if amount_micros % minor_unit_micros(currency):
            raise DomainError(
                f"a payout in {currency} must be whole minor units "
                f"(multiples of {minor_unit_micros(currency)} micro-units)"
            )
        payout = Payout(
            party=party,
            currency=currency,
            amount_micros=amount_micros,
            reference=reference,
            actor=actor,
        )
        self.save(payout)
        return payout
