"""`royalty review`: releases from unverified senders, waiting for a person to approve or reject."""

from __future__ import annotations

import typer

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.application import NotFound
from ledger.domain.identifiers import InvalidIdentifier, parse_release_key
from ledger.domain.party import DomainError
from ledger.review import review_queue

app = typer.Typer(help="The review queue of releases from unverified senders.", no_args_is_help=True)


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Releases waiting in review, with who delivered them and why (each reason with its element path)."""
    releases = review_queue(ledger())
    docs = [
        {
            "upc": r.upc,
            "title": r.title,
            "label": r.label_key,
            "delivered_by": r.delivered_by,
            "release_date": r.release_date,
            "tracks": len(r.track_isrcs),
            "status": r.status,
            "reasons": list(r.review_reasons),
        }
        for r in releases
    ]
    report(
        {"in_review": docs},
        as_json,
        lambda: console.print(
            table(
                f"{len(docs)} releases in review",
                ["release", "title", "label", "delivered by", "released", "tracks", "why"],
                [
                    (
                        r.upc,
                        r.title,
                        r.label_key,
                        r.delivered_by,
                        r.release_date,
                        len(r.track_isrcs),
                        "\n".join(r.review_reasons) or "unverified sender",
                    )
                    for r in releases
                ],
            )
        ),
    )


def _decide(upc: str, decision: str, reason: str, as_json: bool) -> None:
    app = ledger()
    try:
        rel = app.decide_review(parse_release_key(upc), decision, reason, actor())
    except (NotFound, DomainError, InvalidIdentifier) as exc:
        fail(str(exc), as_json)
    doc = {"upc": rel.upc, "status": rel.status, "decision": rel.review_history[-1], "position": app.head_position()}
    report(doc, as_json, lambda: console.print(f"release {rel.upc} is now [bold]{rel.status}[/]"))


@app.command("approve")
def approve(
    upc: str = typer.Argument(..., help="The release's UPC/EAN."),
    reason: str = typer.Option("", "--reason", help="Why (optional for an approval)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Approve a release in review: it goes live. The decision is recorded with its reviewer."""
    _decide(upc, "approved", reason, as_json)


@app.command("reject")
def reject(
    upc: str = typer.Argument(..., help="The release's UPC/EAN."),
    reason: str = typer.Option(..., "--reason", help="Why: the sender reads this."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Reject a release in review. The decision is recorded with its reviewer and reason."""
    _decide(upc, "rejected", reason, as_json)
