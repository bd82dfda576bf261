"""A DDEX DSR flat file (Basic Audio Profile, multi-record-block variant) of one party's statement.

One file per label or distributor and period: a HEAD record, one SY01.03 summary record per sales
context (usage kind × territory × currency), one Block per recording — its AS01.03 resource record,
an RE01.03 record for each release carrying it, and one SU01.03 sales/usage record per statement
line (earnings, escrow releases, adjustments of earlier periods) — and a FOOT record with the
control counts. Tab-separated, one record per line, UTF-8. Amounts are the standard's decimal form
(a point, no exponent, no grouping), rendered from integer micro-units by `format_micros`: no float
is ever involved, so the file adds up to the statement to the micro-unit. `read_dsr` reads a file
back and checks its structure (tests and `royalty statements export` use it).

Cells written, by record (the standard's names; cells the ledger has no data for stay empty):
  HEAD     MessageVersion, Profile, ProfileVersion, MessageId, MessageCreatedDateTime, FileNumber,
           NumberOfFiles, UsageStartDate, UsageEndDate, SenderPartyId, SenderName,
           ServiceDescription, RecipientPartyId, RecipientName
  SY01.03  SummaryRecordId, DistributionChannel, DistributionChannelDPID, CommercialModel, UseType,
           Territory, ServiceDescription (the usage kind), Usages, Users, Currency, NetRevenue
           (gross of the context's lines), RoyaltyAmount (the party's amount)
  RE01.03  BlockId, ReleaseReference, DspReleaseId (the ledger's release key), ProprietaryReleaseId,
           CatalogNumber, ReleaseIcpn, DisplayArtistName, Title
  AS01.03  BlockId, ResourceReference, DspResourceId, ResourceIsrc, ResourceTitle, SubTitle,
           DisplayArtistName, DisplayArtistPartyId, Duration (ISO 8601)
  SU01.03  BlockId, SummaryRecordId, SalesTransactionId (section:original period:n),
           TransactedReleaseReference, TransactedResourceReference, IsRoyaltyBearing, Usages,
           NetRevenue (gross), RoyaltyAmount (the party's amount), Currency
  FOOT     NumberOfLinesInFile, NumberOfLinesInReport, NumberOfSummaryRecords,
           NumberOfBlocksInFile, NumberOfBlocksInReport
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ledger.domain.money import format_micros, parse_decimal_micros
from ledger.domain.period import Period

MESSAGE_VERSION = "dsrf/1.1.2/1.6/1.0"
PROFILE, PROFILE_VERSION = "BasicAudioProfile", "1.2"
SECTIONS = ("earnings", "escrow_releases", "adjustments")
# How each usage kind was sold or used, in the DSR allowed values.
_CONTEXT = {
    "stream": ("PayAsYouGoModel", "OnDemandStream"),
    "download": ("PayAsYouGoModel", "PermanentDownload"),
    "purchase": ("PayAsYouGoModel", "PermanentDownload"),
    "refund": ("PayAsYouGoModel", "PermanentDownload"),
    "tip": ("PayAsYouGoModel", "UserDefined"),
}


@dataclass(frozen=True)
class DsrRelease:
    key: str
    upc: str
    title: str
    display_artist: str


@dataclass(frozen=True)
class DsrRecording:
    isrc: str
    title: str = ""
    display_artist: str = ""
    duration_ms: int | None = None
    releases: tuple[DsrRelease, ...] = ()


@dataclass(frozen=True)
class DsrParties:
    """Who sends the report (the platform) and whom it is for (the label or distributor)."""

    sender_name: str
    recipient_key: str
    recipient_name: str
    sender_dpid: str = ""
    recipient_dpid: str = ""


def _duration(ms: int | None) -> str:
    if ms is None:
        return ""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    fraction = f".{millis:03d}" if millis else ""
    return f"PT{hours}H{minutes}M{seconds}{fraction}S"


def _lines(doc: dict[str, Any]) -> Iterable[tuple[str, str, dict[str, Any]]]:
    for currency, sec in doc["currencies"].items():
        for section in SECTIONS:
            for line in sec[section]:
                yield currency, section, line


def _clean(value: object) -> str:
    """A cell: tabs and line breaks would split records, so they become spaces."""
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def dsr_records(
    doc: dict[str, Any],
    period: Period,
    parties: DsrParties,
    catalogue: dict[str, DsrRecording],
    created_at: datetime,
) -> list[list[str]]:
    """Every record of the report, in order; cells as strings."""
    message_id = f"{parties.sender_dpid or 'royalty-ledger'}-{parties.recipient_key}-{period}-{doc['as_of_position']}"
    records: list[list[str]] = [
        [
            "HEAD",
            MESSAGE_VERSION,
            PROFILE,
            PROFILE_VERSION,
            message_id,
            created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "1",
            "1",
            period.start.date().isoformat(),
            (period.end - timedelta(days=1)).date().isoformat(),  # the period is [start, end)
            parties.sender_dpid,
            parties.sender_name,
            "",
            parties.recipient_dpid,
            parties.recipient_name,
        ]
    ]
    contexts: dict[tuple[str, str, str], list[tuple[str, dict[str, Any]]]] = {}
    for currency, section, line in _lines(doc):
        contexts.setdefault((line["kind"], line["territory"], currency), []).append((section, line))
    summary_ids = {context: str(n) for n, context in enumerate(sorted(contexts), start=1)}
    for context, in_context in sorted(contexts.items()):
        kind, territory, currency = context
        model, use = _CONTEXT.get(kind, ("UserDefined", "UserDefined"))
        records.append(
            [
                "SY01.03",
                summary_ids[context],
                parties.sender_name,
                parties.sender_dpid,
                model,
                use,
                territory,
                kind,
                str(sum(int(line["units"] or 0) for _, line in in_context)),
                "",
                currency,
                format_micros(sum(int(line["gross_micros"] or 0) for _, line in in_context)),
                format_micros(sum(int(line["amount_micros"]) for _, line in in_context)),
            ]
        )
    blocks: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for currency, section, line in _lines(doc):
        blocks.setdefault(line["isrc"], []).append((currency, section, line))
    transaction = 0
    for block_id, (isrc, items) in enumerate(sorted(blocks.items()), start=1):
        rec = catalogue.get(isrc, DsrRecording(isrc))
        block = str(block_id)
        for number, release in enumerate(rec.releases, start=1):
            upc = release.upc if release.upc.isdigit() else ""
            records.append(
                ["RE01.03", block, f"R{number}", release.key, "", "", upc, release.display_artist, release.title]
            )
        records.append(
            ["AS01.03", block, "1", isrc, isrc, rec.title, "", rec.display_artist, "", _duration(rec.duration_ms)]
        )
        for currency, section, line in items:
            transaction += 1
            context = (line["kind"], line["territory"], currency)
            original = line.get("original_period", doc["period"])
            records.append(
                [
                    "SU01.03",
                    block,
                    summary_ids[context],
                    f"{section}:{original}:{transaction}",
                    "R1" if rec.releases else "",
                    "1",
                    "true",
                    str(int(line["units"] or 0)),
                    format_micros(int(line["gross_micros"] or 0)),
                    format_micros(int(line["amount_micros"])),
                    currency,
                ]
            )
    lines = len(records) + 1
    records.append(["FOOT", str(lines), str(lines), str(len(contexts)), str(len(blocks)), str(len(blocks))])
    return [[_clean(cell) for cell in record] for record in records]


@dataclass(frozen=True)
class DsrDetails:
    """What the statement alone does not say: who the report is from and for, and the catalogue."""

    parties: DsrParties
    catalogue: dict[str, DsrRecording] = field(default_factory=dict)


def write_statement_dsr(
    doc: dict[str, Any], period: Period, path: Path, details: DsrDetails | None, created_at: datetime
) -> dict[str, int]:
    """The DSR file of one party's statement (`royalty statements export --format dsr`)."""
    key = doc["account"].removeprefix("party:")
    details = details or DsrDetails(DsrParties("royalty-ledger", key, key))
    return write_dsr_file(doc, period, details.parties, details.catalogue, created_at, path)


def write_dsr_file(
    doc: dict[str, Any],
    period: Period,
    parties: DsrParties,
    catalogue: dict[str, DsrRecording],
    created_at: datetime,
    path: Path,
) -> dict[str, int]:
    records = dsr_records(doc, period, parties, catalogue, created_at)
    path.write_text("".join("\t".join(r) + "\n" for r in records), encoding="utf-8")
    return {"records": len(records), "blocks": int(records[-1][4]), "summaries": int(records[-1][3])}


class DsrError(ValueError):
    """A DSR file whose structure or control totals do not hold; the message says where."""


@dataclass
class DsrTotals:
    """What a DSR file says, per currency, read back from its records (exact micro-units)."""

    units: dict[str, int] = field(default_factory=dict)
    gross_micros: dict[str, int] = field(default_factory=dict)
    amount_micros: dict[str, int] = field(default_factory=dict)
    blocks: int = 0
    summaries: int = 0
    releases: int = 0


def read_dsr(path: Path) -> DsrTotals:
    """Read a file written by `write_dsr_file`; raises DsrError when its structure does not hold."""
    records = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    if not records or records[0][0] != "HEAD" or records[-1][0] != "FOOT":
        raise DsrError(f"{path}: must start with HEAD and end with FOOT")
    foot = records[-1]
    totals = DsrTotals()
    summaries: dict[str, tuple[str, int, int, int]] = {}
    by_summary: dict[str, list[int]] = {}
    blocks: set[str] = set()
    for number, record in enumerate(records[1:-1], start=2):
        kind = record[0]
        if kind == "SY01.03":
            units, gross, amount = int(record[8]), parse_decimal_micros(record[11]), parse_decimal_micros(record[12])
            summaries[record[1]] = (record[10], units, gross, amount)
        elif kind == "RE01.03":
            totals.releases += 1
        elif kind == "AS01.03":
            blocks.add(record[1])
        elif kind == "SU01.03":
            if record[2] not in summaries:
                raise DsrError(f"record {number}: SU01.03 names summary {record[2]}, which is not above it")
            units, gross, amount = int(record[7]), parse_decimal_micros(record[8]), parse_decimal_micros(record[9])
            currency = record[10]
            for bucket, value in ((totals.units, units), (totals.gross_micros, gross), (totals.amount_micros, amount)):
                bucket[currency] = bucket.get(currency, 0) + value
            acc = by_summary.setdefault(record[2], [0, 0, 0])
            acc[0], acc[1], acc[2] = acc[0] + units, acc[1] + gross, acc[2] + amount
        else:
            raise DsrError(f"record {number}: unknown record type {kind!r}")
    for summary_id, (_currency, units, gross, amount) in summaries.items():
        if by_summary.get(summary_id, [0, 0, 0]) != [units, gross, amount]:
            raise DsrError(f"summary {summary_id}: its totals differ from the sum of its SU01.03 records")
    expected = [str(len(records)), str(len(records)), str(len(summaries)), str(len(blocks)), str(len(blocks))]
    if foot[1:] != expected:
        raise DsrError(f"FOOT {foot[1:]} does not match the file ({expected})")
    totals.blocks, totals.summaries = len(blocks), len(summaries)
    return totals
