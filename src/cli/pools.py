"""`royalty pools`: subscription, patronage and surplus pools — configure, contribute, show, compare."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import typer

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.domain.money import format_micros, parse_decimal_micros
from ledger.domain.party import DomainError
from ledger.domain.period import Period
from ledger.domain.shares import InvalidShares, percent_to_ppm
from ledger.pools.gifts import grant_gift
from ledger.usage.listener import ListenerSecretMissing
from projections.gifts import gift_report
from projections.pools_chart import png_comparison, terminal_comparison
from projections.pools_compare import Comparison, compare_pools
from projections.statements.close import engine_for
from projections.statements.pools import pool_periods

app = typer.Typer(
    help="Pools: subscriptions, patronage and the co-op's surplus, and how they are shared.", no_args_is_help=True
)

WEIGHT_OPTION = typer.Option([], help="Hybrid: METHOD=PPM or METHOD=PERCENT% (repeat)")
MEMBER_OPTION = typer.Option(..., help="PARTY=PPM or PARTY=PERCENT% (repeat)")
CSV_ARGUMENT = typer.Argument(..., help="CSV with contribution_id,pool,kind,occurred_at,amount,currency,…")
PNG_OPTION = typer.Option(None, help="Also write the chart as a PNG here")


def _period(text: str, as_json: bool) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        fail(str(exc), as_json)


@app.command("configure")
def configure(
    key: str = typer.Argument(..., help="The pool's key, e.g. subs"),
    kind: str = typer.Option(..., help="subscription, patronage or surplus"),
    currency: str = typer.Option(..., help="ISO 4217 code the pool collects in"),
    name: str = typer.Option("", help="A name people read"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Configure a new pool (its rule comes with `royalty pools rule`)."""
    try:
        ledger().configure_pool(key, name, kind, currency, actor())
    except (DomainError, ValueError) as exc:
        fail(str(exc), as_json)
    doc = {"ok": True, "pool": key, "head_position": ledger().head_position()}
    report(doc, as_json, lambda: console.print(f"pool {key} configured"))


def _weights(items: list[str]) -> dict[str, int]:
    out = {}
    for item in items:
        method, sep, value = item.partition("=")
        if not sep:
            raise DomainError(f"weight {item!r}: expected METHOD=PPM or METHOD=PERCENT%")
        out[method.strip()] = percent_to_ppm(value) if value.strip().endswith("%") else int(value)
    return out


@app.command("rule")
def rule(
    key: str = typer.Argument(..., help="The pool's key"),
    method: str = typer.Option(..., help="pro-rata, user-centric, equal-share or hybrid"),
    effective_from: str = typer.Option(..., help="The first month (YYYY-MM) the version applies to"),
    reason: str = typer.Option(..., help="Why (recorded)"),
    fallback: str = typer.Option("pro-rata", help="Where a subscriber with no plays goes: pro-rata or coop-fund"),
    eligible: str = typer.Option("", help="Comma-separated party keys sharing equally (equal-share, hybrid)"),
    weight: list[str] = WEIGHT_OPTION,
    min_plays: int = typer.Option(0, help="Recordings with fewer counted plays of the pool get nothing by plays"),
    floor: str = typer.Option("0", help="Hybrid: the least an eligible recording gets (decimal units)"),
    cap: str = typer.Option("0", help="The most a recording gets, the rest to the co-op fund (0: none)"),
    plays: str = typer.Option("", help="Which plays count: contributors (default for subscriptions) or all"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a new rule version for a pool."""
    try:
        body: dict[str, Any] = {
            "method": method,
            "fallback": fallback,
            "eligible": [p.strip() for p in eligible.split(",") if p.strip()],
            "min_plays": min_plays,
            "floor_micros": parse_decimal_micros(floor),
            "cap_micros": parse_decimal_micros(cap),
        }
        if weight:
            body["weights"] = _weights(weight)
        if plays:
            body["plays"] = plays
        version = ledger().set_pool_rule(key, body, effective_from, reason, actor())
    except (DomainError, InvalidShares, ValueError) as exc:
        fail(str(exc), as_json)
    doc = {"ok": True, "pool": key, "version": version, "head_position": ledger().head_position()}
    report(doc, as_json, lambda: console.print(f"pool {key}: rule version {version} recorded"))


@app.command("collective")
def collective(
    party: str = typer.Argument(..., help="The collective's party key"),
    member: list[str] = MEMBER_OPTION,
    effective_from: str = typer.Option(..., help="The first month (YYYY-MM)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set a collective's members and shares: its support is split by them."""
    try:
        members = {}
        for item in member:
            key, sep, value = item.partition("=")
            if not sep:
                raise DomainError(f"member {item!r}: expected PARTY=PPM or PARTY=PERCENT%")
            members[key.strip()] = percent_to_ppm(value) if value.strip().endswith("%") else int(value)
        version = ledger().set_collective_members(party, members, effective_from, actor())
    except (DomainError, InvalidShares, ValueError) as exc:
        fail(str(exc), as_json)
    doc = {"ok": True, "collective": party, "version": version, "head_position": ledger().head_position()}
    report(doc, as_json, lambda: console.print(f"collective {party}: members version {version} recorded"))


def _record(rows: list[dict[str, Any]], source: str, as_json: bool) -> None:
    try:
        result = ledger().record_contributions(rows, source, actor())
    except (DomainError, ListenerSecretMissing) as exc:
        fail(str(exc), as_json)
    doc = {"ok": True, **result.as_dict()}

    def render() -> None:
        console.print(
            f"{result.accepted} accepted, {result.duplicates} duplicate(s), "
            f"{sum(result.quarantined.values())} quarantined"
        )
        if result.reasons:
            console.print(
                table(
                    "Quarantined",
                    ["contribution", "reason", "detail"],
                    [(r["contribution_id"], r["reason"], r["detail"]) for r in result.reasons],
                )
            )

    report(doc, as_json, render)


@app.command("import")
def import_csv(
    path: Path = CSV_ARGUMENT,
    source: str = typer.Option(..., help="Who sent it, e.g. csv:paypal (ids are unique per source)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import contributions from another payment provider's CSV; bad rows are quarantined with a reason."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = [dict(r) for r in csv.DictReader(fh)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        fail(f"{path}: {exc}", as_json)
    _record(rows, source, as_json)


@app.command("contribute")
def contribute(
    pool: str = typer.Argument(..., help="The pool's key"),
    contribution_id: str = typer.Option(..., help="Unique per source"),
    amount: str = typer.Option(..., help="Decimal units, e.g. 9.99"),
    currency: str = typer.Option(...),
    occurred_at: str = typer.Option(..., help="UTC instant"),
    listener: str = typer.Option("", help="The subscriber or patron (hashed before anything is kept)"),
    funder: str = typer.Option("", help="'coop' when the co-op funds it"),
    target: str = typer.Option("", help="The party a patronage supports (a collective: split by its members)"),
    source: str = typer.Option("cli", help="Where it comes from"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record one contribution (a subscription, a patronage, the co-op's share)."""
    row = {
        "contribution_id": contribution_id,
        "pool": pool,
        "amount": amount,
        "currency": currency,
        "occurred_at": occurred_at,
        **({"listener": listener} if listener else {}),
        **({"funder": funder} if funder else {}),
        **({"target": target} if target else {}),
    }
    _record([row], source, as_json)


@app.command("show")
def show(period: str = typer.Argument(..., help="YYYY-MM"), as_json: bool = JSON_OPTION) -> None:
    """Each pool's distribution for the month as known now, with the quantities behind it."""
    month = _period(period, as_json)
    app_ = ledger()
    engine = engine_for(app_, app_.config)
    head = engine.history.upto
    pools: list[dict[str, Any]] = []
    for pp in pool_periods(app_.config, engine.history, month, head):
        d, i = pp.distribution, pp.inputs
        pools.append(
            {
                "pool": pp.pool.key,
                "currency": pp.pool.currency,
                "line_kind": pp.line_kind,
                "rule_version": pp.version,
                "method": pp.method,
                "contributed_micros": i.untargeted + sum(i.targeted.values()),
                "subscribers": i.uc.subscribers,
                "components_micros": d.components,
                "recordings": [
                    {
                        "isrc": r,
                        "counted_plays": i.plays.get(r, 0),
                        "listeners": i.uc.listeners.get(r, 0),
                        "user_centric_micros": i.uc.per_recording.get(r, 0),
                        "amount_micros": m,
                    }
                    for r, m in sorted(d.recordings.items())
                ],
                "parties": [
                    {"party": p, "part": part, "via": via or None, "share_ppm": ppm, "amount_micros": m}
                    for (p, part, via, ppm), m in sorted(d.parties.items())
                ],
                "coop_fund_micros": d.coop_fund,
                "undistributed_micros": d.undistributed,
            }
        )
    doc = {"period": str(month), "as_of_position": head, "pools": pools}

    def render() -> None:
        if not pools:
            console.print(f"no pool money in {month}")
        for p in pools:
            console.print(
                f"[bold]{p['line_kind']}[/] — {format_micros(p['contributed_micros'])} {p['currency']}, "
                f"{p['subscribers']} subscriber(s)"
            )
            console.print(
                table(
                    "Recordings",
                    ["ISRC", "plays", "listeners", "user-centric", "amount"],
                    [
                        (
                            r["isrc"],
                            r["counted_plays"],
                            r["listeners"],
                            format_micros(r["user_centric_micros"]),
                            format_micros(r["amount_micros"]),
                        )
                        for r in p["recordings"]
                    ],
                )
            )
            if p["parties"]:
                console.print(
                    table(
                        "Parties",
                        ["party", "part", "via", "amount"],
                        [
                            (x["party"], x["part"], x["via"] or "", format_micros(x["amount_micros"]))
                            for x in p["parties"]
                        ],
                    )
                )

    report(doc, as_json, render)


def render_comparison(comparison: Comparison, chart: bool = True) -> None:
    """The comparison as a table per currency (a total row: every rule's is the same) and bars."""
    if not comparison.totals:
        console.print(f"no pool money in {comparison.period}")
        return
    for currency in sorted(comparison.totals):
        rows = [
            (account, *(format_micros(per[currency][r]) for r in comparison.rules))
            for account, per in sorted(comparison.accounts.items())
            if currency in per
        ]
        rows.append(("total", *(format_micros(comparison.totals[currency][r]) for r in comparison.rules)))
        title = f"Pools {comparison.period} ({currency}) as known at {comparison.as_of}"
        console.print(table(title, ["account", *comparison.rules], rows))
        if chart:
            console.print(terminal_comparison(comparison, currency), highlight=False, markup=False)


@app.command("compare")
def compare(
    period: str = typer.Argument(..., help="YYYY-MM"),
    png: Path | None = PNG_OPTION,
    chart: bool = typer.Option(True, help="Draw the chart in the terminal"),
    as_json: bool = JSON_OPTION,
) -> None:
    """What every party would receive from the month's pools under each rule, side by side."""
    month = _period(period, as_json)
    app_ = ledger()
    engine = engine_for(app_, app_.config)
    comparison = compare_pools(app_.config, engine.history, month, engine.history.upto)
    doc = comparison.as_dict()
    if png is not None:
        for currency in sorted(comparison.totals):
            suffix = "" if len(comparison.totals) == 1 else f"-{currency}"
            written = png_comparison(comparison, currency, png.with_name(f"{png.stem}{suffix}{png.suffix}"))
            doc.setdefault("png", []).append(str(written))

    def render() -> None:
        render_comparison(comparison, chart)
        for path in doc.get("png", []):
            console.print(f"chart written to {path}")

    report(doc, as_json, render)


@app.command("gift")
def gift(
    listener: str = typer.Argument(..., help="Who receives the credits (hashed before anything is kept)"),
    gift_id: str = typer.Option(..., help="Unique id of the gift"),
    amount: str = typer.Option(..., help="Credits' value in decimal units, e.g. 5.00"),
    currency: str = typer.Option(...),
    friend: str = typer.Option("", help="The listener who funds it (default: the co-op)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Grant gift credits to a listener, funded by the co-op or by a friend; spent through stream2own."""
    try:
        position = grant_gift(
            ledger(), gift_id, listener, parse_decimal_micros(amount), currency, actor(), friend=friend or None
        )
    except (DomainError, ValueError, ListenerSecretMissing) as exc:
        fail(str(exc), as_json)
    doc = {"ok": True, "gift_id": gift_id, "position": position, "funded_by": "friend" if friend else "coop"}
    report(doc, as_json, lambda: console.print(f"gift {gift_id} granted"))


@app.command("gifts")
def gifts(
    period: str = typer.Argument("", help="YYYY-MM: also what was spent on plays of this month"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Gift credits accounted apart: granted, spent through stream2own and left, by who funded them."""
    month = _period(period, as_json) if period else None
    doc = gift_report(ledger().config, ledger().head_position(), month)

    def render() -> None:
        console.print(
            table(
                "Gift credits by funder",
                ["funded by", "currency", "granted", "spent", "spent in period", "remaining"],
                [
                    (
                        r["funded_by"],
                        r["currency"],
                        format_micros(r["granted_micros"]),
                        format_micros(r["spent_micros"]),
                        format_micros(r["spent_in_period_micros"]),
                        format_micros(r["remaining_micros"]),
                    )
                    for r in doc["by_funder"]
                ],
            )
        )

    report(doc, as_json, render)
