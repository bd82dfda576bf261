"""Commands on report sources and the rate source: mappings, links, rates — each an event with its actor."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger.base import NotFound
from ledger.domain.identifiers import InvalidIdentifier, parse_currency, parse_isrc, parse_territory
from ledger.domain.party import DomainError
from ledger.domain.period import require_utc
from ledger.domain.sales_report import (
    ID_KINDS,
    ExchangeRates,
    ReportSource,
    WithholdingTax,
    exchange_rates_id,
    report_source_id,
    withholding_tax_id,
)
from ledger.domain.text import check_text
from ledger.reports.lines import parse_rate
from ledger.reports.mapping import validate_mapping

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger


class UnknownSource(NotFound):
    """A source with no column mapping yet (an unknown name is an error)."""


def get_source(app: RoyaltyLedger, name: str) -> ReportSource:
    if report_source_id(name) not in app.repository:
        raise UnknownSource(
            f"unknown report source {name!r}: set its column mapping first (royalty reports mapping set)"
        )
    source = app.repository.get(report_source_id(name))
    assert isinstance(source, ReportSource)
    return source


def set_mapping(app: RoyaltyLedger, name: str, mapping: dict[str, Any], reason: str, actor: str) -> int:
    """Record a new version of a source's column mapping; returns its number (1 for a new source)."""
    check_text(name, "source", "id")
    clean = validate_mapping(mapping)
    if report_source_id(name) in app.repository:
        source = get_source(app, name)
        if source.mappings and source.mappings[-1]["mapping"] == clean:
            return int(source.mappings[-1]["version"])
    else:
        source = ReportSource(name=name, actor=actor)
    version = len(source.mappings) + 1
    source.set_mapping(version=version, mapping=clean, reason=reason, actor=actor)
    app.save(source)
    return version


def current_mapping(app: RoyaltyLedger, name: str) -> tuple[int, dict[str, Any]]:
    source = get_source(app, name)
    if not source.mappings:
        raise UnknownSource(f"report source {name!r} has no column mapping")
    latest = source.mappings[-1]
    return int(latest["version"]), dict(latest["mapping"])


def link_identifier(
    app: RoyaltyLedger, name: str, id_kind: str, id_value: str, isrc: str, note: str, actor: str
) -> bool:
    """An operator links one of a source's identifiers to a recording; remembered for the source.
    Returns False when the same link exists already (nothing recorded)."""
    if id_kind not in ID_KINDS:
        raise DomainError(f"identifier kind {id_kind!r}: expected one of {', '.join(ID_KINDS)}")
    check_text(id_value, "identifier", "id")
    try:
        isrc = parse_isrc(isrc)
    except InvalidIdentifier as exc:
        raise DomainError(str(exc)) from exc
    app.get_recording(isrc)  # NotFound names it
    source = get_source(app, name)
    existing = source.links.get(f"{id_kind}:{id_value}")
    if existing == isrc:
        return False
    source.link(id_kind=id_kind, id_value=id_value, isrc=isrc, note=note, actor=actor)
    app.save(source)
    return True


def set_rates(app: RoyaltyLedger, rates: dict[str, str], effective_from: datetime, origin: str, actor: str) -> int:
    """Record a version of the configured rate source: {"USD/EUR": "0.92", …} from an instant."""
    require_utc(effective_from, "effective_from")
    if not rates:
        raise DomainError("give at least one rate, FROM/TO=RATE")
    clean: dict[str, str] = {}
    for pair, rate in sorted(rates.items()):
        base, sep, quote = pair.partition("/")
        try:
            key = f"{parse_currency(base)}/{parse_currency(quote)}"
        except InvalidIdentifier as exc:
            raise DomainError(f"rate {pair}: {exc}") from exc
        if not sep or key[:3] == key[4:]:
            raise DomainError(f"rate {pair}: expected FROM/TO with two different currencies")
        try:
            clean[key] = parse_rate(rate)
        except ValueError as exc:
            raise DomainError(str(exc)) from exc
    if exchange_rates_id() in app.repository:
        table = app.repository.get(exchange_rates_id())
        assert isinstance(table, ExchangeRates)
    else:
        table = ExchangeRates(actor=actor)
    version = len(table.versions) + 1
    table.record_rates(version=version, rates=clean, effective_from=effective_from, source=origin, actor=actor)
    app.save(table)
    return version


def rate_versions(app: RoyaltyLedger) -> list[dict[str, Any]]:
    if exchange_rates_id() not in app.repository:
        return []
    table = app.repository.get(exchange_rates_id())
    assert isinstance(table, ExchangeRates)
    return list(table.versions)


def set_withholding(
    app: RoyaltyLedger, rates: dict[str, dict[str, int]], effective_from: datetime, reason: str, actor: str
) -> int:
    """Record a version of the withholding tax on report income: {party: {territory: ppm}}, the
    whole table (a payee left out is not taxed from `effective_from`). Returns its number."""
    require_utc(effective_from, "effective_from")
    clean: dict[str, dict[str, int]] = {}
    for party, by_territory in sorted(rates.items()):
        app.require_parties([party])
        clean[party] = {}
        for territory, ppm in sorted(by_territory.items()):
            try:
                code = parse_territory(territory)
            except InvalidIdentifier as exc:
                raise DomainError(str(exc)) from exc
            if not isinstance(ppm, int) or isinstance(ppm, bool) or not 0 < ppm < 1_000_000:
                raise DomainError(f"withholding {party}/{territory}: a rate between 0 and 100 % (ppm)")
            clean[party][code] = ppm
    if withholding_tax_id() in app.repository:
        table = app.repository.get(withholding_tax_id())
        assert isinstance(table, WithholdingTax)
    else:
        table = WithholdingTax(actor=actor)
    version = len(table.versions) + 1
    table.set_rates(version=version, rates=clean, effective_from=effective_from, reason=reason, actor=actor)
    app.save(table)
    return version


def withholding_versions(app: RoyaltyLedger) -> list[dict[str, Any]]:
    if withholding_tax_id() not in app.repository:
        return []
    table = app.repository.get(withholding_tax_id())
    assert isinstance(table, WithholdingTax)
    return list(table.versions)
