"""`royalty pie`: the rights pie — platform, master and publishing shares per usage kind and model."""

from __future__ import annotations

from typing import Any

import typer

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.domain.party import DomainError
from ledger.domain.period import InvalidTime, parse_utc
from ledger.domain.rights_pie import PIE_PARTS
from ledger.domain.shares import InvalidShares, format_ppm, percent_to_ppm

app = typer.Typer(help="The rights pie: versioned cut of gross revenue.", no_args_is_help=True)


def _parse_rule(text: str) -> tuple[str, dict[str, int]]:
    """'stream:fixed_rate=30%,56%,14%' or '*:*=300000,560000,140000' (ppm)."""
    selector, sep, values = text.partition("=")
    parts = values.split(",")
    if not sep or len(parts) != 3:
        raise DomainError(f"rule {text!r}: expected KIND:MODEL=PLATFORM,MASTER,PUBLISHING")
    ppm = [percent_to_ppm(p) if p.strip().endswith("%") else int(p) for p in parts]
    return selector.strip(), dict(zip(PIE_PARTS, ppm, strict=True))


RULE_OPTION = typer.Option(
    ...,
    "--rule",
    help="KIND:MODEL=PLATFORM,MASTER,PUBLISHING as ppm or percentages; kind or model may be '*'.",
)


@app.command("set")
def set_pie(
    rules: list[str] = RULE_OPTION,
    effective_from: str = typer.Option(..., help="UTC instant the version applies from."),
    reason: str = typer.Option(..., help="Why the pie changes (recorded)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a new rights-pie version (all rules of the version at once)."""
    try:
        parsed = dict(_parse_rule(r) for r in rules)
        version = ledger().set_rights_pie(parsed, parse_utc(effective_from), reason, actor())
    except (DomainError, InvalidShares, InvalidTime, ValueError) as exc:
        fail(str(exc), as_json)
    doc = {"ok": True, "version": version, "head_position": ledger().head_position()}
    report(doc, as_json, lambda: console.print(f"rights pie version {version} recorded"))


@app.command("show")
def show(as_json: bool = JSON_OPTION) -> None:
    """Every rights-pie version with its rules."""
    ruleset = ledger().get_rights_pie()
    versions: list[dict[str, Any]] = ruleset.versions if ruleset else []
    doc = {"versions": versions}

    def render() -> None:
        rows = [
            (
                v["version"],
                v["effective_from"].isoformat(),
                sel,
                *(format_ppm(parts[p]) for p in PIE_PARTS),
                v["reason"],
            )
            for v in versions
            for sel, parts in v["rules"].items()
        ]
        console.print(table("rights pie", ["version", "effective from", "rule", *PIE_PARTS, "reason"], rows))

    report(doc, as_json, render)
