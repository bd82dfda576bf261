"""A statement as XML (`royalty statements export --format xml`), valid against schemas/statement.xsd.

Money stays integer micro-units and shares parts per million, as in every data export; the
elements follow the statement document (`statement.build_statement`) one to one, so the XML holds
exactly what the canonical form hashes, plus the hash itself when it was recorded at the close.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree

from ledger.resources import shipped

NAMESPACE = "urn:royalty-ledger:statement:1"
SCHEMA_PATH = shipped("schemas", "statement.xsd")
_SUMMARY = (
    ("OpeningMicros", "opening_micros"),
    ("EarningsMicros", "earnings_micros"),
    ("EscrowReleaseMicros", "escrow_release_micros"),
    ("AdjustmentMicros", "adjustment_micros"),
    ("PayoutMicros", "payout_micros"),
    ("ClosingMicros", "closing_micros"),
)
_LINE = (
    ("Isrc", "isrc"),
    ("Kind", "kind"),
    ("Territory", "territory"),
    ("Right", "right"),
    ("RightPpm", "right_ppm"),
    ("SharePpm", "share_ppm"),
    ("Units", "units"),
    ("GrossMicros", "gross_micros"),
    ("AmountMicros", "amount_micros"),
    ("Dispute", "dispute"),
)
SECTIONS = ("earnings", "escrow_releases", "adjustments")


def _add(parent: etree._Element, name: str, value: object) -> None:
    """A child element, left out when the value is absent (the XSD marks those optional)."""
    if value is None or value == "":
        return
    etree.SubElement(parent, f"{{{NAMESPACE}}}{name}").text = str(value)


def statement_xml(doc: dict[str, Any], sha256: str | None = None) -> bytes:
    root = etree.Element(f"{{{NAMESPACE}}}Statement", nsmap={None: NAMESPACE}, version="1")
    for name, key in (("Account", "account"), ("Party", "party"), ("Period", "period")):
        _add(root, name, doc.get(key))
    _add(root, "AsOfPosition", doc["as_of_position"])
    _add(root, "PreviousPeriod", doc.get("previous_period"))
    _add(root, "Sha256", sha256)
    for code, sec in sorted(doc["currencies"].items()):
        currency = etree.SubElement(root, f"{{{NAMESPACE}}}Currency", code=code)
        summary = etree.SubElement(currency, f"{{{NAMESPACE}}}Summary")
        for name, key in _SUMMARY:
            _add(summary, name, int(sec[key]))
        lines = etree.SubElement(currency, f"{{{NAMESPACE}}}Lines")
        for section in SECTIONS:
            for line in sec[section]:
                element = etree.SubElement(
                    lines,
                    f"{{{NAMESPACE}}}Line",
                    section=section,
                    originalPeriod=str(line.get("original_period", doc["period"])),
                )
                for name, key in _LINE:
                    _add(element, name, line.get(key))
        payouts = etree.SubElement(currency, f"{{{NAMESPACE}}}Payouts")
        for payout in sec["payouts"]:
            element = etree.SubElement(payouts, f"{{{NAMESPACE}}}Payout")
            for name, key in (
                ("PayoutId", "payout_id"),
                ("Position", "position"),
                ("AmountMicros", "amount_micros"),
                ("Reference", "reference"),
            ):
                _add(element, name, payout.get(key))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def write_xml(doc: dict[str, Any], path: Path, sha256: str | None = None) -> None:
    path.write_bytes(statement_xml(doc, sha256))


def statement_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
