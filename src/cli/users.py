"""`royalty users`: dashboard logins, each tied to a party and a role (argon2 hashes only)."""

from __future__ import annotations

import os
import sys

import typer

from api.users import create_user, disable_user, list_users, set_password, user_doc
from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.application import NotFound
from ledger.domain.party import DomainError
from ledger.domain.user_account import USER_ROLES

app = typer.Typer(help="Dashboard users: a login tied to a party and a role.", no_args_is_help=True)
PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the password from standard input.")
PASSWORD_ENV = "ROYALTY_USER_PASSWORD"  # noqa: S105 - the variable's name, not a password


def _password(from_stdin: bool) -> str:
    """From stdin, else ROYALTY_USER_PASSWORD, else a hidden prompt (twice); never an argument,
    which would land in the shell history and the process list."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@app.command("create")
def create(
    username: str = typer.Argument(..., help="The login name (lower case)."),
    role: str = typer.Option("party", "--role", help=f"One of: {', '.join(USER_ROLES)}."),
    party: str = typer.Option(None, "--party", help="The party a party user acts for."),
    password_stdin: bool = PASSWORD_STDIN,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a dashboard login; the password is stored as an argon2 hash only."""
    try:
        user = create_user(ledger(), username, role, party, _password(password_stdin), actor())
    except (DomainError, NotFound) as exc:
        fail(str(exc), as_json)
    doc = {"ok": True, **user_doc(user)}
    report(doc, as_json, lambda: console.print(f"user {user.username} ({user.role} for {user.party_key or 'all'})"))


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Every dashboard user (never a hash)."""
    users = list_users(ledger())
    rows = [(u["username"], u["role"], u["party_key"], "disabled" if u["disabled"] else "active") for u in users]
    report(
        {"users": users},
        as_json,
        lambda: console.print(table(f"{len(users)} users", ["user", "role", "party", "state"], rows)),
    )


@app.command("set-password")
def set_password_(
    username: str = typer.Argument(...), password_stdin: bool = PASSWORD_STDIN, as_json: bool = JSON_OPTION
) -> None:
    """Replace a user's password."""
    try:
        user = set_password(ledger(), username, _password(password_stdin), actor())
    except (DomainError, NotFound) as exc:
        fail(str(exc), as_json)
    report({"ok": True, **user_doc(user)}, as_json, lambda: console.print(f"password of {user.username} changed"))


@app.command("disable")
def disable(
    username: str = typer.Argument(...),
    reason: str = typer.Option("", "--reason"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Disable a login (its sessions end at their next request)."""
    try:
        user = disable_user(ledger(), username, reason, actor())
    except (DomainError, NotFound) as exc:
        fail(str(exc), as_json)
    report({"ok": True, **user_doc(user)}, as_json, lambda: console.print(f"user {user.username} disabled"))
