"""Sales-report payloads: an import's outcome, reports on record, the matching queue, a link."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from api.schemas.common import WriteResult, checked


class TaxHeldPublic(BaseModel):
    """One tax account in one currency: withheld by the statement rules, remitted, still held."""

    account: str
    territory: str
    currency: str
    withheld_micros: int
    remitted_micros: int
    held_micros: int = Field(description="withheld − remitted; below zero when over-remitted")
    over_remitted_micros: int = Field(
        description="More paid over than the statement rules now withhold (a report superseded after its tax "
        "was remitted): to reclaim from the tax authority; 0 otherwise"
    )


class ReportImportPublic(WriteResult):
    """One report: its id (uuid5 of source and file SHA-256), lines, quarantine by reason,
    totals per original currency (gross, net, service_fee in micro-units) and conversions."""

    report_id: str
    source: str
    sha256: str
    already_imported: bool
    period: str
    lines: int
    quarantined: dict[str, int]
    quarantined_total: int
    totals_micros: dict[str, dict[str, int]]
    conversions: list[dict[str, Any]] = Field(
        description="Per (currency, rate): rate (exact decimal text), origin, net_micros, converted_micros, "
        "fx_rest (the sub-micro rest as a fraction)."
    )
    supersedes: str | None
    tax_over_remitted: list[TaxHeldPublic] = Field(
        default_factory=list,
        description="For a correction: the tax accounts it leaves paid over more than they now withhold",
    )


class ReportPublic(BaseModel):
    report_id: str
    position: int
    source: str
    period: str
    file_name: str
    sha256: str
    lines: int
    quarantined: dict[str, int]
    totals_micros: dict[str, dict[str, int]]
    conversions: list[dict[str, Any]]
    supersedes: str | None
    superseded_by: str | None


class QueueEntryPublic(BaseModel):
    """Unmatched lines of one source and identifiers (in suspense), with the reason; suggestions
    are recordings with the same title, for a person to confirm — never applied by themselves."""

    source: str
    identifiers: dict[str, str]
    link_kind: str | None
    link_value: str | None
    reason: str
    detail: str
    title: str | None
    artist: str | None
    lines: int
    units: int
    amount_micros: dict[str, int]
    suggestions: list[str]


class QuarantinedReportLinePublic(BaseModel):
    position: int
    report_id: str
    line_no: int
    source: str
    reason: str
    detail: str
    raw_line: str


Id = Annotated[StrictStr, Field(min_length=1, max_length=200), checked("id")]


class IdentifierLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Id
    kind: Annotated[StrictStr, Field(pattern="^(isrc|platform_id|proprietary_id|iswc|upc|grid)$")]
    id: Id
    isrc: Annotated[StrictStr, Field(min_length=12, max_length=15)]
    note: Annotated[StrictStr, Field(max_length=500)] = ""


class TaxRemittanceCreate(BaseModel):
    """Withholding tax paid over to the tax authority, out of tax:<territory>."""

    model_config = ConfigDict(extra="forbid")

    territory: Annotated[StrictStr, Field(min_length=2, max_length=2)]
    currency: Annotated[StrictStr, Field(min_length=3, max_length=3)]
    amount_micros: Annotated[int, Field(gt=0, description="Whole minor units of the currency, in micro-units.")]
    periods: Annotated[
        list[Annotated[StrictStr, Field(pattern=r"^\d{4}-\d{2}$")]],
        Field(min_length=1, max_length=120, description="The periods (YYYY-MM) the remittance covers."),
    ]
    reference: Id


class TaxRemittancePublic(WriteResult, TaxHeldPublic):
    """The remittance recorded, and its account after it."""

    remittance_id: str
    amount_micros: int
    periods: list[str]
    reference: str
