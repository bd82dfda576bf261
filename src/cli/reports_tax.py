"""`royalty reports remit-tax` and `royalty reports tax-held`: withholding tax paid over to the
tax authority, and what each tax:<territory> account holds (docs/reports.md)."""

from __future__ import annotations

import typer

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.domain.money import format_micros, parse_decimal_micros
from ledger.domain.party import DomainError
from ledger.domain.text import InvalidText
from projections.statements.close import engine_for
from projections.statements.tax_remittance import over_remitted_text, remit_withholding_tax, tax_held

PERIODS = typer.Option(..., "--period", help="A period YYYY-MM the remittance covers (repeatable).")


def remit_tax(
    territory: str = typer.Option(..., "--territory", help="The tax account's territory (tax:<territory>)."),
    currency: str = typer.Option(..., "--currency", help="ISO 4217 currency of the money held."),
    amount: str = typer.Option(..., "--amount", help="Decimal amount, whole minor units (e.g. 12.34)."),
    periods: list[str] = PERIODS,
    reference: str = typer.Option(..., "--reference", help="The tax authority's reference (receipt, filing id)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record withholding tax paid over: it leaves tax:<territory>; never more than the account holds."""
    try:
        app = ledger()
        remittance, after = remit_withholding_tax(
            app,
            territory=territory,
            currency=currency,
            amount_micros=parse_decimal_micros(amount),
            periods=periods,
            reference=reference,
            actor=actor(),
        )
    except (DomainError, InvalidText, ValueError) as exc:
        fail(str(exc), as_json)
    doc = {
        "ok": True,
        "remittance_id": str(remittance.id),
        "position": app.head_position(),
        "amount_micros": remittance.amount_micros,
        "periods": remittance.periods,
        "reference": remittance.reference,
        **after.as_dict(),
    }
    report(
        doc,
        as_json,
        lambda: console.print(
            f"remitted {format_micros(remittance.amount_micros)} {after.currency} from {after.account} "
            f"({', '.join(remittance.periods)}; {remittance.reference}): "
            f"{format_micros(after.held_micros)} {after.currency} still held"
        ),
    )


def tax_held_command(as_json: bool = JSON_OPTION) -> None:
    """Every tax:<territory> account as known now: withheld, remitted and still held, per currency."""
    app = ledger()
    head = app.head_position()
    held = tax_held(engine_for(app, app.config, head), head)
    accounts = [t.as_dict() for t in held]
    rows = [
        (
            a["account"],
            a["currency"],
            format_micros(a["withheld_micros"]),
            format_micros(a["remitted_micros"]),
            format_micros(a["held_micros"]),
        )
        for a in accounts
    ]

    def render() -> None:
        console.print(table("withholding tax", ["account", "currency", "withheld", "remitted", "held"], rows))
        for account in held:
            if account.over_remitted_micros:
                console.print(f"[yellow]over-remitted:[/] {over_remitted_text(account)}")

    report({"ok": True, "position": head, "accounts": accounts}, as_json, render)
