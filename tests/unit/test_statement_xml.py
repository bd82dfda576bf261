"""Statements as XML: valid against schemas/statement.xsd, and the XML says what the statement says."""

from __future__ import annotations

from lxml import etree

from projections.statements.xml_export import NAMESPACE, statement_schema, statement_xml
from tests.unit.test_dsr_export import STATEMENT

NS = {"s": NAMESPACE}


def _document() -> dict:
    doc = {**STATEMENT, "party": "harbour-records", "previous_period": "2025-12"}
    currencies = {}
    for code, sec in STATEMENT["currencies"].items():  # type: ignore[attr-defined]
        closing = sec["earnings_micros"] + sec["escrow_release_micros"] + sec["adjustment_micros"] - 500_000
        currencies[code] = {
            **sec,
            "opening_micros": 0,
            "payout_micros": 500_000,
            "closing_micros": closing,
            "payouts": [{"payout_id": "po-1", "position": 99, "amount_micros": 500_000, "reference": "bank"}],
        }
    doc["currencies"] = currencies
    return doc


def test_a_statement_as_xml_is_valid_and_adds_up() -> None:
    doc = _document()
    root = etree.fromstring(statement_xml(doc, sha256="ab" * 32))
    schema = statement_schema()
    assert schema.validate(root), schema.error_log
    assert root.findtext("s:Period", namespaces=NS) == "2026-01"
    for currency in root.iterfind("s:Currency", NS):
        code = currency.get("code")
        sec = doc["currencies"][code]
        amounts = [int(x) for x in currency.xpath("s:Lines/s:Line/s:AmountMicros/text()", namespaces=NS)]
        assert sum(amounts) == sec["earnings_micros"] + sec["escrow_release_micros"] + sec["adjustment_micros"]
        assert int(currency.findtext("s:Summary/s:ClosingMicros", namespaces=NS)) == sec["closing_micros"]
    adjustment = root.find("s:Currency/s:Lines/s:Line[@section='adjustments']", NS)
    assert adjustment is not None and adjustment.get("originalPeriod") == "2025-12"


def test_the_schema_refuses_decimal_money_and_a_share_above_a_million() -> None:
    schema = statement_schema()
    text = statement_xml(_document()).decode()
    assert schema.validate(etree.fromstring(text.encode()))
    as_decimal = text.replace("<AmountMicros>691041</AmountMicros>", "<AmountMicros>0.691041</AmountMicros>", 1)
    assert as_decimal != text and not schema.validate(etree.fromstring(as_decimal.encode()))
    too_big = text.replace("<SharePpm>400000</SharePpm>", "<SharePpm>1000001</SharePpm>", 1)
    assert too_big != text and not schema.validate(etree.fromstring(too_big.encode()))
