"""Store-style workbooks for the spreadsheet tests, built with openpyxl as a store's export would be:
numbers as number cells (binary floats), the sales month as a date cell."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from typing import Any

import openpyxl

NUMERIC = ("Quantity", "Customer Price", "Partner Share")


def workbook_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def store_rows_from_csv(text: str) -> list[list[Any]]:
    """The CSV's rows as a store's Excel export holds them: numbers as floats, months as dates."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    rows: list[list[Any]] = [header]
    for raw in reader:
        row: list[Any] = []
        for name, cell in zip(header, raw, strict=True):
            if name in NUMERIC and cell:
                row.append(float(cell))
            elif name == "Sales Month" and cell:
                year, month = cell.split("-")
                row.append(date(int(year), int(month), 1))
            else:
                row.append(cell or None)
        rows.append(row)
    return rows


def with_stored_number(data: bytes, written: str, stored: str) -> bytes:
    """The workbook with a number cell's stored text replaced: openpyxl writes 15 significant
    digits, Excel keeps up to 17 (0.1 + 0.2 is stored as 0.30000000000000004)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                body = body.replace(f"<v>{written}</v>".encode(), f"<v>{stored}</v>".encode())
            target.writestr(item, body)
    return out.getvalue()
