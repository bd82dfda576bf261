"""One way to report: a rich table or text for people, one JSON document with --json for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, NoReturn
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of text.")


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, default=_default, indent=2, sort_keys=True) + "\n")


def report(document: Any, as_json: bool, render: Callable[[], None]) -> None:
    """Print `document` as JSON, or call `render` to show it to a person."""
    if as_json:
        emit_json(document)
    else:
        render()


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    t = Table(title=title, title_justify="left")
    for column in columns:
        t.add_column(column)
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    return t


def fail(message: str, as_json: bool = False, code: int = 1, **extra: Any) -> NoReturn:
    """A clear error on stderr (and as JSON on stdout for scripts), then a non-zero exit."""
    if as_json:
        emit_json({"ok": False, "error": message, **extra})
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)
    raise typer.Exit(code)
