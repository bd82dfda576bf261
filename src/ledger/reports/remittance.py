"""Recording a remittance of withholding tax: money leaving `tax:<territory>` for the tax
authority. Whether the account holds enough is the caller's check (the statement rules say what
it holds: projections.statements.tax_remittance), as a payout's balance check is."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ledger.accounting import minor_unit_micros
from ledger.domain.identifiers import InvalidIdentifier, parse_currency, parse_territory
from ledger.domain.party import DomainError
from ledger.domain.sales_report import TaxRemittance
from ledger.domain.text import check_text

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def clean_remittance(territory: str, currency: str, amount_micros: int, periods: list[str]) -> tuple[str, str]:
    """The territory and currency codes, or DomainError naming what is wrong."""
    try:
        territory, currency = parse_territory(territory), parse_currency(currency)
    except InvalidIdentifier as exc:
        raise DomainError(str(exc)) from exc
    if isinstance(amount_micros, bool) or not isinstance(amount_micros, int) or amount_micros <= 0:
        raise DomainError(f"a remittance must be a positive amount, got {amount_micros!r} micro-units")
    step = minor_unit_micros(currency)
    if amount_micros % step:
        raise DomainError(
            f"a remittance in {currency} is whole minor units (multiples of {step} micro-units): "
            "the sub-unit rest stays held"
        )
    if not periods or not all(isinstance(p, str) and _MONTH.fullmatch(p) for p in periods):
        raise DomainError(f"name the period(s) the remittance covers as YYYY-MM, got {periods!r}")
    return territory, currency


def record_tax_remittance(
    app: RoyaltyLedger,
    *,
    territory: str,
    currency: str,
    amount_micros: int,
    periods: list[str],
    reference: str,
    sequence: int,
    actor: str,
) -> TaxRemittance:
    """Record the `sequence`-th remittance from tax:<territory> in `currency` (1 for the first);
    a concurrent one decided on the same balance collides on the record id (IntegrityError)."""
    territory, currency = clean_remittance(territory, currency, amount_micros, periods)
    check_text(reference, "reference", "id")
    if not reference.strip():
        raise DomainError("a remittance names the tax authority's reference (receipt, filing id)")
    remittance = TaxRemittance(
        territory=territory,
        currency=currency,
        amount_micros=amount_micros,
        periods=sorted(set(periods)),
        reference=reference,
        sequence=sequence,
        actor=actor,
    )
    app.save(remittance)
    return remittance
