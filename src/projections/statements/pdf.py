"""A statement as a PDF a person reads: summary, lines by recording, kind and territory, balance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF

from ledger.domain.money import format_micros

_SECTIONS = (
    ("earnings", "Earnings"),
    ("escrow_releases", "Escrow releases"),
    ("adjustments", "Adjustments (earlier periods)"),
)


def _row(pdf: FPDF, cells: list[str], widths: list[int], bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 8)
    for text, width in zip(cells, widths, strict=True):
        pdf.cell(width, 5, text[:40], border=0)
    pdf.ln(5)


def write_pdf(doc: dict[str, Any], name: str, path: Path) -> None:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, f"Royalty statement {doc['period']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(
        0,
        5,
        f"{name} ({doc['account']}) - as known at log position {doc['as_of_position']}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    widths = [18, 28, 28, 28, 28, 28, 28]
    _row(
        pdf, ["Currency", "Opening", "Earnings", "Escrow rel.", "Adjustments", "Payouts", "Closing"], widths, bold=True
    )
    for cur, s in doc["currencies"].items():
        _row(
            pdf,
            [
                cur,
                *(
                    format_micros(s[k])
                    for k in (
                        "opening_micros",
                        "earnings_micros",
                        "escrow_release_micros",
                        "adjustment_micros",
                        "payout_micros",
                        "closing_micros",
                    )
                ),
            ],
            widths,
        )
    line_widths = [16, 28, 18, 12, 20, 18, 26, 30]
    for cur, s in doc["currencies"].items():
        for section, title in _SECTIONS:
            if not s[section]:
                continue
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 10)
            pdf.cell(0, 6, f"{title} - {cur}", new_x="LMARGIN", new_y="NEXT")
            _row(pdf, ["Period", "ISRC", "Kind", "Terr.", "Right", "Units", "Gross", "Amount"], line_widths, bold=True)
            for line in s[section]:
                units, gross = line.get("units"), line.get("gross_micros")
                _row(
                    pdf,
                    [
                        line.get("original_period", doc["period"]),
                        line["isrc"],
                        line["kind"],
                        line["territory"],
                        line["right"],
                        "" if units is None else str(units),
                        "" if gross is None else format_micros(gross),
                        format_micros(line["amount_micros"]),
                    ],
                    line_widths,
                )
        for payout in s["payouts"]:
            _row(
                pdf,
                [
                    "payout",
                    payout["reference"] or payout["payout_id"][:8],
                    "",
                    "",
                    "",
                    "",
                    "",
                    format_micros(-payout["amount_micros"]),
                ],
                line_widths,
            )
    pdf.output(str(path))
