"""`royalty project`: run the projector (once or following), rebuild read models, report lag."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import typer

from cli.context import ledger
from cli.output import JSON_OPTION, console, fail, report, table
from projections import queries
from projections.db import ViewDB
from projections.projector import DEFAULT_BATCH, MODELS, Projector
from projections.rebuild import rebuild as rebuild_models

app = typer.Typer(help="The read side: fold the log into read models, exactly once.")


@app.callback(invoke_without_command=True)
def project(
    ctx: typer.Context,
    follow: bool = typer.Option(False, "--follow", help="Keep following new events."),
    batch_size: int = typer.Option(DEFAULT_BATCH, "--batch-size", min=1),
    as_json: bool = JSON_OPTION,
) -> None:
    """Fold the log up to its head (and with --follow, keep following it)."""
    if ctx.invoked_subcommand is not None:
        return
    db = ViewDB(ledger().config)
    projector = Projector(ledger(), db, batch_size=batch_size)
    started = time.perf_counter()
    folded = projector.catch_up()
    if follow:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        if not as_json:
            console.print(f"caught up ({folded:,} positions); following — Ctrl-C to stop")
        try:
            projector.follow(stop)
        except KeyboardInterrupt:
            stop.set()
    doc: dict[str, Any] = {
        "folded_positions": folded,
        "seconds": round(time.perf_counter() - started, 3),
        **queries.lag(ledger(), db),
        "failures": queries.fold_failures(ledger(), db, limit=FAILURES_SHOWN),
    }
    db.close()

    def render() -> None:
        console.print(
            f"projected {folded:,} positions in {doc['seconds']} s; head {doc['head']:,}, behind {doc['behind']:,}"
        )
        _print_failures(doc["failed_events"], doc["failures"])

    report(doc, as_json, render)


FAILURES_SHOWN = 100


def _print_failures(count: int, failures: list[dict[str, Any]]) -> None:
    if not count:
        return
    shown = f" (latest {len(failures)})" if len(failures) < count else ""
    console.print(
        table(
            f"{count:,} event(s) a read model could not fold, skipped by that model{shown}",
            ["position", "model", "topic", "error"],
            [(f["position"], f["model"], f["topic"], f["error"]) for f in failures],
        )
    )


@app.command("failures")
def failures(as_json: bool = JSON_OPTION) -> None:
    """Every poison event: the position, the read model that skipped it and its error."""
    db = ViewDB(ledger().config)
    try:
        found = queries.fold_failures(ledger(), db)
    finally:
        db.close()

    def render() -> None:
        _print_failures(len(found), found)
        if not found:
            console.print("every event was folded by every read model")

    report({"failed_events": len(found), "failures": found}, as_json, render)


@app.command("rebuild")
def rebuild(
    model: str = typer.Argument(None, help=f"One of {', '.join(MODELS)}; all when omitted."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Refold a read model from position 0 into fresh tables, then swap them in."""
    if model is not None and model not in MODELS:
        fail(f"unknown read model {model!r}; expected one of {', '.join(MODELS)}", as_json)
    db = ViewDB(ledger().config)
    started = time.perf_counter()
    try:
        done = rebuild_models(ledger(), [model] if model else [], db=db)
    finally:
        db.close()
    doc = {"rebuilt": done, "seconds": round(time.perf_counter() - started, 3)}
    report(doc, as_json, lambda: console.print(table("rebuilt", ["model", "position"], sorted(done.items()))))


@app.command("lag")
def lag(as_json: bool = JSON_OPTION) -> None:
    """How far each read model is behind the head of the log (positions and seconds)."""
    db = ViewDB(ledger().config)
    try:
        doc = queries.lag(ledger(), db)
    finally:
        db.close()
    seconds = doc["seconds_behind"]
    report(
        doc,
        as_json,
        lambda: console.print(
            table(
                f"head {doc['head']:,}; behind {doc['behind']:,} positions"
                + (f", {seconds:.1f} s" if seconds is not None else ""),
                ["model", "position"],
                sorted(doc["positions"].items()),
            )
        ),
    )
