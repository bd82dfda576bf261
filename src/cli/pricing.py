"""`royalty pricing`: record a pricing version (recorded as an event), show the one in force."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.application import NotFound
from ledger.domain.identifiers import InvalidIdentifier, parse_currency, parse_territory, parse_upc
from ledger.domain.money import format_micros, parse_decimal_micros
from ledger.domain.party import DomainError
from ledger.domain.pricing import PricingConfig, StreamRule

app = typer.Typer(help="Pricing versions: fixed rate, stream2own, sale minimums.", no_args_is_help=True)


def _pairs(values: list[str], what: str) -> list[tuple[str, str]]:
    out = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise DomainError(f"{what} {value!r}: expected KEY=VALUE")
        out.append((key.strip(), rest.strip()))
    return out


def _rules(values: list[str]) -> tuple[StreamRule, ...]:
    rules = []
    for scope, model in _pairs(values, "--rule"):
        source, _, territory = scope.partition("/")
        rules.append(
            StreamRule(
                model=model,
                source=None if source in ("*", "") else source,
                territory=None if territory in ("*", "") else parse_territory(territory),
            )
        )
    return tuple(rules)


def _minimums(values: list[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for upc, price in _pairs(values, "--min-price"):
        currency, _, amount = price.partition(":")
        out.setdefault(parse_upc(upc), {})[parse_currency(currency)] = parse_decimal_micros(amount)
    return out


@app.command("set")
def set_pricing(
    currency: str = typer.Option(None, "--currency", help="Currency of stream prices."),
    model: str = typer.Option(None, "--model", help="Default stream model: stream2own|fixed_rate."),
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="SOURCE/TERRITORY=MODEL, * for any (repeat).")
    ] = None,
    rate: str = typer.Option(None, "--rate", help="Fixed rate per counted stream, e.g. 0.003."),
    territory_rate: Annotated[
        list[str] | None, typer.Option("--territory-rate", help="TERRITORY=RATE (repeat).")
    ] = None,
    credit: str = typer.Option(None, "--credit", help="Value of one stream2own credit, e.g. 1.00."),
    counted_after: int = typer.Option(None, "--counted-after", help="Seconds for a play to count."),
    min_price: Annotated[list[str] | None, typer.Option("--min-price", help="UPC=CUR:AMOUNT (repeat).")] = None,
    max_amount: str = typer.Option(None, "--max-amount", help="Largest plausible row amount."),
    from_json: Annotated[Path | None, typer.Option("--from-json", help="A whole configuration as JSON.")] = None,
    reason: str = typer.Option("", "--reason", help="Why this version (kept in the event)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a new pricing version: the current one with the given changes."""
    app_ = ledger()
    try:
        current = app_.current_pricing()
        if from_json is not None:
            config = PricingConfig.from_dict(json.loads(from_json.read_text()))
        elif current is not None:
            config = current[1]
        elif currency:
            config = PricingConfig(stream_currency=parse_currency(currency))
        else:
            raise DomainError("no pricing yet: give --currency (or --from-json)")
        changes: dict[str, Any] = {}
        if currency:
            changes["stream_currency"] = parse_currency(currency)
        if model:
            changes["default_stream_model"] = model
        if rule:
            changes["rules"] = _rules(rule)
        if rate is not None:
            changes["fixed_rate_default_micros"] = parse_decimal_micros(rate)
        if territory_rate:
            changes["fixed_rate_by_territory"] = {
                parse_territory(t): parse_decimal_micros(r) for t, r in _pairs(territory_rate, "--territory-rate")
            }
        if credit is not None:
            changes["credit_micros"] = parse_decimal_micros(credit)
        if counted_after is not None:
            changes["counted_after_seconds"] = counted_after
        if min_price:
            changes["min_price_by_release"] = _minimums(min_price)
        if max_amount is not None:
            changes["max_amount_micros"] = parse_decimal_micros(max_amount)
        version = app_.set_pricing(replace(config, **changes), reason, actor())
    except (DomainError, InvalidIdentifier, ValueError, OSError) as exc:
        fail(str(exc), as_json)
    doc = _doc(app_)
    report(
        {"ok": True, "version": version, **doc},
        as_json,
        lambda: console.print(f"pricing version {version} is in force"),
    )


def _doc(app_: Any) -> dict[str, Any]:
    current = app_.current_pricing()
    return {
        "current": None if current is None else {"version": current[0], "config": current[1].to_dict()},
        "history": app_.pricing_history(),
    }


@app.command("show")
def show(as_json: bool = JSON_OPTION) -> None:
    """The pricing version in force and every earlier one."""
    doc = {"ok": True, **_doc(ledger())}

    def render() -> None:
        if doc["current"] is None:
            console.print("no pricing configured (royalty pricing set --currency EUR …)")
            return
        c = doc["current"]["config"]
        rows = [
            ("stream currency", c["stream_currency"]),
            ("default stream model", c["default_stream_model"]),
            (
                "rules",
                "; ".join(f"{r['source'] or '*'}/{r['territory'] or '*'}={r['model']}" for r in c["rules"]) or "—",
            ),
            ("fixed rate", format_micros(c["fixed_rate_default_micros"])),
            (
                "fixed rate by territory",
                ", ".join(f"{t}={format_micros(v)}" for t, v in c["fixed_rate_by_territory"].items()),
            ),
            ("stream2own credit", format_micros(c["credit_micros"])),
            ("counted after (s)", c["counted_after_seconds"]),
            ("minimum prices", json.dumps(c["min_price_by_release"])),
        ]
        console.print(
            table(
                f"Pricing version {doc['current']['version']} ({len(doc['history'])} version(s) in all)",
                ["setting", "value"],
                rows,
            )
        )

    report(doc, as_json, render)


def _release_doc(app_: Any, upc: str) -> dict[str, Any]:
    doc: dict[str, Any] = app_.release_prices(upc)
    return doc


def _render_release(doc: dict[str, Any]) -> None:
    rows = [("everywhere", c, format_micros(m)) for c, m in doc["minimums"].items()]
    rows += [(t, c, format_micros(m)) for t, by in doc["territory_minimums"].items() for c, m in by.items()]
    console.print(table(f"Minimum prices of release {doc['upc']}", ["territory", "currency", "minimum"], rows))


@app.command("release")
def release(
    upc: str = typer.Argument(..., help="The release (UPC, GRID:… or a proprietary id)."), as_json: bool = JSON_OPTION
) -> None:
    """A release's minimum prices in force: everywhere, and by territory where set there."""
    try:
        doc = _release_doc(ledger(), upc)
    except (DomainError, InvalidIdentifier, NotFound) as exc:
        fail(str(exc), as_json)
    report(doc, as_json, lambda: _render_release(doc))


@app.command("release-set")
def release_set(
    upc: str = typer.Argument(..., help="The release."),
    minimum: Annotated[list[str] | None, typer.Option("--min", help="CUR:AMOUNT everywhere (repeat).")] = None,
    territory_minimum: Annotated[
        list[str] | None, typer.Option("--territory-min", help="TERRITORY=CUR:AMOUNT (repeat).")
    ] = None,
    reason: str = typer.Option("", "--reason", help="Why (kept in the event)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set a release's minimum prices (pay what you want, at least this), replacing its earlier ones:
    a new pricing version in which only this release's minimums change."""
    app_ = ledger()
    try:
        everywhere = {parse_currency(c): parse_decimal_micros(a) for c, a in (_price(v) for v in minimum or [])}
        local: dict[str, dict[str, int]] = {}
        for territory, price in _pairs(territory_minimum or [], "--territory-min"):
            currency, amount = _price(price)
            local.setdefault(parse_territory(territory), {})[parse_currency(currency)] = parse_decimal_micros(amount)
        version, changed = app_.set_release_prices(upc, everywhere, local, reason, actor())
        doc = {"ok": True, "version": version, "changed": changed, **_release_doc(app_, upc)}
    except (DomainError, InvalidIdentifier, NotFound, ValueError) as exc:
        fail(str(exc), as_json)
    report(doc, as_json, lambda: _render_release(doc))


def _price(text: str) -> tuple[str, str]:
    currency, sep, amount = text.partition(":")
    if not sep or not currency or not amount:
        raise DomainError(f"price {text!r}: expected CUR:AMOUNT, e.g. EUR:5.00")
    return currency, amount
