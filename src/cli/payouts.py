"""`royalty payouts`: record money leaving a party's closed balance (Stripe adds run/reconcile)."""

from __future__ import annotations

import typer

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report
from ledger.domain.identifiers import InvalidIdentifier
from ledger.domain.money import format_micros, parse_decimal_micros
from ledger.domain.party import DomainError
from projections.statements.payouts import record_payout_checked

app = typer.Typer(help="Payouts against closed balances.", no_args_is_help=True)


@app.command("record")
def record(
    party: str = typer.Argument(..., help="Party key."),
    amount: str = typer.Argument(..., help="Decimal amount, whole minor units (e.g. 12.34)."),
    currency: str = typer.Argument(..., help="ISO 4217 code."),
    reference: str = typer.Option("", help="External reference (bank or Stripe id)."),
    minimum: str = typer.Option(None, help="Minimum payout (default ROYALTY_MIN_PAYOUT or 10)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a payout; refused above the payable balance or below the minimum."""
    try:
        micros = parse_decimal_micros(amount)
        min_micros = parse_decimal_micros(minimum) if minimum is not None else None
        payout = record_payout_checked(ledger(), party, micros, currency, actor(), reference, min_micros)
    except (DomainError, InvalidIdentifier, ValueError) as exc:
        fail(str(exc), as_json)
    doc = {
        "ok": True,
        "payout_id": str(payout.id),
        "party": party,
        "currency": payout.currency,
        "amount_micros": micros,
        "head_position": ledger().head_position(),
    }
    report(
        doc,
        as_json,
        lambda: console.print(f"payout {payout.id}: {format_micros(micros, 2)} {payout.currency} to {party}"),
    )
