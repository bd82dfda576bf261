"""`royalty init`: apply the migrations to the configured store (harmless when run twice), and on
PostgreSQL optionally create the least-privilege role the service connects as."""

from __future__ import annotations

from typing import Any

import psycopg
import typer

from cli.context import store_config
from cli.output import JSON_OPTION, console, fail, report
from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from ledger.store.migrate import MigrationError, apply_migrations
from ledger.store.roles import RoleError, ensure_app_role
from projections.db import ViewDB
from projections.projector import Projector

APP_ROLE_OPTION = typer.Option(
    None,
    "--app-role",
    help="PostgreSQL: create (or bring up to date) this login role for the service: SELECT and INSERT "
    "on the log tables only, not an owner, cannot drop or disable triggers. Re-run after upgrades.",
)
PASSWORD_OPTION = typer.Option(
    None,
    "--password",
    envvar="ROYALTY_APP_ROLE_PASSWORD",
    help="The role's password (prefer the ROYALTY_APP_ROLE_PASSWORD variable: a command line is visible "
    "to other users). Without it the role's password is left as it is.",
    show_envvar=True,
)


def prepare_read_models(config: StoreConfig) -> None:
    """What the service's role may not do itself, done once as the owner: the read models'
    storage settings (ALTER TABLE is the owner's) and their tracking rows."""
    app, db = RoyaltyLedger(config), ViewDB(config)
    try:
        Projector(app, db)
    finally:
        db.close()
        app.close()


def init(
    as_json: bool = JSON_OPTION,
    app_role: str | None = APP_ROLE_OPTION,
    password: str | None = PASSWORD_OPTION,
) -> None:
    """Create or upgrade the store's tables from migrations/ (forward only)."""
    config = store_config()
    try:
        applied = apply_migrations(config)
    except (MigrationError, OSError) as exc:
        fail(str(exc), as_json)
    doc: dict[str, Any] = {"ok": True, "store": config.describe(), "applied": applied}
    if app_role is not None:
        try:
            role = ensure_app_role(config, app_role, password)
        except (RoleError, psycopg.Error) as exc:
            fail(str(exc), as_json)
        prepare_read_models(config)
        doc["app_role"] = role.as_dict()

    def render() -> None:
        console.print(
            f"store {config.describe()}: " + (f"applied migrations {', '.join(applied)}" if applied else "up to date")
        )
        if app_role is not None:
            r = doc["app_role"]
            console.print(
                f"role {app_role} {'created' if r['created'] else 'brought up to date'}: SELECT, INSERT on "
                f"{len(r['log_tables'])} log tables, SELECT on {len(r['read_only_tables'])}, read-write on "
                f"{len(r['read_write_tables'])} read-model tables; not an owner, cannot drop or disable triggers"
            )

    report(doc, as_json, render)
