"""`royalty earnings PARTY` and `royalty stats ISRC`: live read models, as text, JSON or charts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from cli.context import ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.domain.money import format_micros
from projections import queries
from projections.charts import png_chart, terminal_chart
from projections.db import ViewDB

CHART_OPTION = typer.Option(False, "--chart", help="Draw the series in the terminal.")
PNG_OPTION = typer.Option(None, "--png", help="Write the series as a PNG plot to this file.")


def _view() -> ViewDB:
    return ViewDB(ledger().config)


def _pictures(
    doc: dict[str, Any],
    title: str,
    labels: list[str],
    values: list[int],
    chart: bool,
    png: Path | None,
    ylabel: str,
    money: bool,
    as_json: bool,
) -> None:
    if png is not None:
        doc["png"] = str(png_chart(png, title, labels, values, ylabel=ylabel, money=money))
    if chart and values and not as_json:  # --json prints one JSON document, nothing else
        text = terminal_chart(title, labels, values, money=money, color=sys.stdout.isatty())
        sys.stdout.write(text + "\n")


def earnings(
    party: str = typer.Argument(..., help="Party key (or an account: platform, escrow:…)."),
    by: str = typer.Option("day", "--by", help="day | recording | territory | kind"),
    period: str = typer.Option(None, "--period", help="Only this month, YYYY-MM."),
    isrc: str = typer.Option(None, "--isrc", help="Only this recording."),
    territory: str = typer.Option(None, "--territory", help="Only this territory."),
    chart: bool = CHART_OPTION,
    png: Path = PNG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """What a party has earned up to the projector's position, and its live balance."""
    db = _view()
    try:
        doc = queries.earnings(db, party, by=by, period=period, isrc=isrc, territory=territory)
        doc["balance"] = queries.balance(ledger(), db, party)["balances"]
    except ValueError as exc:
        fail(str(exc), as_json)
    finally:
        db.close()
    currencies = sorted(doc["totals_micros"])
    series = [line for line in doc["lines"] if currencies and line["currency"] == currencies[0]]
    labels = [str(line[by])[:10] for line in series]
    values = [line["amount_micros"] for line in series]
    title = f"{party}: earnings by {by} ({currencies[0] if currencies else 'none'})"
    _pictures(doc, title, labels, values, chart, png, currencies[0] if currencies else "", True, as_json)

    def render() -> None:
        console.print(f"[bold]{doc['account']}[/] as of position {doc['as_of']}")
        console.print(
            table(
                "balance",
                ["currency", "earned", "paid", "balance"],
                [
                    (
                        b["currency"],
                        format_micros(b["earned_micros"]),
                        format_micros(b["paid_micros"]),
                        format_micros(b["balance_micros"]),
                    )
                    for b in doc["balance"]
                ],
            )
        )
        if doc["lines"]:
            console.print(
                table(
                    f"earnings by {by}",
                    [by, "currency", "amount"],
                    [(line[by], line["currency"], format_micros(line["amount_micros"])) for line in doc["lines"]],
                )
            )
        if "png" in doc:
            console.print(f"plot written to {doc['png']}")

    report(doc, as_json, render)


def stats(
    isrc: str = typer.Argument(..., help="The recording's ISRC."),
    by: str = typer.Option("day", "--by", help="minute | hour | day | month"),
    start: str = typer.Option(None, "--start", help="From this UTC instant (ISO 8601)."),
    end: str = typer.Option(None, "--end", help="Until this UTC instant (exclusive)."),
    territory: str = typer.Option(None, "--territory", help="Only this territory."),
    chart: bool = CHART_OPTION,
    png: Path = PNG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Plays, counted plays and revenue of a recording per minute, hour, day or month."""
    db = _view()
    try:
        doc = queries.stats(db, isrc.upper(), by=by, start=start, end=end, territory=territory)
    except ValueError as exc:
        fail(str(exc), as_json)
    finally:
        db.close()
    plays: dict[str, int] = {}
    for point in doc["series"]:
        plays[point["bucket"]] = plays.get(point["bucket"], 0) + point["plays"]
    cut = {"minute": slice(5, 16), "hour": slice(5, 13), "day": slice(0, 10)}.get(by, slice(0, 7))
    labels = [bucket[cut].replace("T", " ") for bucket in plays]
    _pictures(doc, f"{doc['isrc']}: plays per {by}", labels, list(plays.values()), chart, png, "plays", False, as_json)

    def render() -> None:
        console.print(f"[bold]{doc['isrc']}[/] as of position {doc['as_of']}: {doc['total_plays']:,} plays")
        console.print(
            table(
                f"per {by}",
                [by, "plays", "counted", "units", "gross", "currency"],
                [
                    (
                        p["bucket"],
                        p["plays"],
                        p["counted_plays"],
                        p["units"],
                        format_micros(p["gross_micros"]),
                        p["currency"],
                    )
                    for p in doc["series"]
                ],
            )
        )
        if "png" in doc:
            console.print(f"plot written to {doc['png']}")

    report(doc, as_json, render)
