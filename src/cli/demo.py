"""`royalty demo`: run the main job end to end on the configured store (SQLite by default).

The demo is a pipeline of steps, one module per area (`cli/demo_<area>.py`, each exposing
`run(app, period, as_json) -> dict`), run in order: catalogue, usage, pools, reports (a DSR
and a store CSV from other services), statements (close the month), projections, media. Each
step is idempotent, so the demo can be run twice on the same store.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import typer

from cli import demo_catalogue
from cli.context import actor, ledger, store_config
from cli.output import JSON_OPTION, console, emit_json, table
from ledger.application import RoyaltyLedger
from ledger.audit import record_checkpoint, verify_chain
from ledger.domain.ids import party_id
from ledger.domain.period import Period
from ledger.store.migrate import apply_migrations

# Later steps, in order; each module is `cli.demo_<name>` with run(app, period, as_json) -> dict.
STEPS = ["usage", "pools", "reports", "statements", "projections", "media", "dashboard"]


def _catalogue_step(app: RoyaltyLedger, period: Period, as_json: bool) -> dict[str, Any]:
    if party_id("coop") in app.repository:
        if not as_json:
            console.print("[yellow]demo catalogue already present[/] — skipping the build")
        return {"already_present": True}
    built = demo_catalogue.build(app, period)
    doc = {
        "parties": built.parties,
        "releases": len(built.releases),
        "recordings": len(built.recordings),
        "works": len(built.works),
        "rights_events": built.events,
    }
    if not as_json:
        console.print(
            table(
                "demo catalogue",
                ["what", "count"],
                [(k, doc[k]) for k in ("parties", "releases", "recordings", "works")],
            )
        )
        for line in built.events:
            console.print(f"  • {line}")
    return doc


def demo(as_json: bool = JSON_OPTION) -> None:
    """Build a realistic catalogue, a month of usage and rights events, close it, verify the log."""
    config = store_config()
    apply_migrations(config)  # harmless when `royalty init` already ran
    app = ledger()
    period = Period.containing(app.clock()).previous()
    doc: dict[str, Any] = {"store": config.describe(), "period": str(period)}
    if not as_json:
        console.print(f"[bold]royalty demo[/] on {config.describe()}, month {period}")
    doc["catalogue"] = _catalogue_step(app, period, as_json)
    for name in STEPS:
        try:
            step = import_module(f"cli.demo_{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"cli.demo_{name}":
                raise
            continue
        doc[name] = step.run(app, period, as_json)
    checkpoint = record_checkpoint(app, actor())
    chain = verify_chain(app)
    doc["audit"] = chain.as_dict()
    doc["head_position"] = app.head_position()
    if as_json:
        emit_json(doc)
    else:
        console.print(
            f"log head at position {app.head_position()}; hash chain "
            + ("[green]verified[/]" if chain.ok else "[red]BROKEN[/]")
            + (f", checkpoint up to {checkpoint.upto_position}" if checkpoint else "")
        )
    if not chain.ok:
        raise typer.Exit(1)
    if "dashboard" in doc and not as_json:
        from cli.demo_dashboard import print_address

        print_address()
