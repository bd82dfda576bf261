"""`royalty disputes`: open, admit, refuse, resolve, list and show disputes (the API's routes, as the operator).

A dispute a party opened without standing (no credit on the subject, no current or past share)
is *pending*: it moves no money until an operator admits it — or refuses it, for good. One
opened here (by the operator) is admitted at once.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import typer

from api.routers import disputes as disputes_api
from api.schemas.rights import (
    DisputeCreate,
    DisputeDecisionCreate,
    DisputePublic,
    DisputeResolutionCreate,
    DisputeWritten,
)
from cli.context import ledger
from cli.output import JSON_OPTION, console, fail, report, table
from cli.splits import SUBJECT, right_and_key
from cli.writes import OptionError, acting_party, operator, perform, shares_option

app = typer.Typer(help="Disputes over who holds a share; escrow while they are open.", no_args_is_help=True)


def _dispute_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise OptionError(f"dispute_id: {text!r} is not a dispute id (a UUID)") from None


def _line(doc: dict[str, Any]) -> str:
    d = doc["dispute"]
    outcome = f" ({d['outcome']}, {d['awarded_ppm']} ppm awarded)" if d["outcome"] else ""
    standing = f" (standing: {d['standing']})" if d["standing"] else " (no standing: moves no money)"
    return (
        f"dispute {d['dispute_id']} {d['status']}{outcome}{standing}: "
        f"{d['claimant']} claims {d['claimed_ppm']} ppm of the "
        f"{d['right']} split of {d['subject_key']} from {d['effective_from']}; escrow {d['escrow_account']}"
        f" (position {doc['position']})"
    )


@app.command("open")
def open_(
    code: str = SUBJECT,
    claimant: str = typer.Option(..., "--claimant", help="The party claiming the share."),
    claimed_ppm: int = typer.Option(..., "--claimed-ppm", help="The share claimed, in ppm (1…1000000)."),
    effective_from: str = typer.Option(..., "--from", help="Claimed from when: ISO 8601 UTC."),
    statement: str = typer.Option(..., "--statement", help="The claim, in the claimant's words."),
    respondent: str = typer.Option(None, "--respondent", help="The party the claim is against."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Open a dispute for a claimant (admitted: the operator opens it); while open, the claimed
    share's earnings go to its escrow."""
    app_ = ledger()

    def write() -> DisputeWritten:
        right, key = right_and_key(code)
        body = DisputeCreate.model_validate(
            {
                "right": right,
                "subject_key": key,
                "claimed_ppm": claimed_ppm,
                "effective_from": effective_from,
                "statement": statement,
                "respondent": respondent,
            }
        )
        return disputes_api.open_dispute(acting_party(app_, claimant), body, app_, operator())

    perform(as_json, write, _line)


REASON = typer.Option(..., "--reason", help="Why: recorded with the decision.")


@app.command("admit")
def admit(
    dispute_id: str = typer.Argument(..., help="The dispute's id."), reason: str = REASON, as_json: bool = JSON_OPTION
) -> None:
    """Admit a pending dispute: from now on it escrows the claimed share."""
    app_ = ledger()

    def write() -> DisputeWritten:
        body = DisputeDecisionCreate.model_validate({"reason": reason})
        return disputes_api.admit(_dispute_id(dispute_id), body, app_, operator())

    perform(as_json, write, _line)


@app.command("refuse")
def refuse(
    dispute_id: str = typer.Argument(..., help="The dispute's id."), reason: str = REASON, as_json: bool = JSON_OPTION
) -> None:
    """Refuse a pending dispute: it never moves money."""
    app_ = ledger()

    def write() -> DisputeWritten:
        body = DisputeDecisionCreate.model_validate({"reason": reason})
        return disputes_api.refuse(_dispute_id(dispute_id), body, app_, operator())

    perform(as_json, write, _line)


CORRECTED_SHARES = typer.Option(
    None, "--share", help="Upheld or partial: PARTY=PPM of the corrected split (repeat), activated with it."
)


@app.command("resolve")
def resolve(
    dispute_id: str = typer.Argument(..., help="The dispute's id."),
    outcome: str = typer.Option(..., "--outcome", help="upheld, rejected or partial."),
    note: str = typer.Option(..., "--note", help="The decision, recorded with it."),
    awarded_ppm: int = typer.Option(None, "--awarded-ppm", help="Partial: the share awarded, in ppm."),
    shares: list[str] = CORRECTED_SHARES,
    effective_from: str = typer.Option(
        None, "--from", help="The corrected split's effective time (default: the claim's)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Resolve a dispute; escrow is released by the outcome, corrected shares become a new version."""
    app_ = ledger()

    def write() -> DisputeWritten:
        body = DisputeResolutionCreate.model_validate(
            {
                "outcome": outcome,
                "note": note,
                "awarded_ppm": awarded_ppm,
                "corrected_shares": shares_option(shares) if shares else None,
                "effective_from": effective_from,
            }
        )
        return disputes_api.resolve(_dispute_id(dispute_id), body, app_, operator())

    perform(as_json, write, _line)


@app.command("list")
def list_(
    status: str = typer.Option(None, "--status", help="pending, open, refused or resolved (default: all)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every dispute in the order it was opened."""
    if status not in (None, "pending", "open", "refused", "resolved"):
        fail(f"--status {status!r}: expected pending, open, refused or resolved", as_json)
    found = disputes_api.list_disputes(ledger(), operator(), status)  # type: ignore[arg-type]
    docs = [d.model_dump(mode="json") for d in found]
    rows = [
        (
            d["dispute_id"],
            d["status"],
            d["standing"] or "-",
            d["outcome"],
            d["right"],
            d["subject_key"],
            d["claimant"],
            d["claimed_ppm"],
        )
        for d in docs
    ]
    report(
        {"disputes": docs},
        as_json,
        lambda: console.print(
            table(
                f"{len(docs)} disputes",
                ["id", "status", "standing", "outcome", "right", "subject", "claimant", "ppm"],
                rows,
            )
        ),
    )


@app.command("show")
def show(dispute_id: str = typer.Argument(..., help="The dispute's id."), as_json: bool = JSON_OPTION) -> None:
    """One dispute: claim, escrow account, status and outcome."""

    def read() -> DisputePublic:
        return disputes_api.dispute_public(ledger().get_dispute(_dispute_id(dispute_id)))

    perform(as_json, read, lambda d: _line({"dispute": d, "position": ledger().head_position()}))
