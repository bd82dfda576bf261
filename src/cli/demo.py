"""`royalty demo`: run the main job end to end on the configured store (SQLite by default)."""

from __future__ import annotations

import typer

from cli import demo_catalogue
from cli.context import actor, ledger, store_config
from cli.output import JSON_OPTION, console, report, table
from ledger.audit import record_checkpoint, verify_chain
from ledger.domain.ids import party_id
from ledger.domain.period import Period
from ledger.store.migrate import apply_migrations


def demo(as_json: bool = JSON_OPTION) -> None:
    """Build a realistic catalogue and a month of rights events, then verify the log."""
    config = store_config()
    apply_migrations(config)  # harmless when `royalty init` already ran
    app = ledger()
    period = Period.containing(app.clock()).previous()
    doc: dict[str, object] = {"store": config.describe(), "period": str(period)}
    if party_id("coop") in app.repository:
        doc["catalogue"] = "already present: the demo was run on this store before"
        console.print("[yellow]demo catalogue already present[/] — skipping the build", highlight=False) if not as_json else None
    else:
        built = demo_catalogue.build(app, period)
        doc["catalogue"] = {
            "parties": 1 + 3 + 2 + 2 + len(built.artists) + 5,
            "releases": len(built.releases), "recordings": len(built.recordings),
            "works": len(built.works), "rights_events": built.events,
        }
        if not as_json:
            console.print(table(f"demo catalogue on {config.describe()}", ["what", "count"], [
                ("parties", doc["catalogue"]["parties"]), ("releases", len(built.releases)),  # type: ignore[index]
                ("recordings", len(built.recordings)), ("works", len(built.works))]))
            for line in built.events:
                console.print(f"  • {line}")
    checkpoint = record_checkpoint(app, actor())
    chain = verify_chain(app)
    doc["audit"] = chain.as_dict()
    doc["head_position"] = app.head_position()
    report(doc, as_json, lambda: console.print(
        f"log head at position {app.head_position()}; hash chain "
        + ("[green]verified[/]" if chain.ok else "[red]BROKEN[/]")
        + (f", checkpoint up to {checkpoint.upto_position}" if checkpoint else "")))
    if not chain.ok:
        raise typer.Exit(1)
