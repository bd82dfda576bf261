"""Run `royalty` as a user types it: a subprocess with ROYALTY_DATABASE_URL pointing at a test store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ledger.store.config import StoreConfig

ROYALTY = str(Path(sys.executable).with_name("royalty"))


def royalty(
    config: StoreConfig, *args: str, cwd: Path | None = None, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "ROYALTY_DATABASE_URL": config.describe(), "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [ROYALTY, *args], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=timeout, check=False
    )


def royalty_json(config: StoreConfig, *args: str, **kwargs: Any) -> Any:
    result = royalty(config, *args, "--json", **kwargs)
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def royalty_here(
    config: StoreConfig, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`royalty` run in this process (no interpreter start-up: a long sequence of commands in
    seconds), each command with a fresh ledger application as a new process would have."""
    from typer.testing import CliRunner

    from cli.context import ledger
    from cli.main import app
    from cli.output import console

    if ledger.cache_info().currsize:
        ledger().close()
    ledger.cache_clear()
    # rich reads COLUMNS once, when the module-level console is made (by whichever test imported
    # it first): a COLUMNS asked for here must reach it the way a new process would see it.
    width_before = console._width
    if env and "COLUMNS" in env:
        console.width = int(env["COLUMNS"])
    try:
        result = CliRunner().invoke(app, list(args), env={"ROYALTY_DATABASE_URL": config.describe(), **(env or {})})
    finally:
        console._width = width_before
        if ledger.cache_info().currsize:
            ledger().close()
        ledger.cache_clear()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["royalty", *args], result.exit_code, result.stdout, result.stderr)
