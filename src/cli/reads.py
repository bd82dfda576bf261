"""`royalty earnings PARTY` and `royalty stats [ISRC|UPC]`: live read models, as text, JSON or charts."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from cli.context import ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.application import NotFound
from ledger.domain.money import format_micros
from ledger.domain.period import Period, parse_utc
from projections import queries, rollups
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


EARNINGS_CHOICES = ("day", "week", "month", "year", "recording", "release", "territory", "kind")


def _utc(text: str | None, name: str, as_json: bool) -> datetime | None:
    if not text:
        return None
    try:
        return parse_utc(text, name)
    except ValueError as exc:
        fail(str(exc), as_json)


def earnings(
    party: str = typer.Argument(
        ..., help="Party key (or an account: platform, coop-fund, escrow:…, suspense:…, pool:…, tax:…)."
    ),
    by: str = typer.Option("day", "--by", help=" | ".join(EARNINGS_CHOICES)),
    period: str = typer.Option(None, "--period", help="Only this month, YYYY-MM."),
    isrc: str = typer.Option(None, "--isrc", help="Only this recording."),
    territory: str = typer.Option(None, "--territory", help="Only this territory."),
    top: int = typer.Option(None, "--top", min=1, help="Only the N largest (by recording, release, …)."),
    chart: bool = CHART_OPTION,
    png: Path = PNG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """What a party has earned up to the projector's position, and its live balance.

    Earnings are kept per day (finer buckets are refused). `--by source` is not offered: the
    source of a play is not part of the allocation key, so earnings have no exact split by it
    (`royalty stats --group source` shows plays and gross by source)."""
    if by not in EARNINGS_CHOICES:
        fail(f"earnings by {by!r}: expected one of {', '.join(EARNINGS_CHOICES)}", as_json)
    key = rollups.party_of_account(party)
    if key is not None:
        try:
            ledger().require_parties([key])
        except NotFound as exc:
            fail(str(exc), as_json)
    db = _view()
    try:
        start, end = (None, None)
        if period:
            p = Period.parse(period)
            start, end = p.start, p.end
        timed = by in rollups.TIME_BUCKETS
        found = rollups.earnings(
            db,
            party,
            by=by if timed else "total",
            group=None if timed else by,
            start=start,
            end=end,
            isrcs=[isrc.upper()] if isrc else None,
            territory=territory.upper() if territory else None,
            top=top,
        )
        lines = [
            {
                "currency": line["currency"],
                by: line["bucket"] if timed else line["key"],
                "amount_micros": line["amount_micros"],
            }
            | ({} if timed or line["label"] == line["key"] else {"title": line["label"]})
            for line in found["lines"]
        ]
        doc: dict[str, Any] = {
            "account": found["account"],
            "by": by,
            "period": period,
            "as_of": found["as_of"],
            "lines": lines,
            "totals_micros": found["totals_micros"],
        }
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
            titled = any("title" in line for line in doc["lines"])
            console.print(
                table(
                    f"earnings by {by}",
                    [by, *(["title"] if titled else []), "currency", "amount"],
                    [
                        (
                            line[by],
                            *([line.get("title", "")] if titled else []),
                            line["currency"],
                            format_micros(line["amount_micros"]),
                        )
                        for line in doc["lines"]
                    ],
                )
            )
        else:
            console.print("no earnings yet in this selection")
        if "png" in doc:
            console.print(f"plot written to {doc['png']}")

    report(doc, as_json, render)


def _stats_subject(
    db: ViewDB, subject: str | None, party: str | None, artist: str | None
) -> tuple[dict[str, Any], list[str] | None, str]:
    """What to count: (what the document says it is, the recordings or None for all, a title)."""
    if sum(x is not None for x in (subject, party, artist)) > 1:
        raise ValueError("give one of: an ISRC or UPC, --party, --artist")
    if subject:
        kind, isrcs, title = rollups.resolve_subject(db, subject)
        key = "isrc" if kind == "recording" else "upc"
        return {key: subject.strip().upper(), "title": title}, isrcs, subject.strip().upper()
    if party:
        if not db.execute("SELECT 1 FROM cat_parties WHERE party_key = ?", [party]):
            raise rollups.UnknownSubject(f"unknown party: {party}")
        return {"party": party}, queries.party_catalogue(db, party), party
    if artist:
        return {"artist": artist}, rollups.artist_recordings(db, artist), artist
    return {}, None, "all recordings"


def stats(
    subject: str = typer.Argument(None, help="A recording's ISRC or a release's UPC (omit for all)."),
    by: str = typer.Option("day", "--by", help=" | ".join(rollups.TIME_BUCKETS)),
    group: str = typer.Option(None, "--group", help=" | ".join(rollups.STATS_GROUPS)),
    top: int = typer.Option(None, "--top", min=1, help="Only the N groups with the most plays."),
    party: str = typer.Option(None, "--party", help="Only recordings this party is part of."),
    artist: str = typer.Option(None, "--artist", help="Only recordings with this display artist."),
    start: str = typer.Option(None, "--start", help="From this UTC instant (ISO 8601)."),
    end: str = typer.Option(None, "--end", help="Until this UTC instant (exclusive)."),
    territory: str = typer.Option(None, "--territory", help="Only this territory."),
    source: str = typer.Option(None, "--source", help="Only plays reported by this source."),
    chart: bool = CHART_OPTION,
    png: Path = PNG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Plays, counted plays and revenue per minute, hour, day, week, month or year — of a
    recording, a release, a party's catalogue, an artist or everything — optionally grouped by
    recording, release, artist, territory or source and ranked (--top)."""
    db = _view()
    try:
        what, isrcs, name = _stats_subject(db, subject, party, artist)
        doc = what | rollups.stats(
            db,
            by=by,
            group=group,
            isrcs=isrcs,
            territory=territory.upper() if territory else None,
            source=source,
            start=_utc(start, "start", as_json),
            end=_utc(end, "end", as_json),
            top=top,
        )
    except (ValueError, LookupError) as exc:
        # A KeyError's str() is its repr (quoted); its message is the argument, which may itself
        # begin or end with a quote ("'XX1' is neither an ISRC …"): read the argument, not str().
        fail(exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], str) else str(exc), as_json)
    finally:
        db.close()
    plays: dict[str, int] = {}
    for point in doc["series"]:
        plays[point["bucket"]] = plays.get(point["bucket"], 0) + point["plays"]
    cut = {"minute": slice(5, 16), "hour": slice(5, 13), "day": slice(0, 10), "week": slice(0, 10)}.get(by, slice(0, 7))
    labels = [bucket[cut].replace("T", " ") for bucket in plays]
    _pictures(doc, f"{name}: plays per {by}", labels, list(plays.values()), chart, png, "plays", False, as_json)

    def render() -> None:
        console.print(f"[bold]{name}[/] as of position {doc['as_of']}: {doc['total_plays']:,} plays")
        if group:
            console.print(
                table(
                    f"top {group}s" if top else f"by {group}",
                    [group, "title", "plays", "counted", "gross"],
                    [
                        (
                            r["key"],
                            r["label"] if r["label"] != r["key"] else "",
                            r["plays"],
                            r["counted_plays"],
                            ", ".join(f"{format_micros(v)} {c}" for c, v in sorted(r["gross_micros"].items())),
                        )
                        for r in doc["ranking"]
                    ],
                )
            )
        console.print(
            table(
                f"per {by}",
                [by, *([group] if group else []), "plays", "counted", "units", "gross", "currency"],
                [
                    (
                        p["bucket"],
                        *([p["key"]] if group else []),
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
