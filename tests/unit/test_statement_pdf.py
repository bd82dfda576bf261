"""Statement PDFs show a party's name in any script: Latin, Cyrillic, Chinese, Japanese, Korean."""

from __future__ import annotations

import logging
import re
import zlib
from pathlib import Path
from typing import Any

import pytest

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
        write_pdf(_doc(), name, path)
    assert not [r for r in caplog.records if "missing" in r.getMessage()], caplog.text
    pdf = path.read_bytes()
    assert {ord(c) for c in name if not c.isspace()} <= _unicode_maps(pdf)
    cjk = any(ord(c) >= 0x1100 for c in name)
    # The 16 MB CJK font is embedded (as a subset) only when the text needs it.
    assert (b"NotoSansCJK" in pdf) is cjk
