"""Sales reports as spreadsheets (xlsx through python-calamine), read with the source's CSV column
mapping: number cells become exact micro-units without float arithmetic, date cells and Excel
serials become periods, corrupt workbooks are refused with their reason. SQLite only: past the
reader a workbook's lines take the CSV's path to the store, run on both backends in
test_reports.py."""

from __future__ import annotations

import io
from datetime import date, datetime
from uuid import UUID

import openpyxl
import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.sales_report import SalesReport
from ledger.reports.commands import set_mapping, set_rates
from ledger.reports.importer import UnreadableReport, import_report
from ledger.reports.queries import list_quarantine, list_reports
from ledger.store.config import StoreConfig
from projections.statements.money import verify_money_equation
from tests.report_workbooks import store_rows_from_csv, with_stored_number, workbook_bytes
from tests.reports_helpers import FIXTURES, R1, STORE_MAPPING, T, catalogue

STORE_CSV = (FIXTURES / "store-2026-01.csv").read_bytes()
HEADER = list(STORE_MAPPING["columns"].values())


@pytest.fixture
def app(sqlite_config: StoreConfig):
    ledger = RoyaltyLedger(sqlite_config, clock=lambda: T(2026, 2, 10))
    catalogue(ledger)
    set_rates(ledger, {"USD/EUR": "0.92"}, T(2025, 1, 1), "test", "t")
    yield ledger
    ledger.close()


def _report(app: RoyaltyLedger, report_id: str) -> SalesReport:
    report = app.repository.get(UUID(report_id))
    assert isinstance(report, SalesReport)
    return report


def _lines_digest(app: RoyaltyLedger, report_id: str) -> str:
    return _report(app, report_id).lines_sha256


def _row(**cells: object) -> list[object]:
    by_column = {STORE_MAPPING["columns"][k]: v for k, v in cells.items()}
    return [by_column.get(name) for name in HEADER]


def _line(isrc: str = R1, **cells: object) -> list[object]:
    base = {"isrc": isrc, "territory": "FR", "period": date(2026, 1, 1), "units": 1.0, "gross": 1.5}
    return _row(**{"currency": "EUR", "right_type": "master", **base, **cells})


def test_a_store_workbook_reads_to_exactly_the_lines_of_the_same_csv(app):
    workbook = workbook_bytes({"Sales": store_rows_from_csv(STORE_CSV.decode())})
    from_xlsx = import_report(app, workbook, source="store", actor="t", file_name="store.xlsx")
    from_csv = import_report(app, STORE_CSV, source="store", actor="t", file_name="store.csv")
    assert (from_xlsx.lines, from_xlsx.quarantined) == (3, {"malformed_isrc": 1, "unknown_territory": 1})
    assert (from_xlsx.totals, from_xlsx.conversions) == (from_csv.totals, from_csv.conversions)
    # The accepted lines' canonical form (every amount in micro-units) is byte for byte the CSV's.
    assert _lines_digest(app, from_xlsx.report_id) == _lines_digest(app, from_csv.report_id)
    assert (_report(app, from_xlsx.report_id).file_format, _report(app, from_csv.report_id).file_format) == (
        "xlsx",
        "csv",
    )
    assert len(list_reports(app)) == 2
    assert import_report(app, workbook, source="store", actor="t").already_imported
    assert verify_money_equation(app, app.config)["ok"]


def test_the_docs_example_workbook_is_the_store_csv_of_the_same_month(app):
    from_xlsx = import_report(app, (FIXTURES / "store-2026-01.xlsx").read_bytes(), source="store", actor="t")
    from_csv = import_report(app, STORE_CSV, source="store", actor="t")
    assert _lines_digest(app, from_xlsx.report_id) == _lines_digest(app, from_csv.report_id)


def test_number_cells_become_exact_micro_units_or_are_quarantined_never_rounded(app):
    rows = [
        HEADER,
        _line(gross=2.97, net=2.079, units=3.0),  # binary floats that are not these decimals
        _line(gross=0.25),  # stored as 0.30000000000000004 (below): finer than a micro-unit
        _line(gross=1e-7),  # 0.0000001 (repr "1e-07"): finer than a micro-unit
        _line(gross=123456.654321),  # six places: kept exactly
        _line(units=2.5),  # half a unit is no count
        _line(period=46023.0),  # an Excel date serial: 2026-01-01
        _line(period=datetime(2026, 1, 15, 13, 30)),  # a date-time cell: its day
        [None] * len(HEADER),  # a blank row is no line
        _line(isrc=None),  # no identifier: quarantined with its reason
    ]
    data = with_stored_number(workbook_bytes({"Sales": rows}), "0.25", "0.30000000000000004")
    result = import_report(app, data, source="store", actor="t")
    reasons = {q["line_no"]: (q["reason"], q["detail"]) for q in list_quarantine(app)}
    assert reasons == {
        2: ("malformed_gross", "gross '0.30000000000000004' has more than 6 decimal places"),
        3: ("malformed_gross", "gross '0.0000001' has more than 6 decimal places"),
        5: ("malformed_units", "units '2.5' is not an integer"),
        8: ("no_identifier", "none of isrc, platform_id, proprietary_id, iswc, upc, grid is given"),
    }
    assert result.lines == 4
    gross = 2_970_000 + 123_456_654_321 + 1_500_000 + 1_500_000
    net = 2_079_000 + 123_456_654_321 + 1_500_000 + 1_500_000
    assert result.totals == {"EUR": {"gross": gross, "net": net, "service_fee": gross - net}}
    assert result.period == "2026-01"


def test_a_mapping_may_name_the_sheet_and_the_first_sheet_is_the_default(app):
    sheets = {"Summary": [["nothing", "here"]], "Sales": [HEADER, _line(gross=4.0)]}
    data = workbook_bytes(sheets)
    with pytest.raises(UnreadableReport, match="missing column"):
        import_report(app, data, source="store", actor="t")
    set_mapping(app, "store", {**STORE_MAPPING, "sheet": "Sales"}, "the sales sheet", "t")
    assert import_report(app, data, source="store", actor="t").totals["EUR"]["gross"] == 4_000_000
    set_mapping(app, "store", {**STORE_MAPPING, "sheet": "Missing"}, "wrong", "t")
    other = workbook_bytes({**sheets, "Sales": [HEADER, _line(gross=5.0)]})
    with pytest.raises(UnreadableReport, match=r"no sheet 'Missing' \(its sheets: Summary, Sales\)"):
        import_report(app, other, source="store", actor="t")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04" + b"\x00" * 64, "not a readable xlsx workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "not a readable xls workbook"),
    ],
)
def test_a_corrupt_workbook_is_refused_with_its_reason_and_nothing_is_recorded(app, data, message):
    head = app.head_position()
    with pytest.raises(UnreadableReport, match=message):
        import_report(app, data, source="store", actor="t")
    assert app.head_position() == head


def test_a_truncated_workbook_is_refused_and_an_xlsx_source_refuses_text(app):
    whole = workbook_bytes({"Sales": [HEADER, _line()]})
    head = app.head_position()
    with pytest.raises(UnreadableReport, match="not a readable xlsx workbook"):
        import_report(app, whole[: len(whole) // 2], source="store", actor="t")
    set_mapping(app, "store", {**STORE_MAPPING, "format": "xlsx"}, "workbooks only", "t")
    head = app.head_position()
    with pytest.raises(UnreadableReport, match="not a workbook"):
        import_report(app, STORE_CSV, source="store", actor="t")
    assert app.head_position() == head


def test_an_error_cell_or_a_formula_without_its_result_is_quarantined_as_what_it_holds(app):
    """python-calamine reads both as empty; the line names the error or the formula instead of a
    missing value. The sheet starts at B3, so the XML's cell references are offset."""
    rows = [
        HEADER,
        _line(gross="#DIV/0!"),  # openpyxl stores an error string as an error cell (t="e")
        _line(isrc="#N/A"),
        _line(net="=1/0"),  # a formula: openpyxl stores no result, as a script's export may
        _line(gross=None),  # truly blank: still missing
        _line(gross=2.0),
    ]
    book = openpyxl.Workbook()
    sheet = book.active
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.cell(row=3 + r, column=2 + c, value=value)
    assert sheet.cell(row=4, column=2 + HEADER.index("Customer Price")).data_type == "e"
    out = io.BytesIO()
    book.save(out)
    result = import_report(app, out.getvalue(), source="store", actor="t")
    reasons = {q["line_no"]: (q["reason"], q["detail"]) for q in list_quarantine(app)}
    assert {n: reason for n, (reason, _) in reasons.items()} == {
        1: "malformed_gross",
        2: "malformed_isrc",
        3: "malformed_net",
        4: "missing_gross",
    }
    assert "'#DIV/0!'" in reasons[1][1] and "'#N/A'" in reasons[2][1] and "'=1/0'" in reasons[3][1]
    assert result.lines == 1
