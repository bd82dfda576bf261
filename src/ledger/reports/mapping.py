"""A source's column mapping: which column holds what, and the values every line shares.

Versioned as `ReportSource.MappingVersionSet` events; an import names the version it read with.
"""

from __future__ import annotations

from typing import Any

from ledger.domain.identifiers import InvalidIdentifier, parse_currency, parse_territory
from ledger.domain.party import DomainError
from ledger.domain.sales_report import ID_KINDS, RIGHT_TYPES

FORMATS = ("csv", "tsv", "xlsx", "dsr")  # xlsx: any workbook (xlsx, xls, ods)
# Standard fields a mapping may name a column for, besides the identifiers.
VALUE_FIELDS = ("title", "artist", "units", "gross", "net", "currency", "territory", "period", "right_type", "rate")
FIELDS = (*ID_KINDS, *VALUE_FIELDS)
# Fields that may instead be one value for every line of the source's reports.
DEFAULTABLE = ("currency", "territory", "period", "right_type", "rate")


def validate_mapping(mapping: dict[str, Any]) -> dict[str, Any]:
    """A clean mapping, or DomainError naming what is wrong."""
    if not isinstance(mapping, dict):
        raise DomainError("a column mapping is a JSON object")
    unknown = sorted(set(mapping) - {"format", "columns", "defaults", "target_currency", "delimiter", "sheet"})
    if unknown:
        raise DomainError(f"column mapping: unknown key(s) {', '.join(unknown)}")
    fmt = mapping.get("format", "csv")
    if fmt not in FORMATS:
        raise DomainError(f"column mapping: format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    columns = mapping.get("columns", {})
    defaults = mapping.get("defaults", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) and v for v in columns.values()):
        raise DomainError("column mapping: columns maps a field to a non-empty column name")
    if not isinstance(defaults, dict) or not all(isinstance(v, str) for v in defaults.values()):
        raise DomainError("column mapping: defaults maps a field to a text value")
    bad = sorted(set(columns) - set(FIELDS))
    if bad:
        raise DomainError(f"column mapping: unknown field(s) {', '.join(bad)}; fields are {', '.join(FIELDS)}")
    bad = sorted(set(defaults) - set(DEFAULTABLE))
    if bad:
        raise DomainError(f"column mapping: no default possible for {', '.join(bad)}")
    _check_defaults(defaults)
    target = mapping.get("target_currency")
    clean: dict[str, Any] = {
        "format": fmt,
        "columns": dict(sorted(columns.items())),
        "defaults": dict(sorted(defaults.items())),
    }
    try:
        if target:
            clean["target_currency"] = parse_currency(str(target))
    except InvalidIdentifier as exc:
        raise DomainError(f"column mapping: target_currency: {exc}") from exc
    if fmt != "dsr":
        if not any(k in columns for k in ID_KINDS):
            raise DomainError(f"column mapping: name at least one identifier column ({', '.join(ID_KINDS)})")
        for needed in ("units", "gross"):
            if needed not in columns:
                raise DomainError(f"column mapping: a column for {needed} is required")
        for needed in ("currency", "territory", "right_type"):
            if needed not in columns and needed not in defaults:
                raise DomainError(f"column mapping: {needed} needs a column or a default")
        delimiter = mapping.get("delimiter", "\t" if fmt == "tsv" else ",")
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise DomainError("column mapping: delimiter is one character")
        clean["delimiter"] = delimiter
        sheet = mapping.get("sheet")
        if sheet is not None:
            if not isinstance(sheet, str) or not sheet:
                raise DomainError("column mapping: sheet names a workbook's sheet (text); absent, the first")
            clean["sheet"] = sheet
    elif "right_type" not in defaults:
        raise DomainError("column mapping: a DSR source needs defaults.right_type (the right it pays for)")
    return clean


def _check_defaults(defaults: dict[str, str]) -> None:
    try:
        if "currency" in defaults:
            parse_currency(defaults["currency"])
        if "territory" in defaults:
            parse_territory(defaults["territory"], allow_worldwide=True)
    except InvalidIdentifier as exc:
        raise DomainError(f"column mapping: default {exc}") from exc
    if "right_type" in defaults and defaults["right_type"] not in RIGHT_TYPES:
        raise DomainError(f"column mapping: right_type must be one of {', '.join(RIGHT_TYPES)}")
