"""Read a spreadsheet report (xlsx, xls, ods) into the same text table as a CSV: python-calamine's
one home.

A spreadsheet stores numbers as binary floats, and money must never pass through float
arithmetic (DESIGN.md "Money"). A number cell is therefore turned into text through its shortest
round-trip form (`repr`, e.g. 2.97 → "2.97", 3.0 → "3") and from there read like any CSV cell: a
value with more places than micro-units (0.1 + 0.2 = 0.30000000000000004, 1e-7) is quarantined
by the usual checks as having more than 6 decimal places, never rounded. A date cell becomes
YYYY-MM-DD; in the `period` column a bare number is taken as an Excel date serial (days since
1899-12-30).

python-calamine reads an error cell (`#DIV/0!`, `#N/A`) and a formula whose result the file does
not store as empty, like a blank cell (python-calamine issue 105). In an xlsx workbook such cells
are found again in the sheet's XML when a mapped cell read empty, and the line is quarantined with
what the cell holds (`gross '#DIV/0!' is not a decimal`, `gross '=SUM(B2:B9)' …`) instead of as a
missing value.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import python_calamine
from lxml import etree

from ledger.reports.readers import ReadReport, UnreadableReport, text_table

_ZIP = b"PK\x03\x04"  # xlsx, xlsm, xlsb, ods
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # xls (BIFF8)
_ODS = b"application/vnd.oasis.opendocument.spreadsheet"
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01, counting Excel's phantom 1900-02-29
_LAST_SERIAL = 2_958_465  # 9999-12-31


def spreadsheet_kind(data: bytes) -> str | None:
    """'xlsx', 'xls' or 'ods' when the bytes are a workbook's container, else None (text)."""
    if data.startswith(_OLE):
        return "xls"
    if data.startswith(_ZIP):
        return "ods" if _ODS in data[:200] else "xlsx"
    return None


def _number_text(value: float) -> str:
    """The shortest decimal that reads back as this float, without exponent; whole → integer."""
    exact = Decimal(repr(value))
    if exact == exact.to_integral_value():
        return str(int(exact))
    return format(exact.normalize(), "f")


def _serial_date(value: float) -> str:
    if not 1 <= value <= _LAST_SERIAL:
        raise ValueError(value)
    return (_EXCEL_EPOCH + timedelta(days=int(value))).isoformat()


def _cell_text(value: Any, as_date: bool) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):  # before int: a bool is an int in Python
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | int):
        if as_date:
            try:
                return _serial_date(float(value))
            except ValueError:
                pass  # not a serial: the period check quarantines the text with its reason
        try:
            return _number_text(float(value))
        except (InvalidOperation, ValueError):  # inf / nan
            return str(value)
    return str(value)


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_OFFICE_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]+)")
# An uploaded workbook is untrusted XML: never an entity, a DTD or the network (as for DDEX).
_SAFE = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


def _cell_index(ref: str) -> tuple[int, int] | None:
    """'B2' → (1, 1): zero-based row and column."""
    found = _CELL_REF.fullmatch(ref)
    if not found:
        return None
    column = 0
    for letter in found.group(1):
        column = column * 26 + ord(letter) - 64
    return int(found.group(2)) - 1, column - 1


def _sheet_part(book: zipfile.ZipFile, name: str) -> str | None:
    """The zip member holding the named sheet's XML (workbook.xml names it, its rels locate it)."""
    parser = etree.XMLParser(**_SAFE)
    workbook = etree.fromstring(book.read("xl/workbook.xml"), parser)
    rel_id = next((s.get(f"{_OFFICE_REL}id") for s in workbook.iter(f"{_MAIN}sheet") if s.get("name") == name), None)
    rels = etree.fromstring(book.read("xl/_rels/workbook.xml.rels"), parser)
    target = next((r.get("Target") for r in rels.iter(f"{_PACKAGE_REL}Relationship") if r.get("Id") == rel_id), None)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def xlsx_unread_cells(data: bytes, sheet: str) -> dict[tuple[int, int], str]:
    """(row, column) → what the cell holds, for the cells python-calamine reads as empty though
    they are not: an error value (`#DIV/0!`) or a formula with no stored result (`=A1/B1`).
    Empty when the parts cannot be found (the cells then stay empty: missing_<field>)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            part = _sheet_part(book, sheet)
            if part is None:
                return {}
            found: dict[tuple[int, int], str] = {}
            with book.open(part) as xml:
                for _, cell in etree.iterparse(xml, tag=f"{_MAIN}c", **_SAFE):
                    value, formula = cell.find(f"{_MAIN}v"), cell.find(f"{_MAIN}f")
                    held = None
                    if cell.get("t") == "e" and value is not None and value.text:
                        held = value.text
                    elif (value is None or value.text is None) and formula is not None and formula.text:
                        held = "=" + formula.text
                    index = _cell_index(cell.get("r", "")) if held else None
                    if held and index:
                        found[index] = held
                    cell.clear(keep_tail=False)
            return found
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return {}


def _open_sheet(data: bytes, sheet: str | None, kind: str) -> tuple[list[list[Any]], str, tuple[int, int]]:
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(workbook.sheet_names)
        if sheet is not None and sheet not in names:
            raise UnreadableReport(f"the workbook has no sheet {sheet!r} (its sheets: {', '.join(names)})")
        if not names:
            raise UnreadableReport("the workbook has no sheet")
        name = sheet if sheet is not None else names[0]
        found = workbook.get_sheet_by_name(name)
        rows = [list(row) for row in found.to_python(skip_empty_area=True)]
        return rows, name, found.start or (0, 0)
    except UnreadableReport:
        raise
    except python_calamine.PasswordError as exc:
        raise UnreadableReport(f"the {kind} workbook is password-protected: save it without a password") from exc
    except Exception as exc:  # CalamineError, ZipError, XmlError…: the container or its XML is broken
        raise UnreadableReport(f"not a readable {kind} workbook (corrupt or truncated?): {exc}") from exc
    except BaseException as exc:
        # A Rust panic inside the reader surfaces as pyo3's PanicException, a BaseException: a
        # corrupt file must still be a clear refusal, not a crash. Interrupts pass through.
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise UnreadableReport(f"not a readable {kind} workbook (the reader failed on it): {exc}") from exc


def _blank(row: list[Any], index: int) -> bool:
    return index >= len(row) or row[index] is None or row[index] == ""


def read_spreadsheet(data: bytes, mapping: dict[str, Any], kind: str) -> ReadReport:
    """The mapping's sheet (default: the first), its first non-empty row the header."""
    rows, sheet_name, (top, left) = _open_sheet(data, mapping.get("sheet"), kind)
    if not rows:
        raise UnreadableReport("the sheet is empty: a header row is expected")
    header = [("" if h is None else str(h)).strip() for h in rows[0]]
    wanted = mapping["columns"]
    missing = sorted({c for c in wanted.values() if c not in header})
    if missing:
        raise UnreadableReport(f"missing column(s) the mapping names: {', '.join(missing)}")
    indexes = [header.index(name) for name in wanted.values()]
    if kind == "xlsx" and any(_blank(row, i) for row in rows[1:] for i in indexes):
        for (r, c), held in xlsx_unread_cells(data, sheet_name).items():
            r, c = r - top, c - left
            if 0 < r < len(rows) and c >= 0 and c in indexes and _blank(rows[r], c):
                rows[r] = rows[r] + [None] * (c + 1 - len(rows[r]))
                rows[r][c] = held
    # A blank row (a spreadsheet keeps formatted empty rows) is no line, as in a CSV.
    body = [row for row in rows[1:] if any(v is not None and v != "" for v in row)]
    columns: dict[str, list[str | None]] = {}
    for field, name in wanted.items():
        index = header.index(name)
        as_date = field == "period"
        columns[field] = [_cell_text(row[index] if index < len(row) else None, as_date) for row in body]
    return ReadReport(text_table(columns, len(body)), header={"sheet": mapping.get("sheet")})
