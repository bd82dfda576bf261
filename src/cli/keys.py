"""`royalty keys`: issue (the secret is shown once), list and revoke API keys."""

from __future__ import annotations

import typer

from api.auth import create_key, key_doc, list_keys, revoke_key
from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.application import NotFound
from ledger.domain.api_key import ROLES
from ledger.domain.party import DomainError

app = typer.Typer(help="API keys: one role each; party keys act for one party.", no_args_is_help=True)


@app.command("create")
def create(
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    party: str = typer.Option(None, "--party", help="The party a party key acts for."),
    label: str = typer.Option("", "--label", help="A note: who or what uses the key."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Issue a key and print its secret — the only time it is shown. Only a hash is stored."""
    try:
        issued = create_key(ledger(), role, actor(), party, label)
    except (DomainError, NotFound) as exc:
        fail(str(exc), as_json)
    doc = {
        "ok": True,
        "key_id": issued.key_id,
        "role": issued.role,
        "party_key": issued.party_key,
        "label": issued.label,
        "token": issued.token,
    }
    report(
        doc,
        as_json,
        lambda: console.print(
            f"key {issued.key_id} ({issued.role}{' for ' + issued.party_key if issued.party_key else ''})"
            f"\n[bold]{issued.token}[/]\nStore it now: it is not shown again.",
            soft_wrap=True,
        ),
    )


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Every key ever issued (never a secret or a hash)."""
    keys = list_keys(ledger())
    rows = [
        (k["key_id"], k["role"], k["party_key"], k["label"], k["created_at"], "revoked" if k["revoked"] else "active")
        for k in keys
    ]
    report(
        {"keys": keys},
        as_json,
        lambda: console.print(
            table(f"{len(keys)} keys", ["key id", "role", "party", "label", "created", "state"], rows)
        ),
    )


@app.command("revoke")
def revoke(
    key_id: str = typer.Argument(..., help="The key id (the part after rk_)."),
    reason: str = typer.Option("revoked by operator", "--reason"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Revoke a key: the next request made with it is refused."""
    try:
        key = revoke_key(ledger(), key_id, reason, actor())
    except (DomainError, NotFound) as exc:
        fail(str(exc), as_json)
    report({"ok": True, **key_doc(key)}, as_json, lambda: console.print(f"key {key_id} revoked"))
