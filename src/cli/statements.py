"""`royalty statements`: close a month, show, replay and export statements."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cli.context import actor, ledger, store_config
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.application import NotFound, RoyaltyLedger
from ledger.domain.money import format_micros
from ledger.domain.party import DomainError
from ledger.domain.period import InvalidTime, Period
from ledger.usage.catalogue_cache import releases_carrying
from projections.queries import BARE_ACCOUNTS, account_name
from projections.statements.close import (
    close_period,
    compute_statements,
    engine_for,
    replay_period,
)
from projections.statements.display import position_time
from projections.statements.dsr import SECTIONS as DSR_SECTIONS
from projections.statements.dsr import DsrDetails, DsrParties, DsrRecording, DsrRelease
from projections.statements.export import FORMATS, export_period
from projections.statements.statement import SUMMARY_FIELDS, StatementEngine, build_statement, statement_hash
from projections.statements.usage import UsageReader

app = typer.Typer(help="Monthly statements: close, show, replay, export.", no_args_is_help=True)

ENGINES = ("store", "spark")
ENGINE_OPTION = typer.Option(
    "store",
    "--engine",
    help="Where the month's usage is summed: store (the database itself) or spark (Apache Spark over "
    "the usage archived as Parquet; needs the spark extra). Hashes are the same either way.",
)
ARCHIVE_OPTION = typer.Option(
    None,
    "--archive",
    help="--engine spark: the usage archive (a folder or a URI such as s3://bucket/usage; default "
    "ROYALTY_USAGE_ARCHIVE, else usage-archive beside the SQLite file, else ./var/usage-archive).",
)
MASTER_OPTION = typer.Option(
    None,
    "--spark-master",
    help="--engine spark: the Spark master (default ROYALTY_SPARK_MASTER, else local[*]; e.g. spark://host:7077).",
)


def _usage_reader(engine: str, archive: str | None, master: str | None, as_json: bool) -> UsageReader | None:
    if engine not in ENGINES:
        fail(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}", as_json)
    if engine == "store":
        if archive or master:
            fail("--archive and --spark-master go with --engine spark", as_json)
        return None
    from projections.statements.spark_engine import SparkUnavailable, SparkUsage, spark_session

    usage = SparkUsage(store_config(), archive, master)
    try:
        usage.archive.check()
        spark_session(master)  # fail here, clearly, when pyspark or Java is missing
    except (ValueError, SparkUnavailable) as exc:
        fail(str(exc), as_json)
    return usage


def _period(text: str, as_json: bool) -> Period:
    try:
        return Period.parse(text)
    except InvalidTime as exc:
        fail(str(exc), as_json)


def summary_rows(documents: dict[str, dict[str, Any]]) -> list[tuple[str, ...]]:
    return [
        (
            account,
            cur,
            *(format_micros(s[k]) for k in SUMMARY_FIELDS),
        )
        for account, doc in sorted(documents.items())
        for cur, s in doc["currencies"].items()
    ]


SUMMARY_COLUMNS = ["account", "currency", "opening", "earnings", "escrow rel.", "adjust.", "payouts", "closing"]


@app.command("close")
def close(
    period: str = typer.Argument(..., help="YYYY-MM"),
    force: bool = typer.Option(
        False, "--force", help="Close the month before it has ended (needs --reason); never out of order."
    ),
    reason: str = typer.Option("", help="Why a forced close is needed (recorded)."),
    engine: str = ENGINE_OPTION,
    archive: str = ARCHIVE_OPTION,
    spark_master: str = MASTER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Close the month: record PeriodClosed with every account's totals and statement hash.

    Months close once each, in order without a gap; a month below a later closed one is
    refused, with --force too (its money would be on no statement's balance)."""
    p = _period(period, as_json)
    usage = _usage_reader(engine, archive, spark_master, as_json)
    try:
        statements = close_period(ledger(), store_config(), p, actor(), force=force, reason=reason, usage=usage)
    except DomainError as exc:
        fail(str(exc), as_json)
    doc = {
        "ok": True,
        "engine": engine,
        "period": str(p),
        "as_of_position": statements.as_of,
        "hashes": statements.hashes,
        "totals": statements.totals,
    }
    report(
        doc,
        as_json,
        lambda: console.print(
            table(
                f"statements {p} closed at position {statements.as_of}",
                SUMMARY_COLUMNS,
                summary_rows(statements.documents),
            )
        ),
    )


def _require_account(
    app_: RoyaltyLedger, engine: StatementEngine, account: str, period: Period, position: int, as_json: bool
) -> None:
    """An unknown name is an error, never an empty statement: a party must be registered; any other
    account (escrow, suspense, a pool's, tax) must have something on the period's statements."""
    if account in BARE_ACCOUNTS:
        return
    if account.startswith("party:"):
        try:
            app_.get_party(account.removeprefix("party:"))
            return
        except NotFound:
            pass
    if account not in engine.accounts(period, position):
        kind = "party" if account.startswith("party:") else "account"
        name = account.removeprefix("party:")
        fail(
            f"unknown {kind}: {name} (no such party, and nothing on the {period} statements as of position {position})",
            as_json,
        )


@app.command("show")
def show(
    period: str = typer.Argument(..., help="YYYY-MM"),
    party: str = typer.Option(
        ..., "--party", help="Party key (or an account: platform, coop-fund, escrow:…, suspense:…, pool:…, tax:…)."
    ),
    as_of: int = typer.Option(None, "--as-of", help="Log position (default: the close, else head)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """One party's statement, as known at a position."""
    p, app_ = _period(period, as_json), ledger()
    engine = engine_for(app_, store_config())
    close_ = engine.history.closes.get(str(p))
    position = as_of if as_of is not None else (close_.as_of_position if close_ else engine.history.upto)
    account = account_name(party)
    _require_account(app_, engine, account, p, position, as_json)
    doc = build_statement(engine, account, p, position)
    doc["sha256"] = statement_hash({k: v for k, v in doc.items()})
    doc["recorded_sha256"] = close_.statement_hashes.get(account) if close_ else None

    def render() -> None:
        console.print(table(f"{account} {p} as of position {position}", SUMMARY_COLUMNS, summary_rows({account: doc})))
        for cur, s in doc["currencies"].items():
            rows = [
                (
                    section,
                    x.get("original_period", str(p)),
                    x["isrc"],
                    x.get("title", ""),
                    x["kind"],
                    x["territory"],
                    x["right"],
                    x.get("share_percent", ""),
                    x.get("split_version", ""),
                    x.get("units", ""),
                    format_micros(x["amount_micros"]),
                )
                for section in ("earnings", "escrow_releases", "adjustments")
                for x in s[section]
            ]
            columns = ["section", "period", "isrc", "title", "kind", "terr.", "right", "share %", "split v."]
            console.print(table(f"lines {cur}", [*columns, "units", "amount"], rows))

    report(doc, as_json, render)


@app.command("replay")
def replay(
    period: str = typer.Argument(..., help="YYYY-MM"),
    engine: str = ENGINE_OPTION,
    archive: str = ARCHIVE_OPTION,
    spark_master: str = MASTER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Recompute a closed period from the log alone; exit 1 on any hash difference."""
    p = _period(period, as_json)
    usage = _usage_reader(engine, archive, spark_master, as_json)
    try:
        result = replay_period(ledger(), store_config(), p, usage)
    except (DomainError, NotFound) as exc:
        fail(str(exc), as_json)
    report(
        {**result.as_dict(), "engine": engine},
        as_json,
        lambda: console.print(
            f"replay {p} at position {result.as_of}: {result.compared} statements, "
            + (
                "[green]all hashes match[/]"
                if result.ok
                else f"[red]{len(result.differences)} differ[/]: " + ", ".join(d["account"] for d in result.differences)
            )
        ),
    )
    if not result.ok:
        raise typer.Exit(1)


FORMAT_OPTION = typer.Option(..., "--format", help="One or more of " + ", ".join(FORMATS) + ".")
OUT_OPTION = typer.Option(..., "--out", help="Output directory.")


@app.command("export")
def export(
    period: str = typer.Argument(..., help="YYYY-MM"),
    formats: list[str] = FORMAT_OPTION,
    out: Path = OUT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write the period's statements (as closed; else as known now) in the given formats."""
    p, app_ = _period(period, as_json), ledger()
    bad = sorted(set(formats) - set(FORMATS))
    if bad:
        fail(f"unknown format(s) {', '.join(bad)}; expected {', '.join(FORMATS)}", as_json)
    engine = engine_for(app_, store_config())
    close_ = engine.history.closes.get(str(p))
    statements = compute_statements(engine, p, close_.as_of_position if close_ else engine.history.upto)
    names, dsr = {}, set()
    for account in statements.documents:
        if account.startswith("party:"):
            key = account.removeprefix("party:")
            try:
                party = app_.get_party(key)
            except NotFound:
                continue
            names[key] = party.name
            if {"label", "distributor"} & set(party.kinds):
                dsr.add(key)
    details = {k: dsr_details(app_, statements.documents[f"party:{k}"], k) for k in dsr} if "dsr" in formats else {}
    known_at = position_time(app_, statements.as_of)
    written = export_period(statements, formats, out, dsr, names, details, app_.clock(), known_at)
    doc = {"ok": True, "period": str(p), "as_of_position": statements.as_of, "files": written}
    report(doc, as_json, lambda: console.print(f"wrote {len(written)} files to {out}"))


def dsr_details(app_: RoyaltyLedger, doc: dict[str, Any], key: str) -> DsrDetails:
    """Who a DSR report is for, and its recordings with the releases carrying them."""
    party = app_.get_party(key)
    catalogue: dict[str, DsrRecording] = {}
    isrcs = {line["isrc"] for sec in doc["currencies"].values() for part in DSR_SECTIONS for line in sec[part]}
    for isrc in sorted(isrcs):
        try:
            rec = app_.get_recording(isrc)
        except NotFound:
            catalogue[isrc] = DsrRecording(isrc)
            continue
        releases = [app_.get_release(k) for k in releases_carrying(app_, isrc)]
        catalogue[isrc] = DsrRecording(
            isrc,
            rec.title,
            rec.display_artist,
            rec.duration_ms,
            tuple(DsrRelease(r.upc, r.upc, r.title, "") for r in releases),
        )
    parties = DsrParties("royalty-ledger", key, party.name, recipient_dpid=party.identifiers.get("dpid", ""))
    return DsrDetails(parties, catalogue)


DEMO_PIE = {"*:*": {"platform": 300_000, "master": 560_000, "publishing": 140_000}}


def demo_statements(period: Period, out: Path, as_json: bool) -> dict[str, Any]:
    """For `royalty demo`: set a demo rights pie if none, close the month, print the summary,
    write every export format to `out`, and replay the close. Returns a JSON-ready summary."""
    app_, config = ledger(), store_config()
    if app_.get_rights_pie() is None:
        app_.set_rights_pie(DEMO_PIE, period.start, "demo: co-op 30 %, rights holders 70 %", actor())
    if app_.is_period_closed(period):
        engine = engine_for(app_, config)
        statements = compute_statements(engine, period, engine.history.closes[str(period)].as_of_position)
    else:
        statements = close_period(app_, config, period, actor(), display=True)  # exported below
    if not as_json:
        console.print(
            table(
                f"statements {period} (as of position {statements.as_of})",
                SUMMARY_COLUMNS,
                summary_rows(statements.documents),
            )
        )
    names = {a.removeprefix("party:"): a for a in statements.documents if a.startswith("party:")}
    labels = set()
    for key in names:
        try:
            party = app_.get_party(key)
        except NotFound:
            continue
        names[key] = party.name
        if {"label", "distributor"} & set(party.kinds):
            labels.add(key)
    known_at = position_time(app_, statements.as_of)
    written = export_period(statements, list(FORMATS), out, labels, names, known_at=known_at)
    replayed = replay_period(app_, config, period)
    return {
        "period": str(period),
        "as_of_position": statements.as_of,
        "statements": len(statements.documents),
        "exports": len(written),
        "out": str(out),
        "replay_ok": replayed.ok,
    }
