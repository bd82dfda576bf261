"""`royalty reports`: sales reports from other services — import, mappings, matching queue, links, rates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import actor, ledger, store_config
from cli.output import JSON_OPTION, console, fail, report, table
from cli.reports_tax import remit_tax, tax_held_command
from ledger.base import NotFound
from ledger.domain.money import format_micros
from ledger.domain.party import DomainError
from ledger.domain.period import InvalidTime, parse_utc
from ledger.domain.shares import InvalidShares, format_ppm, percent_to_ppm
from ledger.domain.text import InvalidText
from ledger.reports.commands import (
    current_mapping,
    get_source,
    link_identifier,
    rate_versions,
    set_mapping,
    set_rates,
    set_withholding,
    withholding_versions,
)
from ledger.reports.importer import UnreadableReport, import_report
from ledger.reports.queries import list_quarantine, list_reports
from ledger.royalties import read_rights_history
from projections.statements.reports_queue import matching_queue
from projections.statements.tax_remittance import over_remitted, over_remitted_text

app = typer.Typer(
    help="Sales reports from other services (DSR, store CSVs): import, match, convert.", no_args_is_help=True
)
mapping_app = typer.Typer(help="A source's versioned column mapping.", no_args_is_help=True)
rates_app = typer.Typer(help="The configured exchange-rate source (versioned).", no_args_is_help=True)
app.add_typer(mapping_app, name="mapping")
app.add_typer(rates_app, name="rates")

_ERRORS = (DomainError, InvalidText, UnreadableReport, InvalidTime, ValueError)
MAPPING_FILE = typer.Option(None, "--file", help="The mapping as a JSON file.")
RATES = typer.Option(..., "--rate", help="FROM/TO=RATE, e.g. USD/EUR=0.92 (exact decimal).")
SOURCE = typer.Option(..., "--source", help="The service the report comes from (its mapping must be set).")


def _money(totals: dict[str, int]) -> str:
    return ", ".join(f"{format_micros(v)} {c}" for c, v in sorted(totals.items()))


@app.command("import")
def import_command(
    file: Annotated[
        Path, typer.Argument(help="A DSR flat file, or a CSV/TSV or workbook (xlsx, xls, ods) read with its mapping.")
    ],
    source: str = SOURCE,
    period: str = typer.Option(None, "--period", help="Usage period YYYY-MM for lines that state none."),
    rate: str = typer.Option(None, "--rate", help="The exchange rate the report states, for lines without one."),
    supersedes: str = typer.Option(None, "--supersedes", help="Id of the earlier report this one corrects."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import one report: one SalesReport event with its lines, in one transaction (re-import: no-op)."""
    if not file.is_file():
        fail(f"{file}: no such file", as_json)
    app = ledger()
    try:
        result = import_report(
            app,
            file.read_bytes(),
            source=source,
            actor=actor(),
            file_name=file.name,
            period=period,
            stated_rate=rate,
            supersedes=supersedes,
        )
    except _ERRORS as exc:
        fail(str(exc), as_json)
    doc = result.to_dict()
    over = over_remitted(app) if supersedes and not result.already_imported else []
    doc["tax_over_remitted"] = [t.as_dict() for t in over]

    def render() -> None:
        if result.already_imported:
            console.print(f"report {result.report_id} was imported already: nothing changed")
            return
        console.print(
            f"[bold]report {result.report_id}[/] ({source}, {result.period}) at position {result.position}: "
            f"{result.lines:,} lines, {doc['quarantined_total']:,} quarantined in {result.seconds:.2f} s"
        )
        rows = [
            (c, format_micros(t["gross"]), format_micros(t["service_fee"]), format_micros(t["net"]))
            for c, t in result.totals.items()
        ]
        console.print(table("Totals", ["currency", "gross", "service fee", "net"], rows))
        if result.conversions:
            conv = [
                (
                    f"{c['currency']}→{c['target_currency']}",
                    c["rate"],
                    c["origin"],
                    format_micros(c["net_micros"]),
                    format_micros(c["converted_micros"]),
                )
                for c in result.conversions
            ]
            console.print(table("Conversions", ["pair", "rate", "from", "net", "converted"], conv))
        if result.quarantined:
            console.print(table("Quarantined by reason", ["reason", "lines"], sorted(result.quarantined.items())))
        for account in over:
            console.print(f"[yellow]over-remitted:[/] {over_remitted_text(account)}")

    report(doc, as_json, render)


@app.command("list")
def list_command(as_json: bool = JSON_OPTION) -> None:
    """Every imported report with its totals, and which one superseded it."""
    reports = list_reports(ledger())
    rows = [
        (
            r["report_id"],
            r["position"],
            r["source"],
            r["period"],
            r["lines"],
            sum(r["quarantined"].values()),
            _money({c: t["net"] for c, t in r["totals_micros"].items()}),
            r["superseded_by"] or "",
        )
        for r in reports
    ]
    report(
        {"ok": True, "reports": reports},
        as_json,
        lambda: console.print(
            table(
                "Reports", ["id", "position", "source", "period", "lines", "quarantined", "net", "superseded by"], rows
            )
        ),
    )


@app.command("quarantine")
def quarantine_command(
    source: str = typer.Option(None, "--source", help="Only this source's lines."), as_json: bool = JSON_OPTION
) -> None:
    """Report lines that could not be accepted, with their reasons and raw values."""
    try:
        rows = list_quarantine(ledger(), source)
    except NotFound as exc:  # an unknown source is an error, never an empty table
        fail(str(exc), as_json)
    report(
        {"ok": True, "count": len(rows), "lines": rows},
        as_json,
        lambda: console.print(
            table(
                f"Quarantined report lines: {len(rows)}",
                ["report", "line", "source", "reason", "detail"],
                [(r["report_id"][:8], r["line_no"], r["source"], r["reason"], r["detail"]) for r in rows],
            )
        ),
    )


@app.command("queue")
def queue_command(
    source: str = typer.Option(None, "--source", help="Only this source's lines."), as_json: bool = JSON_OPTION
) -> None:
    """The matching queue: lines nothing matches (in suspense), with the reason and title suggestions."""
    app_ = ledger()
    try:
        if source is not None:
            get_source(app_, source)  # an unknown source is an error, never an empty queue
    except NotFound as exc:
        fail(str(exc), as_json)
    head = app_.head_position()
    entries = matching_queue(store_config(), read_rights_history(app_, head), head, source)
    rows = [
        (
            e["source"],
            f"{e['link_kind']}:{e['link_value']}",
            e["title"] or "",
            e["artist"] or "",
            e["lines"],
            _money(e["amount_micros"]),
            e["reason"],
            ", ".join(e["suggestions"]),
        )
        for e in entries
    ]
    report(
        {"ok": True, "head_position": head, "count": len(entries), "entries": entries},
        as_json,
        lambda: console.print(
            table(
                f"Matching queue: {len(entries)}",
                [
                    "source",
                    "identifier",
                    "title",
                    "artist",
                    "lines",
                    "amount",
                    "reason",
                    "suggested (confirm with link)",
                ],
                rows,
            )
        ),
    )


@app.command("link")
def link_command(
    source: str = SOURCE,
    kind: str = typer.Option(..., "--kind", help="isrc, platform_id, proprietary_id, iswc, upc or grid."),
    identifier: str = typer.Option(..., "--id", help="The identifier as the queue shows it."),
    isrc: str = typer.Option(..., "--isrc", help="The recording it names."),
    note: str = typer.Option("", "--note", help="Why (recorded)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Link a source's identifier to a recording, once: remembered for every report of the source."""
    try:
        recorded = link_identifier(ledger(), source, kind, identifier, isrc, note, actor())
    except (*_ERRORS, NotFound) as exc:
        fail(str(exc), as_json)
    doc = {"ok": True, "recorded": recorded, "head_position": ledger().head_position()}
    report(
        doc,
        as_json,
        lambda: console.print(f"{kind} {identifier} of {source} → {isrc}" + ("" if recorded else " (already linked)")),
    )


@mapping_app.command("set")
def mapping_set(
    source: str = SOURCE,
    mapping_file: Path = MAPPING_FILE,
    mapping_json: str = typer.Option(None, "--mapping", help="The mapping as JSON text."),
    reason: str = typer.Option("", "--reason", help="Why it changes (recorded)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a new version of a source's column mapping (docs/reports.md says what it holds)."""
    try:
        if (mapping_file is None) == (mapping_json is None):
            raise DomainError("give the mapping with exactly one of --file or --mapping")
        text = mapping_file.read_text(encoding="utf-8") if mapping_file is not None else mapping_json
        mapping: Any = json.loads(text)
        version = set_mapping(ledger(), source, mapping, reason, actor())
    except (*_ERRORS, OSError) as exc:
        fail(str(exc), as_json)
    report(
        {"ok": True, "source": source, "version": version},
        as_json,
        lambda: console.print(f"{source}: column mapping version {version}"),
    )


@mapping_app.command("show")
def mapping_show(source: str = SOURCE, as_json: bool = JSON_OPTION) -> None:
    """A source's current column mapping."""
    try:
        version, mapping = current_mapping(ledger(), source)
    except DomainError as exc:
        fail(str(exc), as_json)
    report(
        {"ok": True, "source": source, "version": version, "mapping": mapping},
        as_json,
        lambda: console.print_json(json.dumps({"version": version, **mapping})),
    )


@rates_app.command("set")
def rates_set(
    rates: list[str] = RATES,
    effective_from: str = typer.Option(..., "--effective-from", help="UTC instant the rates apply from."),
    origin: str = typer.Option(..., "--origin", help="Where the rates come from (e.g. ECB reference rates)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a version of the configured rate source."""
    try:
        parsed = {}
        for item in rates:
            pair, sep, value = item.partition("=")
            if not sep:
                raise DomainError(f"rate {item!r}: expected FROM/TO=RATE")
            parsed[pair.strip()] = value.strip()
        version = set_rates(ledger(), parsed, parse_utc(effective_from), origin, actor())
    except _ERRORS as exc:
        fail(str(exc), as_json)
    report({"ok": True, "version": version}, as_json, lambda: console.print(f"exchange rates version {version}"))


@rates_app.command("show")
def rates_show(as_json: bool = JSON_OPTION) -> None:
    """Every version of the configured rate source."""
    versions = rate_versions(ledger())
    rows = [
        (v["version"], v["effective_from"].isoformat(), pair, rate, v["source"])
        for v in versions
        for pair, rate in v["rates"].items()
    ]
    report(
        {"ok": True, "versions": versions},
        as_json,
        lambda: console.print(table("exchange rates", ["version", "effective from", "pair", "rate", "origin"], rows)),
    )


withholding_app = typer.Typer(help="Withholding tax on report income, per payee and territory.", no_args_is_help=True)
app.add_typer(withholding_app, name="withholding")
WITHHOLDING = typer.Option(..., "--rate", help="PARTY/TERRITORY=RATE, e.g. ann/US=30% (or ppm).")


@withholding_app.command("set")
def withholding_set(
    rates: list[str] = WITHHOLDING,
    effective_from: str = typer.Option(..., "--effective-from", help="UTC instant the rates apply from."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record the withholding table (every taxed payee and territory; the rest are not taxed)."""
    try:
        parsed: dict[str, dict[str, int]] = {}
        for item in rates:
            key, sep, value = item.partition("=")
            party, slash, territory = key.partition("/")
            if not sep or not slash:
                raise DomainError(f"rate {item!r}: expected PARTY/TERRITORY=RATE")
            ppm = percent_to_ppm(value) if value.strip().endswith("%") else int(value)
            parsed.setdefault(party.strip(), {})[territory.strip()] = ppm
        version = set_withholding(ledger(), parsed, parse_utc(effective_from), reason, actor())
    except (*_ERRORS, NotFound, InvalidShares) as exc:
        fail(str(exc), as_json)
    report({"ok": True, "version": version}, as_json, lambda: console.print(f"withholding tax version {version}"))


@withholding_app.command("show")
def withholding_show(as_json: bool = JSON_OPTION) -> None:
    """Every version of the withholding tax table."""
    versions = withholding_versions(ledger())
    rows = [
        (v["version"], v["effective_from"].isoformat(), party, territory, format_ppm(ppm), v["reason"])
        for v in versions
        for party, by in v["rates"].items()
        for territory, ppm in by.items()
    ]
    report(
        {"ok": True, "versions": versions},
        as_json,
        lambda: console.print(
            table("withholding tax", ["version", "effective from", "payee", "territory", "rate", "reason"], rows)
        ),
    )


app.command("remit-tax")(remit_tax)
app.command("tax-held")(tax_held_command)
