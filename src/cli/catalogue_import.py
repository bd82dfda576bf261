"""`royalty catalogue import PATH…`: DDEX ERN and catalogue CSV deliveries, with a progress bar."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, emit_json, fail, table
from ledger.ingest.importer import ImportSummary, delivery_files, import_paths

PATHS = typer.Argument(..., help="ERN (.xml) or CSV files, or folders holding them.")
REPORT_DIR = typer.Option(None, "--report-dir", help="Write import-report.json and .csv here.")


def import_command(
    paths: list[Path] = PATHS,
    report_dir: Path | None = REPORT_DIR,
    sender: str = typer.Option(None, "--sender", help="The party (key) delivering CSV files; needs a DPID."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import deliveries: each release whole or not at all; a report of what was rejected and why."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}", as_json)
    files = delivery_files(paths)
    if not files:
        fail("no .xml or .csv files found", as_json)
    app = ledger()
    if as_json:
        summary = import_paths(app, paths, actor(), csv_sender=sender, report_dir=report_dir)
        emit_json({**summary.to_dict(), "report_dir": str(report_dir) if report_dir else None})
    else:
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("", total=len(files))
            summary = import_paths(
                app,
                paths,
                actor(),
                csv_sender=sender,
                report_dir=report_dir,
                progress=lambda done, _total, name: bar.update(task, completed=done, description=Path(name).name),
            )
        _render(summary, report_dir)
    if not summary.ok:
        raise typer.Exit(1)


def _render(summary: ImportSummary, report_dir: Path | None) -> None:
    counts = summary.counts()
    console.print(
        table(
            f"{counts['files']} files imported",
            ["result", "count"],
            [
                ("accepted (new)", counts["accepted"]),
                ("updated", counts["updated"]),
                ("unchanged", counts["unchanged"]),
                ("rejected", counts["rejected"]),
                ("files refused", counts["files_refused"]),
                ("waiting in review", counts["in_review"]),
            ],
        )
    )
    rows = [(f.source, "", "message", error) for f in summary.files for error in f.report.message_errors]
    rejected = [i for i in summary.items if i.result == "rejected"]
    rows += [(i.source, i.upc, i.action, reason) for i in rejected for reason in i.reasons]
    if rows:
        console.print(table("rejected", ["file", "UPC", "what", "reason"], rows))
    if report_dir is not None:
        console.print(f"report: {report_dir / 'import-report.json'} and {report_dir / 'import-report.csv'}")
