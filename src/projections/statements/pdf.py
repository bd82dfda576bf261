"""A statement as a PDF a person reads: summary, lines by recording, kind and territory, balance."""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fpdf import FPDF

from ledger.domain.money import format_micros
from projections.statements.statement import SUMMARY_FIELDS

_SECTIONS = (
    ("earnings", "Earnings"),
    ("escrow_releases", "Escrow releases"),
    ("adjustments", "Adjustments (earlier periods)"),
)


def _unicode_fonts() -> tuple[Path, Path] | None:
    """DejaVu Sans from matplotlib's data (a dependency), so any party name renders."""
    try:
        import matplotlib
    except ImportError:
        return None
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    return (regular, bold) if regular.exists() and bold.exists() else None


def _cjk_font() -> Path | None:
    """Noto Sans CJK (Chinese, Japanese and Korean in one font) from the mplfonts package's
    data, found without importing the package."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "NotoSansCJKsc-Regular.otf"
    return path if path.exists() else None


@functools.lru_cache(maxsize=1)
def _covered(font: Path) -> frozenset[int]:
    """The code points a font has glyphs for."""
    from fontTools.ttLib import TTFont  # fpdf2's own font reader

    with TTFont(str(font), lazy=True) as parsed:
        return frozenset(parsed.getBestCmap())


class _StatementPDF(FPDF):
    def __init__(self, texts: Iterable[str] = ()) -> None:
        """`texts`: what the document will show beyond numbers and codes (a party's name): a
        CJK fallback font is added only when DejaVu lacks one of their characters (loading
        the 16 MB font costs a quarter of a second per document)."""
        super().__init__(orientation="P", unit="mm", format="A4")
        fonts = _unicode_fonts()
        self.font_name = "Helvetica"  # a core font: Latin-1 only, see text_of()
        if fonts is not None:
            self.add_font("DejaVu", "", str(fonts[0]))
            self.add_font("DejaVu", "B", str(fonts[1]))
            self.font_name = "DejaVu"
            cjk = _cjk_font()
            wanted = {ord(c) for text in texts for c in text if ord(c) > 0x7F}
            if cjk is not None and wanted - _covered(fonts[0]):
                self.add_font("NotoSansCJK", "", str(cjk))
                self.set_fallback_fonts(["NotoSansCJK"], exact_match=False)

    def text_of(self, text: str) -> str:
        if self.font_name == "Helvetica":
            return text.encode("latin-1", "replace").decode("latin-1")
        return text

    def use(self, size: int, bold: bool = False) -> None:
        self.set_font(self.font_name, "B" if bold else "", size)

    def line_of(self, text: str, height: int = 5) -> None:
        self.cell(0, height, self.text_of(text), new_x="LMARGIN", new_y="NEXT")

    def row(self, cells: list[str], widths: list[int], bold: bool = False) -> None:
        self.use(8, bold)
        for text, width in zip(cells, widths, strict=True):
            self.cell(width, 5, self.text_of(text[:40]), border=0)
        self.ln(5)


def write_pdf(doc: dict[str, Any], name: str, path: Path) -> None:
    references = [p["reference"] or "" for s in doc["currencies"].values() for p in s["payouts"]]
    pdf = _StatementPDF([name, str(doc["account"]), *references])
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.use(14, bold=True)
    pdf.line_of(f"Royalty statement {doc['period']}", 8)
    pdf.use(9)
    pdf.line_of(f"{name} ({doc['account']}) - as known at log position {doc['as_of_position']}")
    pdf.ln(3)
    widths = [18, 28, 28, 28, 28, 28, 28]
    pdf.row(["Currency", "Opening", "Earnings", "Escrow rel.", "Adjustments", "Payouts", "Closing"], widths, bold=True)
    for cur, s in doc["currencies"].items():
        pdf.row([cur, *(format_micros(s[k]) for k in SUMMARY_FIELDS)], widths)
    line_widths = [16, 28, 18, 12, 20, 18, 26, 30]
    for cur, s in doc["currencies"].items():
        for section, title in _SECTIONS:
            if not s[section]:
                continue
            pdf.ln(3)
            pdf.use(10, bold=True)
            pdf.line_of(f"{title} - {cur}", 6)
            pdf.row(["Period", "ISRC", "Kind", "Terr.", "Right", "Units", "Gross", "Amount"], line_widths, bold=True)
            for line in s[section]:
                units, gross = line.get("units"), line.get("gross_micros")
                pdf.row(
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
            pdf.row(
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
