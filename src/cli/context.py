"""Wiring for CLI commands: the store configuration, the ledger application, the actor."""

from __future__ import annotations

import getpass
import os
from functools import cache

from api.positions import ApiLedger
from ledger.store.config import StoreConfig


def store_config() -> StoreConfig:
    """The store ROYALTY_DATABASE_URL names; a URL that names none is a clear error and exit 1."""
    try:
        return StoreConfig.from_env()
    except ValueError as exc:
        from cli.output import fail

        fail(f"ROYALTY_DATABASE_URL: {exc}")


@cache
def ledger() -> ApiLedger:
    """The ledger as the API runs it, so a write from the CLI answers with the positions it wrote.

    A store that is missing, unreachable or behind the migrations is a clear error and exit 1.
    """
    from cli.output import fail
    from ledger.store.migrate import store_problem

    config = store_config()
    problem = store_problem(config)
    if problem:
        fail(problem)
    return ApiLedger(config)


def actor() -> str:
    """Who is acting from the command line: ROYALTY_ACTOR, else the operating-system user."""
    return os.environ.get("ROYALTY_ACTOR") or f"cli:{getpass.getuser()}"
