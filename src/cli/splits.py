"""`royalty splits`: the full history of a recording's master split or a work's publishing split."""

from __future__ import annotations

from typing import Any

import typer

from cli.context import ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.application import NotFound
from ledger.domain.identifiers import InvalidIdentifier, parse_isrc, parse_iswc
from ledger.domain.shares import format_ppm
from ledger.history import split_history

app = typer.Typer(help="Split agreements and their effective-dated versions.", no_args_is_help=True)


def _subject(code: str) -> tuple[str, str]:
    """ISRC → master split of the recording; ISWC (T-…) or a work key → publishing split."""
    text = code.strip()
    if text.upper().startswith("T-") or (
        text.upper().startswith("T") and text[1:].replace(".", "").replace("-", "").isdigit()
    ):
        return "publishing", parse_iswc(text)
    try:
        return "master", parse_isrc(text)
    except InvalidIdentifier:
        return "publishing", text


@app.command("history")
def history(
    code: str = typer.Argument(..., help="ISRC (master split) or ISWC / work key (publishing split)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every version: effective_from, shares, proposer, acceptances, activation, positions and times."""
    app_ = ledger()
    right, key = _subject(code)
    if right == "publishing" and key.startswith("T-"):
        key = _work_key_for_iswc(key) or key
    try:
        app_.get_split(right, key)
    except NotFound as exc:
        fail(str(exc), as_json)
    versions = split_history(app_, right, key)
    doc = {"right": right, "subject": key, "versions": versions}
    report(doc, as_json, lambda: _render(doc))


def _work_key_for_iswc(iswc: str) -> str | None:
    """Works are keyed by ISWC when they have one; look it up by trying that key."""
    app_ = ledger()
    try:
        return app_.get_work(iswc).key
    except NotFound:
        return None


def _render(doc: dict[str, Any]) -> None:
    rows = []
    for v in doc["versions"]:
        shares = ", ".join(f"{p} {format_ppm(s)}" for p, s in v["shares"].items())
        accepted = ", ".join(f"{a['party']}@{a['position']}" for a in v["acceptances"]) or "-"
        act = v["activation"]
        activation = (
            f"@{act['position']} {act['recorded_at']:%Y-%m-%d %H:%M} by {act['actor']}"
            + (f" (override: {act['override_reason']})" if act["override_reason"] else "")
            if act
            else "not active"
        )
        rows.append(
            (
                v["version"],
                f"{v['effective_from']:%Y-%m-%d %H:%M}",
                v["kind"],
                shares,
                f"{v['proposed_by']} @{v['proposed']['position']} {v['proposed']['recorded_at']:%Y-%m-%d %H:%M}",
                accepted,
                activation,
                v["reason"],
            )
        )
    console.print(
        table(
            f"{doc['right']} split of {doc['subject']}",
            ["v", "effective from", "kind", "shares", "proposed", "accepted", "activated", "reason"],
            rows,
        )
    )
