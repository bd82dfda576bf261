"""`royalty init`: apply the migrations to the configured store (harmless when run twice)."""

from __future__ import annotations

from cli.context import store_config
from cli.output import JSON_OPTION, console, fail, report
from ledger.store.migrate import MigrationError, apply_migrations


def init(as_json: bool = JSON_OPTION) -> None:
    """Create or upgrade the store's tables from migrations/ (forward only)."""
    config = store_config()
    try:
        applied = apply_migrations(config)
    except (MigrationError, OSError) as exc:
        fail(str(exc), as_json)
    report(
        {"ok": True, "store": config.describe(), "applied": applied},
        as_json,
        lambda: console.print(
            f"store {config.describe()}: " + (f"applied migrations {', '.join(applied)}" if applied else "up to date")
        ),
    )
