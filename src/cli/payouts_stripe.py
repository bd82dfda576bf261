"""`royalty payouts run | reconcile | link-account`: payouts by Stripe Connect transfers."""

from __future__ import annotations

import typer

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.application import NotFound
from ledger.domain.money import format_micros, parse_decimal_micros
from ledger.domain.party import DomainError
from ledger.domain.period import InvalidTime, Period
from ledger.payments.gateway import TransferGateway, TransferUncertain
from ledger.payments.payouts import link_payout_account, run_payouts
from ledger.payments.reconcile import reconcile as reconcile_transfers
from ledger.payments.stripe_adapter import StripeNotConfigured, StripeSettings, StripeTransfers
from projections.statements.payouts import min_payout_micros, payout_balances


def stripe_gateway() -> TransferGateway:
    return StripeTransfers(StripeSettings.from_env())


def run(
    period: str = typer.Argument(..., help="The closed period, YYYY-MM."),
    minimum: str = typer.Option(None, help="Minimum payout (default ROYALTY_MIN_PAYOUT or 10)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Pay every party's balance after the close by Stripe transfer; never pays twice.

    Exits 2 while a payout is left pending (Stripe did not answer clearly): run it again.
    """
    try:
        p = Period.parse(period)
        minimum_micros = parse_decimal_micros(minimum) if minimum is not None else min_payout_micros()
        app = ledger()
        result = run_payouts(
            app, p, payout_balances(app, p), stripe_gateway(), actor=actor(), minimum_micros=minimum_micros
        )
    except (DomainError, InvalidTime, StripeNotConfigured, ValueError) as exc:
        fail(str(exc), as_json)
    rows = [
        (
            x.party,
            x.currency,
            x.status,
            format_micros(x.amount_micros, 2),
            format_micros(x.rest_micros),
            x.transfer_id,
            x.reason,
        )
        for x in (*result.resumed, *result.lines)
    ]
    report(
        result.to_dict(),
        as_json,
        lambda: console.print(
            table(f"payouts for {p}", ["party", "currency", "status", "amount", "rest", "transfer", "note"], rows)
        ),
    )
    if not result.ok:
        raise typer.Exit(2)


def reconcile(as_json: bool = JSON_OPTION) -> None:
    """Compare Stripe's transfers with the payout events; exits 1 on any difference."""
    try:
        result = reconcile_transfers(ledger(), stripe_gateway())
    except (StripeNotConfigured, TransferUncertain) as exc:
        fail(str(exc), as_json)
    rows = [
        (d.kind, d.party, d.payout_id, d.transfer_id, d.ledger_amount_minor, d.stripe_amount_minor, d.detail)
        for d in result.differences
    ]
    report(
        result.to_dict(),
        as_json,
        lambda: console.print(
            table("differences", ["kind", "party", "payout", "transfer", "ledger", "stripe", "detail"], rows)
            if rows
            else f"clean: {result.payouts_sent} payouts sent, {result.transfers} transfers"
        ),
    )
    if not result.ok:
        raise typer.Exit(1)


def link_account(
    party: str = typer.Argument(..., help="Party key."),
    account: str = typer.Argument(..., help="Stripe connected account id, acct_…"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Link a party's Stripe connected account (recorded as PayoutAccountLinked)."""
    try:
        changed = link_payout_account(ledger(), party, account, actor())
    except (DomainError, NotFound) as exc:
        fail(str(exc), as_json)
    report(
        {"ok": True, "party": party, "account": account, "changed": changed},
        as_json,
        lambda: console.print(f"{party}: payouts go to {account}" + ("" if changed else " (already linked)")),
    )
