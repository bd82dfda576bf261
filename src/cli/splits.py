"""`royalty splits`: propose, accept, refuse, set or activate split versions; the full history of a split."""

from __future__ import annotations

from typing import Any

import typer

from api.routers import splits as splits_api
from api.schemas.common import Key
from api.schemas.rights import (
    SplitAcceptanceCreate,
    SplitActivationCreate,
    SplitProposalCreate,
    SplitRefusalCreate,
    SplitVersionCreate,
    SplitWritten,
)
from cli.context import ledger
from cli.output import JSON_OPTION, console, fail, report, table
from cli.writes import acting_party, operator, parse, perform, shares_option
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
        act, refusal = v["activation"], v["refusal"]
        if act:
            activation = f"@{act['position']} {act['recorded_at']:%Y-%m-%d %H:%M} by {act['actor']}" + (
                f" (override: {act['override_reason']})" if act["override_reason"] else ""
            )
        elif refusal:
            activation = f"refused by {refusal['party']} @{refusal['position']}: {refusal['reason']}"
        elif v["consent_from"] is not None:
            activation = "not active; a first version: needs " + (
                f"one of {', '.join(v['consent_from'])} or an operator" if v["consent_from"] else "an operator"
            )
        else:
            activation = "not active"
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


SUBJECT = typer.Argument(..., help="ISRC (master split) or ISWC / work key (publishing split).")
SHARES = typer.Option(..., "--share", help="PARTY=PPM, repeated; the shares sum to 1000000 (e.g. aria-lune=600000).")
EFFECTIVE_FROM = typer.Option(
    ..., "--from", help="When the version takes effect: ISO 8601 UTC, e.g. 2026-01-01T00:00:00Z."
)


def right_and_key(code: str) -> tuple[str, str]:
    right, key = _subject(code)
    if right == "publishing" and key.startswith("T-"):
        key = _work_key_for_iswc(key) or key
    return right, key


def _split_line(doc: dict[str, Any]) -> str:
    return (
        f"{doc['right']} split of {doc['subject_key']}: version {doc['version']} {doc['status']}"
        f" (position {doc['position']})"
    )


@app.command("propose")
def propose(
    code: str = SUBJECT,
    party: str = typer.Option(..., "--as", help="The proposing party (its acceptance is recorded with it)."),
    shares: list[str] = SHARES,
    effective_from: str = EFFECTIVE_FROM,
    reason: str = typer.Option("", "--reason"),
    kind: str = typer.Option("change", "--kind", help="change or transfer (a catalogue sale)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Propose a version as a party; it activates once every affected party has accepted."""
    app_ = ledger()

    def write() -> SplitWritten:
        right, key = right_and_key(code)
        body = SplitProposalCreate.model_validate(
            {
                "right": right,
                "subject_key": key,
                "shares": shares_option(shares),
                "effective_from": effective_from,
                "reason": reason,
                "kind": kind,
            }
        )
        return splits_api.propose(acting_party(app_, party), body, app_, operator())

    perform(as_json, write, _split_line)


@app.command("accept")
def accept(
    code: str = SUBJECT,
    version: int = typer.Option(..., "--version", help="The proposed version."),
    party: str = typer.Option(..., "--as", help="The accepting party."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Accept a proposed version as a party; the last acceptance activates it."""
    app_ = ledger()

    def write() -> SplitWritten:
        right, key = right_and_key(code)
        body = SplitAcceptanceCreate.model_validate({"right": right, "subject_key": key, "version": version})
        return splits_api.accept(acting_party(app_, party), body, app_, operator())

    perform(as_json, write, _split_line)


@app.command("refuse")
def refuse(
    code: str = SUBJECT,
    version: int = typer.Option(..., "--version", help="The proposed version."),
    party: str = typer.Option(..., "--as", help="The refusing party (one whose acceptance it asks)."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded with the refusal)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Refuse a proposed version as a party: it can then never activate."""
    app_ = ledger()

    def write() -> SplitWritten:
        right, key = right_and_key(code)
        body = SplitRefusalCreate.model_validate(
            {"right": right, "subject_key": key, "version": version, "reason": reason}
        )
        return splits_api.refuse(acting_party(app_, party), body, app_, operator())

    perform(as_json, write, _split_line)


@app.command("set")
def set_(
    code: str = SUBJECT,
    shares: list[str] = SHARES,
    effective_from: str = EFFECTIVE_FROM,
    reason: str = typer.Option(..., "--reason", help="Why (recorded with the override)."),
    kind: str = typer.Option("initial", "--kind", help="initial, change, transfer or correction."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set a version and activate it at once: an operator's override, recorded with its reason."""
    app_ = ledger()

    def write() -> SplitWritten:
        right, key = right_and_key(code)
        body = SplitVersionCreate.model_validate(
            {"shares": shares_option(shares), "effective_from": effective_from, "reason": reason, "kind": kind}
        )
        return splits_api.set_version(right, parse(Key, key, "subject_key"), body, app_, operator())  # type: ignore[arg-type]

    perform(as_json, write, _split_line)


@app.command("activate")
def activate(
    code: str = SUBJECT,
    version: int = typer.Option(..., "--version", min=1),
    reason: str = typer.Option(..., "--reason", help="Why it is activated without every acceptance."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Activate a proposed version without every acceptance: an operator's override with a reason."""
    app_ = ledger()

    def write() -> SplitWritten:
        right, key = right_and_key(code)
        body = SplitActivationCreate.model_validate({"reason": reason})
        return splits_api.activate(right, parse(Key, key, "subject_key"), version, body, app_, operator())  # type: ignore[arg-type]

    perform(as_json, write, _split_line)
