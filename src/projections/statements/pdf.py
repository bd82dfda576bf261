"""A statement as a PDF a person reads and can check by hand.

Every page names the platform, the payee, the period and "as known at <date>, log position N",
and carries "page X of Y"; a table that runs onto the next page repeats its header there. Each
line shows the recording's title beside its ISRC, the account's share (%) of the right and the
split version; lines are subtotalled per recording, and each section totalled (the totals are
the summary's figures, so a reader can add them up).
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fpdf import FPDF

from ledger.domain.money import format_micros
from ledger.domain.period import Period
from projections.statements.display import Letterhead, known_at_words
from projections.statements.statement import SUMMARY_FIELDS

_SECTIONS = (  # (key, title, total's label)
    ("earnings", "Earnings", "Total earnings"),
    ("escrow_releases", "Escrow releases", "Total escrow releases"),
    ("adjustments", "Adjustments (earlier periods)", "Total adjustments"),
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
        super().__init__(orientation="L", unit="mm", format="A4")
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
        self.page_lines: list[str] = []  # the page header, drawn on every page
        self.footer_text = ""
        self.open_table: tuple[list[str], list[int]] | None = None  # the table being drawn, if any

    def text_of(self, text: str) -> str:
        if self.font_name == "Helvetica":
            return text.encode("latin-1", "replace").decode("latin-1")
        return text

    def use(self, size: int, bold: bool = False) -> None:
        self.set_font(self.font_name, "B" if bold else "", size)

    def line_of(self, text: str, height: int = 5) -> None:
        self.cell(0, height, self.text_of(text), new_x="LMARGIN", new_y="NEXT")

    def header(self) -> None:
        if not self.page_lines:
            return
        self.use(12, bold=True)
        self.line_of(self.page_lines[0], 7)
        self.use(9)
        for text in self.page_lines[1:]:
            self.line_of(text)
        self.ln(2)
        if self.open_table is not None:
            self._row(*self.open_table, bold=True)

    def footer(self) -> None:
        self.set_y(-10)
        self.use(8)
        self.cell(0, 5, self.text_of(f"{self.footer_text} - page {self.page_no()} of {{nb}}"), align="R")

    def fit(self, text: str, width: float) -> str:
        text = self.text_of(text)
        if self.get_string_width(text) <= width - 1:
            return text
        while text and self.get_string_width(text + "...") > width - 1:
            text = text[:-1]
        return text + "..."

    def _row(self, cells: list[str], widths: list[int], bold: bool = False) -> None:
        self.use(8, bold)
        for text, width in zip(cells, widths, strict=True):
            numeric = bool(text) and (text[0].isdigit() or text[0] == "-") and not bold
            self.cell(width, 5, self.fit(text, width), border=0, align="R" if numeric else "L")
        self.ln(5)

    def row(self, cells: list[str], widths: list[int], bold: bool = False) -> None:
        """One table row; at the foot of a page the row goes to the next, under the table's
        header again (header() redraws it)."""
        if self.will_page_break(5):
            self.add_page()
        self._row(cells, widths, bold)

    def start_table(self, title: str, columns: list[str], widths: list[int]) -> None:
        """A section title and its column header, kept together with a first row."""
        self.open_table = None
        if self.will_page_break(6 + 5 + 5 + 3):
            self.add_page()
        self.ln(3)
        self.use(10, bold=True)
        self.line_of(title, 6)
        self.open_table = (columns, widths)
        self._row(columns, widths, bold=True)

    def end_table(self) -> None:
        self.open_table = None


LINE_COLUMNS = [
    "Period",
    "ISRC",
    "Title",
    "Kind",
    "Terr.",
    "Right",
    "Right %",
    "Share %",
    "Split v.",
    "Units",
    "Gross",
    "Amount",
]
LINE_WIDTHS = [15, 25, 56, 17, 10, 19, 15, 15, 14, 17, 32, 32]
SUMMARY_COLUMNS = ["Currency", "Opening", "Earnings", "Escrow releases", "Adjustments", "Payouts", "Closing"]
SUMMARY_WIDTHS = [25, 35, 35, 35, 35, 35, 35]
PAYOUT_COLUMNS = ["Payout", "Reference", "Log position", "Amount"]
PAYOUT_WIDTHS = [70, 80, 30, 32]


def period_words(period: Period) -> str:
    """ "October 2026 (1 October 2026 to 31 October 2026, UTC)" """
    first, last = period.start, period.end - timedelta(days=1)
    return f"{first:%B %Y} ({first.day} {first:%B %Y} to {last.day} {last:%B %Y}, UTC)"


def _line_cells(line: dict[str, Any], period: str) -> list[str]:
    units, gross = line.get("units"), line.get("gross_micros")
    return [
        line.get("original_period", period),
        line["isrc"],
        line.get("title", ""),
        line["kind"],
        line["territory"],
        line["right"],
        line.get("right_percent", ""),
        line.get("share_percent", ""),
        line.get("split_version", ""),
        "" if units is None else str(units),
        "" if gross is None else format_micros(gross),
        format_micros(line["amount_micros"]),
    ]


def _subtotal(pdf: _StatementPDF, label: str, amount: int) -> None:
    """A bold row: the label across every column but the last, the amount in the last."""
    pdf.row([label, format_micros(amount)], [sum(LINE_WIDTHS[:-1]), LINE_WIDTHS[-1]], bold=True)


def _section(pdf: _StatementPDF, lines: list[dict[str, Any]], title: str, total_label: str, period: str) -> None:
    """The section's lines, a subtotal after each recording's run of lines, then its total."""
    pdf.start_table(title, LINE_COLUMNS, LINE_WIDTHS)
    run: tuple[str, str, str] | None = None  # (period, isrc, title) of the lines being summed
    run_total = 0
    for line in lines:
        key = (line.get("original_period", period), line["isrc"], line.get("title") or "")
        if run is not None and key != run:
            _subtotal(pdf, f"Subtotal {run[1]} {run[2]}", run_total)
            run_total = 0
        run = key
        run_total += line["amount_micros"]
        pdf.row(_line_cells(line, period), LINE_WIDTHS)
    if run is not None:
        _subtotal(pdf, f"Subtotal {run[1]} {run[2]}", run_total)
    _subtotal(pdf, total_label, sum(x["amount_micros"] for x in lines))
    pdf.end_table()


def write_pdf(doc: dict[str, Any], letterhead: Letterhead, path: Path) -> None:
    references = [p["reference"] or "" for s in doc["currencies"].values() for p in s["payouts"]]
    titles = [x.get("title") or "" for s in doc["currencies"].values() for sec, _, _ in _SECTIONS for x in s[sec]]
    pdf = _StatementPDF([letterhead.platform, letterhead.payee, str(doc["account"]), *references, *titles])
    pdf.set_auto_page_break(auto=True, margin=14)
    period = Period.parse(doc["period"])
    pdf.page_lines = [
        f"{letterhead.platform} - royalty statement {doc['period']}",
        f"Payee: {letterhead.payee} ({doc['account']})",
        f"Period: {period_words(period)}",
        "A" + known_at_words(letterhead.known_at, doc["as_of_position"])[1:],
    ]
    pdf.footer_text = f"{letterhead.payee} - statement {doc['period']}"
    pdf.add_page()
    pdf.start_table("Summary", SUMMARY_COLUMNS, SUMMARY_WIDTHS)
    for cur, s in doc["currencies"].items():
        pdf.row([cur, *(format_micros(s[k]) for k in SUMMARY_FIELDS)], SUMMARY_WIDTHS)
    pdf.end_table()
    for cur, s in doc["currencies"].items():
        for section, title, total in _SECTIONS:
            if s[section]:
                _section(pdf, s[section], f"{title} - {cur}", f"{total} {cur}", doc["period"])
        if s["payouts"]:
            pdf.start_table(f"Payouts - {cur}", PAYOUT_COLUMNS, PAYOUT_WIDTHS)
            for payout in s["payouts"]:
                cells = [payout["payout_id"], payout["reference"] or "", str(payout["position"])]
                pdf.row([*cells, format_micros(-payout["amount_micros"])], PAYOUT_WIDTHS)
            pdf.row(["Total payouts " + cur, "", "", format_micros(-s["payout_micros"])], PAYOUT_WIDTHS, bold=True)
            pdf.end_table()
        pdf.ln(2)
        pdf.use(10, bold=True)
        pdf.line_of(f"Closing balance {cur}: {format_micros(s['closing_micros'])}", 6)
    pdf.output(str(path))
