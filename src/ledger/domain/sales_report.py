"""Sales reports from other services: the report itself, each source's settings, exchange rates.

A `SalesReport` is one event (`Imported`) with the file's SHA-256, source, period, counts and
totals; its lines live in the insert-only `report_line_blocks` table (`report_lines` for reports
imported before migration 0034), written in the same transaction.
A `ReportSource` holds one source's versioned column mapping and the identifiers an operator
linked to a recording (remembered for every later report of that source). `ExchangeRates` is the
configured rate source: versioned rates, each effective from an instant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE

RIGHT_TYPES = ("performance", "mechanical", "sync", "neighbouring", "master")
# Identifier kinds a report line may carry, in the order matching tries them.
ID_KINDS = ("isrc", "platform_id", "proprietary_id", "iswc", "upc", "grid")


def sales_report_id(source: str, sha256: str) -> UUID:
    """Deterministic: the same file from the same source is the same report (re-import: no-op)."""
    return uuid5(NAMESPACE, f"sales-report:{source}:{sha256}")


def report_source_id(source: str) -> UUID:
    return uuid5(NAMESPACE, f"report-source:{source}")


def exchange_rates_id() -> UUID:
    return uuid5(NAMESPACE, "exchange-rates")


# How `lines_sha256` was computed (docs/reports.md "Lines and their digest"): 1 = the lines' CSV
# with the source and target currency on every line (reports imported before migration 0033),
# 2 = without them (the report's own). `royalty audit verify` recomputes either from the table.
LINES_FORMAT = 2


class SalesReport(Aggregate):
    class Imported(Aggregate.Created):
        class_version = 2

        source: str
        sha256: str
        file_format: str
        file_name: str
        period: str
        mapping_version: int
        line_count: int
        quarantined: dict[str, int]
        totals: dict[str, dict[str, int]]
        conversions: list[dict[str, Any]]
        supersedes: str | None
        lines_sha256: str
        actor: str
        lines_format: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["lines_format"] = 1

    @staticmethod
    def create_id(source: str, sha256: str, **_: Any) -> Any:
        return sales_report_id(source, sha256)

    @event(Imported)
    def __init__(
        self,
        source: str,
        sha256: str,
        file_format: str,
        file_name: str,
        period: str,
        mapping_version: int,
        line_count: int,
        quarantined: dict[str, int],
        totals: dict[str, dict[str, int]],
        conversions: list[dict[str, Any]],
        supersedes: str | None,
        lines_sha256: str,
        actor: str,
        lines_format: int = LINES_FORMAT,
    ) -> None:
        """`totals`: per original currency, `gross`, `net` and `service_fee` (gross − net) in
        micro-units; `conversions`: per (currency → target), the rate as an exact decimal text,
        where it came from (`stated`, `rates:<version>` or `same`), the net converted and the
        converted total (floor of the exact product; the sub-micro rest as `fx_rest`);
        `lines_format`: which canonical form of the lines `lines_sha256` digests (LINES_FORMAT)."""
        self.source = source
        self.sha256 = sha256
        self.file_format = file_format
        self.file_name = file_name
        self.period = period
        self.mapping_version = mapping_version
        self.line_count = line_count
        self.quarantined = quarantined
        self.totals = totals
        self.conversions = conversions
        self.supersedes = supersedes
        self.lines_sha256 = lines_sha256
        self.lines_format = lines_format


class ReportSource(Aggregate):
    """One service a report comes from: its column mapping versions and the links operators made."""

    @staticmethod
    def create_id(name: str, **_: Any) -> Any:
        return report_source_id(name)

    @event("Opened")
    def __init__(self, name: str, actor: str) -> None:
        self.name = name
        self.mappings: list[dict[str, Any]] = []
        self.links: dict[str, str] = {}

    @event("MappingVersionSet")
    def set_mapping(self, version: int, mapping: dict[str, Any], reason: str, actor: str) -> None:
        self.mappings.append({"version": version, "mapping": mapping, "reason": reason, "actor": actor})

    @event("IdentifierLinked")
    def link(self, id_kind: str, id_value: str, isrc: str, note: str, actor: str) -> None:
        """An operator's confirmation that this source's identifier names this recording."""
        self.links[f"{id_kind}:{id_value}"] = isrc


class ExchangeRates(Aggregate):
    """The configured rate source: each version maps "FROM/TO" to a decimal rate text."""

    @staticmethod
    def create_id(**_: Any) -> Any:
        return exchange_rates_id()

    @event("Opened")
    def __init__(self, actor: str) -> None:
        self.versions: list[dict[str, Any]] = []

    @event("RatesRecorded")
    def record_rates(
        self, version: int, rates: dict[str, str], effective_from: datetime, source: str, actor: str
    ) -> None:
        self.versions.append({"version": version, "rates": rates, "effective_from": effective_from, "source": source})


def withholding_tax_id() -> UUID:
    return uuid5(NAMESPACE, "withholding-tax")


class WithholdingTax(Aggregate):
    """Withholding tax on imported report income, per payee and territory: versions of
    {party: {territory: ppm}}, each effective from an instant (the latest ≤ a line's usage period)."""

    @staticmethod
    def create_id(**_: Any) -> Any:
        return withholding_tax_id()

    @event("Opened")
    def __init__(self, actor: str) -> None:
        self.versions: list[dict[str, Any]] = []

    @event("RatesSet")
    def set_rates(
        self, version: int, rates: dict[str, dict[str, int]], effective_from: datetime, reason: str, actor: str
    ) -> None:
        self.versions.append({"version": version, "rates": rates, "effective_from": effective_from, "reason": reason})


def tax_remittance_id(territory: str, currency: str, sequence: int) -> UUID:
    """The n-th remittance from one tax account: two remittances decided on the same balance at
    once are the same record, so the second fails and is decided again on the new balance."""
    return uuid5(NAMESPACE, f"tax-remittance:{territory}:{currency}:{sequence}")


class TaxRemittance(Aggregate):
    """Withholding tax paid over to the tax authority: money leaving `tax:<territory>` in one
    currency, for the periods it covers, with the authority's reference."""

    @staticmethod
    def create_id(territory: str, currency: str, sequence: int, **_: Any) -> Any:
        return tax_remittance_id(territory, currency, sequence)

    @event("Recorded")
    def __init__(
        self,
        territory: str,
        currency: str,
        amount_micros: int,
        periods: list[str],
        reference: str,
        sequence: int,
        actor: str,
    ) -> None:
        self.territory = territory
        self.currency = currency
        self.amount_micros = amount_micros
        self.periods = periods
        self.reference = reference
        self.sequence = sequence
