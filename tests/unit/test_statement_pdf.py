"""Statement PDFs a reader can check: a party's name in any script (Latin, Cyrillic, Chinese,
Japanese, Korean); on every page the platform, payee, period, "as known at" and "page X of Y";
table headers repeated on the next page; titles, shares and split versions on each line;
subtotals per recording and totals per section that add up."""

from __future__ import annotations

import logging
import re
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from projections.statements.display import Letterhead
from projections.statements.pdf import write_pdf
from projections.statements.statement import SUMMARY_FIELDS


def _doc() -> dict[str, Any]:
    summary: dict[str, Any] = dict.fromkeys(SUMMARY_FIELDS, 0)
    summary.update(earnings=[], escrow_releases=[], adjustments=[], payouts=[])
    return {"period": "2026-10", "account": "party-1", "as_of_position": 42, "currencies": {"EUR": summary}}


def _unicode_maps(pdf: bytes) -> set[int]:
    """Every code point the PDF's ToUnicode maps name (what a reader can copy out as text)."""
    found: set[int] = set()
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            text = zlib.decompress(stream)
        except zlib.error:
            text = stream  # stored as is
        if b"beginbfchar" in text:
            found.update(int(h, 16) for h in re.findall(rb"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]{4})>", text))
    return found


@pytest.mark.parametrize(
    "name", ["宇多田ヒカル", "방탄소년단", "王菲 (Faye Wong)", "Мумий Тролль & Björk"], ids=["ja", "ko", "zh", "latin"]
)
def test_every_character_of_the_party_name_has_a_glyph(
    name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "statement.pdf"
    with caplog.at_level(logging.WARNING):
        write_pdf(_doc(), Letterhead("Co-op", name), path)
    assert not [r for r in caplog.records if "missing" in r.getMessage()], caplog.text
    pdf = path.read_bytes()
    assert {ord(c) for c in name if not c.isspace()} <= _unicode_maps(pdf)
    cjk = any(ord(c) >= 0x1100 for c in name)
    # The 16 MB CJK font is embedded (as a subset) only when the text needs it.
    assert (b"NotoSansCJK" in pdf) is cjk


KNOWN_AT = datetime(2026, 12, 2, 14, 3, 59, tzinfo=UTC)
TITLES = {f"QZABC26000{n:02d}": f"Song number {n}" for n in range(1, 13)}


def _line(isrc: str, territory: str, share_ppm: int, version: str, amount: int) -> dict[str, Any]:
    return {
        "isrc": isrc,
        "title": TITLES[isrc],
        "kind": "stream",
        "territory": territory,
        "right": "master",
        "right_ppm": 560_000,
        "right_percent": "56",
        "share_ppm": share_ppm,
        "share_percent": f"{share_ppm / 10_000:g}",
        "split_version": version,
        "units": 3,
        "gross_micros": 3_000_000,
        "amount_micros": amount,
    }


def _long_doc() -> dict[str, Any]:
    """Twelve recordings × five territories, the first one's share changed mid-month (v1 60 %,
    v2 50 %: two lines per territory that differ only by share and version)."""
    earnings = []
    for n, isrc in enumerate(TITLES):
        for t, territory in enumerate(("DE", "FR", "GB", "NL", "US")):
            earnings.append(_line(isrc, territory, 600_000, "1", 1_000_000 + 1_001 * n + 7 * t))
            if n == 0:
                earnings.append(_line(isrc, territory, 500_000, "2", 800_000 + t))
    adjustments = [{**_line("QZABC2600003", "DE", 600_000, "1, 3", -250_000), "original_period": "2026-09"}]
    for line in adjustments:
        del line["units"], line["gross_micros"]
    total = sum(x["amount_micros"] for x in earnings)
    adjust = sum(x["amount_micros"] for x in adjustments)
    payouts = [{"payout_id": "p-1", "position": 1200, "amount_micros": 5_000_000, "reference": "tr_1"}]
    eur = {
        "opening_micros": 10_000_000,
        "earnings": earnings,
        "escrow_releases": [],
        "adjustments": adjustments,
        "payouts": payouts,
        "earnings_micros": total,
        "escrow_release_micros": 0,
        "adjustment_micros": adjust,
        "payout_micros": 5_000_000,
        "closing_micros": 10_000_000 + total + adjust - 5_000_000,
    }
    return {"period": "2026-10", "account": "party:ann", "as_of_position": 1234, "currencies": {"EUR": eur}}


def _pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def _amount(text: str) -> int:
    whole, _, frac = text.lstrip("-").partition(".")
    value = int(whole) * 1_000_000 + int(frac.ljust(6, "0"))
    return -value if text.startswith("-") else value


def test_every_page_names_platform_payee_period_position_and_its_number(tmp_path: Path) -> None:
    path = tmp_path / "statement.pdf"
    write_pdf(_long_doc(), Letterhead("Northern Co-op Music", "Ann Ämberg", KNOWN_AT), path)
    pages = _pages(path)
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert "Northern Co-op Music - royalty statement 2026-10" in text
        assert "Payee: Ann Ämberg (party:ann)" in text
        assert "Period: October 2026 (1 October 2026 to 31 October 2026, UTC)" in text
        assert "As known at 2 December 2026, 14:03 UTC, log position 1 234" in text
        assert f"page {number} of {len(pages)}" in text


def test_a_table_running_onto_the_next_page_repeats_its_header_there(tmp_path: Path) -> None:
    path = tmp_path / "statement.pdf"
    write_pdf(_long_doc(), Letterhead("Co-op", "Ann", KNOWN_AT), path)
    first, second = _pages(path)[:2]
    header = re.compile(r"Period\s*ISRC\s*Title\s*Kind\s*Terr\.\s*Right\s*Right %\s*Share %\s*Split v\.\s*Units")
    assert header.search(first) and header.search(second), second[:400]
    # page 2 continues the earnings table: its header comes before a line of it, under no new title
    assert "Earnings - EUR" in first and "Earnings - EUR" not in second
    assert re.search(r"2026-10\s*QZABC\d+\s*Song number", second.split("Split v.", 1)[1])


def test_lines_show_title_share_and_version_so_a_split_change_is_not_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "statement.pdf"
    write_pdf(_long_doc(), Letterhead("Co-op", "Ann", KNOWN_AT), path)
    text = "\n".join(_pages(path))
    before = re.findall(r"QZABC2600001\s*Song number 1\s*stream\s*DE\s*master\s*56\s*60\s*1\s*3", text)
    after = re.findall(r"QZABC2600001\s*Song number 1\s*stream\s*DE\s*master\s*56\s*50\s*2\s*3", text)
    assert len(before) == 1 and len(after) == 1
    assert re.search(r"2026-09\s*QZABC2600003\s*Song number 3\s*stream\s*DE\s*master\s*56\s*60\s*1, 3", text)


def test_subtotals_per_recording_and_section_totals_add_up(tmp_path: Path) -> None:
    doc = _long_doc()
    path = tmp_path / "statement.pdf"
    write_pdf(doc, Letterhead("Co-op", "Ann", KNOWN_AT), path)
    text = "\n".join(_pages(path))
    eur = doc["currencies"]["EUR"]
    subtotals = [
        (isrc, _amount(a)) for isrc, a in re.findall(r"Subtotal (QZABC\d+) Song number \d+\s*(-?\d+\.\d{6})", text)
    ]
    expected = [(isrc, sum(x["amount_micros"] for x in eur["earnings"] if x["isrc"] == isrc)) for isrc in TITLES]
    expected.append(("QZABC2600003", -250_000))  # the adjustments section's one recording
    assert subtotals == expected
    total = re.search(r"Total earnings EUR\s*(-?\d+\.\d{6})", text)
    assert total and _amount(total.group(1)) == eur["earnings_micros"] == sum(a for _, a in expected[:-1])
    adjusted = re.search(r"Total adjustments EUR\s*(-?\d+\.\d{6})", text)
    assert adjusted and _amount(adjusted.group(1)) == eur["adjustment_micros"]
    paid = re.search(r"Total payouts EUR\s*(-?\d+\.\d{6})", text)
    assert paid and _amount(paid.group(1)) == -5_000_000
    closing = re.search(r"Closing balance EUR: (-?\d+\.\d{6})", text)
    assert closing and _amount(closing.group(1)) == eur["closing_micros"]
