"""Every CSV the product writes goes through `csv_writer`: no cell can run as a formula.

A spreadsheet opening a CSV runs a cell that starts with `=`, `+`, `-` or `@` (and, in some, a
TAB or CR before one of them) as a formula — `=HYPERLINK(...)` in a title a distributor
delivered becomes a link in an accountant's sheet (CSV injection, OWASP). Such a cell is
written with a leading single quote, which spreadsheets show as text and do not display. A
plain number (`-1.50`, `+3`) is not a formula and stays as it is, so amounts stay numbers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def safe_cell(value: Any) -> Any:
    """`value` as a CSV cell no spreadsheet runs: a formula-like text gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeCsvWriter:
    """csv.writer with every cell passed through `safe_cell`."""

    def __init__(self, out: _Writable, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: _Writable, **options: Any) -> SafeCsvWriter:
    return SafeCsvWriter(out, **options)
