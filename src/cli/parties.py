"""`royalty parties`: list parties; verify or suspend a party (a sender's trust for its deliveries)."""

from __future__ import annotations

from typing import Any

import typer

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.application import NotFound
from ledger.domain.party import DomainError
from ledger.ingest.parties import party_directory
from ledger.review import suspend_sender, verify_sender

app = typer.Typer(help="Parties and their verification.", no_args_is_help=True)


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Every party with its kinds, identifiers and verification state."""
    parties = sorted(party_directory(ledger()).by_key.values(), key=lambda p: p.key)
    docs: list[dict[str, Any]] = [
        {"key": p.key, "name": p.name, "kinds": p.kinds, "identifiers": p.identifiers, "verification": p.verification}
        for p in parties
    ]
    report(
        {"parties": docs},
        as_json,
        lambda: console.print(
            table(
                f"{len(docs)} parties",
                ["key", "name", "kinds", "identifiers", "verification"],
                [
                    (
                        d["key"],
                        d["name"],
                        ",".join(d["kinds"]),
                        " ".join(f"{k}:{v}" for k, v in d["identifiers"].items()),
                        d["verification"],
                    )
                    for d in docs
                ],
            )
        ),
    )


@app.command("verify")
def verify(
    key: str = typer.Argument(..., help="The party's key."),
    reason: str = typer.Option(..., "--reason", help="Why it is trusted (contract, KYC…)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Verify a party. A verified sender's deliveries go live; its releases in review are approved."""
    app = ledger()
    try:
        approved = verify_sender(app, key, reason, actor())
    except (NotFound, DomainError) as exc:
        fail(str(exc), as_json)
    report(
        {"key": key, "verification": "verified", "approved_releases": approved, "position": app.head_position()},
        as_json,
        lambda: console.print(f"{key} verified; {len(approved)} release(s) in review approved"),
    )


@app.command("suspend")
def suspend(
    key: str = typer.Argument(..., help="The party's key."),
    reason: str = typer.Option(..., "--reason", help="Why."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Suspend a party: its future deliveries are refused (what is live stays live)."""
    app = ledger()
    try:
        suspend_sender(app, key, reason, actor())
    except (NotFound, DomainError) as exc:
        fail(str(exc), as_json)
    report(
        {"key": key, "verification": "suspended", "position": app.head_position()},
        as_json,
        lambda: console.print(f"{key} suspended"),
    )
