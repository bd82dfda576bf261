"""`royalty usage`: ingest usage files, inspect and retry the quarantine, generate test usage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, err_console, fail, report, table
from ledger.domain.money import format_micros
from ledger.domain.party import DomainError
from ledger.domain.period import InvalidTime, Period
from ledger.usage.generator import GenerateOptions, generate_usage
from ledger.usage.ingest import DEFAULT_BATCH_SIZE, IngestSummary, ingest_files
from ledger.usage.listener import ListenerSecretMissing
from ledger.usage.quarantine import list_quarantine, retry_quarantine
from ledger.usage.readers import UnreadableFile, count_rows

app = typer.Typer(help="Plays and sales: ingest, quarantine, generate.", no_args_is_help=True)
quarantine_app = typer.Typer(help="Rows that could not be accepted, with their reasons.", no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")


def _render_summary(title: str, doc: dict[str, Any]) -> None:
    console.print(
        f"[bold]{title}[/]: {doc['rows']:,} rows in {doc['seconds']:.1f} s "
        f"({doc['rows_per_second']:,.0f} rows/s) — accepted {doc['accepted']:,} "
        f"({doc['lines']:,} lines), duplicates {doc['duplicates']:,}, "
        f"quarantined {doc['quarantined_total']:,}, batches {doc['batches']}, "
        f"new stream2own owners {doc['owners_acquired']:,}"
    )
    if doc["quarantined"]:
        console.print(
            table("Quarantined by reason", ["reason", "rows"], [(k, f"{v:,}") for k, v in doc["quarantined"].items()])
        )
    if doc["revenue_micros"]:
        console.print(
            table(
                "Revenue accepted",
                ["currency", "gross"],
                [(c, format_micros(v)) for c, v in doc["revenue_micros"].items()],
            )
        )


@app.command("ingest")
def ingest(
    files: Annotated[list[Path], typer.Argument(help="CSV, NDJSON or Parquet files, in order.")],
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", min=1, max=1_000_000),
    source: str = typer.Option("player", "--source", help="Source of rows that name none."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Ingest usage files: one UsageBatch event per batch, rows written atomically with it."""
    totals = [count_rows(f) if f.is_file() else None for f in files]
    total = None if None in totals else sum(t or 0 for t in totals)
    progress = Progress(
        TextColumn("[bold]usage ingest"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TextColumn("{task.fields[rate]:,.0f} rows/s"),
        TimeElapsedColumn(),
        console=err_console,
        transient=as_json,
    )
    try:
        with progress:
            task = progress.add_task("ingest", total=total, rate=0.0)

            def show(summary: IngestSummary) -> None:
                progress.update(task, completed=summary.rows, rate=summary.rows_per_second)

            summary = ingest_files(ledger(), files, actor=actor(), source=source, batch_size=batch_size, progress=show)
    except (UnreadableFile, ListenerSecretMissing, DomainError) as exc:
        fail(str(exc), as_json)
    doc = {"ok": True, **summary.to_dict()}
    report(doc, as_json, lambda: _render_summary("usage ingest", doc))


@quarantine_app.command("list")
def quarantine_list(
    include_resolved: bool = typer.Option(False, "--all", help="Include resolved rows."),
    limit: int = typer.Option(50, "--limit", help="Rows to show as text (JSON lists all)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Quarantined rows with their reasons, oldest first."""
    rows = list_quarantine(ledger(), include_resolved=include_resolved)
    by_reason: dict[str, int] = {}
    for r in rows:
        by_reason[r.reason] = by_reason.get(r.reason, 0) + 1
    doc = {
        "ok": True,
        "count": len(rows),
        "by_reason": dict(sorted(by_reason.items())),
        "rows": [r.to_dict() for r in rows],
    }

    def render() -> None:
        console.print(
            table(
                f"Quarantine: {len(rows):,} row(s)",
                ["position", "source", "id", "reason", "detail", "resolved"],
                [(r.position, r.source, r.usage_id, r.reason, r.detail, r.resolution or "") for r in rows[:limit]],
            )
        )
        if len(rows) > limit:
            console.print(f"… {len(rows) - limit:,} more (--limit, or --json for all)")

    report(doc, as_json, render)


@quarantine_app.command("retry")
def quarantine_retry(as_json: bool = JSON_OPTION) -> None:
    """Re-submit unresolved quarantined rows (e.g. once a missing release is delivered)."""
    try:
        summary = retry_quarantine(ledger(), actor=actor())
    except ListenerSecretMissing as exc:
        fail(str(exc), as_json)
    doc = {"ok": True, **summary.to_dict()}
    report(doc, as_json, lambda: _render_summary("quarantine retry", doc))


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", help="Output file: .parquet, .csv or .ndjson.")],
    plays: int = typer.Option(..., "--plays", min=1, help="Usage rows to generate."),
    month: str = typer.Option(..., "--month", help="The month the plays fall in, YYYY-MM (UTC)."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same catalogue → same file."),
    currency: str = typer.Option("EUR", "--currency", help="Currency of sales and tips."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write realistic usage for the current catalogue (with duplicates, late and bad rows)."""
    try:
        opts = GenerateOptions(plays=plays, period=Period.parse(month), seed=seed, currency=currency)
        doc = {"ok": True, **generate_usage(ledger(), opts, out)}
    except (InvalidTime, DomainError, UnreadableFile) as exc:
        fail(str(exc), as_json)
    report(
        doc,
        as_json,
        lambda: console.print(
            f"wrote {doc['rows']:,} rows ({doc['extra_rows']:,} duplicates, late and bad rows "
            f"included) for {doc['period']} to {doc['out']}"
        ),
    )
