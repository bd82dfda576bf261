"""`royalty catalogue search KIND`: releases, recordings, works or parties by text, artist,
credit and role, label, identifier and availability, a page at a time (--cursor)."""

from __future__ import annotations

from typing import Any

import typer

from cli.context import ledger
from cli.output import JSON_OPTION, console, fail, report, table
from projections import browse
from projections.db import ViewDB

_COLUMNS = {
    "releases": ("upc", "title", "label_name", "release_date", "status"),
    "recordings": ("isrc", "title", "display_artist", "credits", "releases"),
    "works": ("work_key", "title", "iswc", "writers"),
    "parties": ("party_key", "name", "kinds", "credits"),
}


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(
            f"{v.get('name') or v.get('party')} ({v.get('role')})" if isinstance(v, dict) else str(v) for v in value
        )
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return "" if value is None else str(value)


def search(
    kind: str = typer.Argument(..., help="releases | recordings | works | parties"),
    text: str = typer.Option(None, "--text", "-q", help="Title, name or identifier contains this."),
    artist: str = typer.Option(None, "--artist", help="The display artist contains this."),
    credit: str = typer.Option(None, "--credit", help="Credited party (key, or part of its name)."),
    role: str = typer.Option(None, "--role", help="Credit role: composer, lyricist, producer, mixer, …"),
    label: str = typer.Option(None, "--label", help="Label (key, or part of its name)."),
    identifier: str = typer.Option(None, "--id", help="An ISRC, UPC, ISWC or party identifier."),
    available_in: str = typer.Option(None, "--available-in", help="Only what is available now in this territory."),
    party: str = typer.Option(None, "--party", help="Only what this party is part of (its scope)."),
    cursor: str = typer.Option(None, "--cursor", help="The next_cursor of the previous page."),
    limit: int = typer.Option(50, "--limit", help=f"Items per page (1–{browse.MAX_LIMIT})."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search the catalogue view (as of the projector's position); --json for scripts."""
    app = ledger()
    db = ViewDB(app.config)
    try:
        if party is not None and not db.execute("SELECT 1 FROM cat_parties WHERE party_key = ?", [party]):
            fail(f"unknown party: {party}", as_json)
        filters = browse.Filters(text, artist, credit, role, label, identifier, available_in)
        scope = frozenset({party}) if party else None
        doc = browse.search(db, kind, filters, scope=scope, cursor=cursor, limit=limit, at=app.clock())
    except ValueError as exc:
        fail(str(exc), as_json)
    finally:
        db.close()

    def render() -> None:
        columns = _COLUMNS[kind]
        console.print(
            table(
                f"{kind} (as of position {doc['as_of']})",
                columns,
                [[_cell(item.get(c)) for c in columns] for item in doc["items"]],
            )
        )
        if not doc["items"]:
            console.print(f"no {kind} match")
        if doc["next_cursor"]:
            console.print(f"more: --cursor {doc['next_cursor']}")

    report(doc, as_json, render)
