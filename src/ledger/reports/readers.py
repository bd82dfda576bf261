"""Read a report file into one Arrow table of text columns named by the standard fields.

CSV/TSV go through the source's column mapping (pyarrow's CSV reader, every column as text);
a DDEX DSR flat file (Basic Audio Profile, tab-separated records) is read record by record: each
SU sales/usage record becomes a line, with the identifiers of its Block's AS (resource) or RE
(release) record and the territory and currency of the SY summary it names.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ledger.domain.money import parse_decimal_micros
from ledger.reports.mapping import FIELDS
from ledger.usage.readers import UnreadableFile


class UnreadableReport(UnreadableFile):
    """The file as a whole cannot be read (not the layout it claims, a column missing, control
    totals that do not hold); the API answers 422 `unreadable-file` as for usage files."""


@dataclass
class ReadReport:
    table: pa.Table  # line_no + FIELDS, all text (null where absent)
    period: str = ""  # the report's own usage period, when it states one (DSR HEAD)
    header: dict[str, Any] = field(default_factory=dict)


def text_table(columns: dict[str, list[str | None] | pa.Array], rows: int) -> pa.Table:
    arrays = {"line_no": pa.array(np.arange(1, rows + 1, dtype=np.int64))}  # not a Python range: 0.7 s a million
    for name in (*FIELDS, "error"):
        found = columns.get(name)
        arrays[name] = pa.nulls(rows, pa.string()) if found is None else pa.array(found, pa.string())
    return pa.table(arrays)


def read_delimited(data: bytes, mapping: dict[str, Any]) -> ReadReport:
    """CSV or TSV with a header row; the mapping's columns must all be there."""
    wanted = mapping["columns"]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=mapping.get("delimiter", ","), newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in wanted.values()},
                include_columns=list(dict.fromkeys(wanted.values())),
                # Only an empty cell is empty: pyarrow's default null markers (N/A, #N/A, NULL,
                # NaN, …) stay text and are checked as such — an absent net is the gross, so a net
                # of "N/A" read as absent would pay out the gross.
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowKeyError, KeyError) as exc:
        missing = _missing_columns(data, mapping)
        if missing:
            raise UnreadableReport(f"missing column(s) the mapping names: {', '.join(missing)}") from exc
        raise UnreadableReport(f"not a {mapping['format'].upper()} file this mapping reads: {exc}") from exc
    columns = {name: table.column(col).combine_chunks() for name, col in wanted.items()}
    return ReadReport(text_table(columns, table.num_rows))


def _missing_columns(data: bytes, mapping: dict[str, Any]) -> list[str]:
    try:
        reader = pacsv.open_csv(
            io.BytesIO(data),
            parse_options=pacsv.ParseOptions(delimiter=mapping.get("delimiter", ",")),
            convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=True),
        )
        present = set(reader.schema.names)
    except (pa.ArrowInvalid, pa.ArrowKeyError):
        return []
    return sorted({c for c in mapping["columns"].values() if c not in present})


# Cells read from each DSR record (0 = the record type), in the Basic Audio Profile's order.
_SY = {"id": 1, "territory": 6, "currency": 10}
_AS = {"block": 1, "ref": 2, "dsp_id": 3, "isrc": 4, "title": 5, "artist": 7}
_RE = {"block": 1, "ref": 2, "dsp_id": 3, "proprietary": 4, "icpn": 6, "artist": 7, "title": 8}
_SU = {"block": 1, "summary": 2, "release_ref": 4, "resource_ref": 5, "units": 7, "gross": 8, "net": 9, "currency": 10}


def _cell(record: list[str], index: int) -> str | None:
    value = record[index].strip() if index < len(record) else ""
    return value or None


def read_dsr(data: bytes, source: str) -> ReadReport:
    """A DSR flat file: HEAD, SYxx summaries, Blocks of REyy / ASzz / SUnn records, FOOT."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableReport(f"a DSR file is UTF-8: {exc}") from exc
    records = [line.split("\t") for line in text.splitlines() if line.strip()]
    if not records or records[0][0] != "HEAD" or records[-1][0] != "FOOT":
        raise UnreadableReport("a DSR file starts with a HEAD record and ends with a FOOT record")
    head = records[0]
    summaries: dict[str, list[str]] = {}
    resources: dict[tuple[str, str], list[str]] = {}
    releases: dict[tuple[str, str], list[str]] = {}
    columns: dict[str, list[str | None]] = {name: [] for name in (*FIELDS, "error", "_summary")}
    for record in records[1:-1]:
        kind = record[0][:2]
        if kind == "SY":
            summaries[record[_SY["id"]]] = record
        elif kind == "AS":
            resources[(record[_AS["block"]], record[_AS["ref"]])] = record
        elif kind == "RE":
            releases[(record[_RE["block"]], record[_RE["ref"]])] = record
        elif kind == "SU":
            _su_line(record, summaries, resources, releases, columns, source)
        else:
            # An unknown record type is kept as a line of its own, to be quarantined with its
            # reason (never skipped silently).
            _append(columns, {"title": "\t".join(record)[:200], "error": f"unknown record type {record[0][:20]!r}"})
    _check_controls(records, summaries, columns)
    table = text_table(columns, len(columns["units"]))
    return ReadReport(
        table, period=(head[8].strip()[:7] if len(head) > 8 else ""), header={"message_id": _cell(head, 4)}
    )


def _micros_or_none(text: str | None) -> int | None:
    try:
        return parse_decimal_micros(text) if text else 0
    except ValueError:
        return None


def _check_controls(
    records: list[list[str]], summaries: dict[str, list[str]], columns: dict[str, list[str | None]]
) -> None:
    """FOOT's record count and each summary's usages, gross and net against its SU records: a file
    whose control totals do not hold is refused whole (nothing of it is recorded)."""
    foot = records[-1]
    if len(foot) > 1 and foot[1].strip() and foot[1].strip() != str(len(records)):
        raise UnreadableReport(f"FOOT says {foot[1].strip()} records, the file has {len(records)}")
    sums: dict[str, list[int]] = {}
    for summary, units, gross, net in zip(
        columns["_summary"], columns["units"], columns["gross"], columns["net"], strict=True
    ):
        if summary is None:
            continue
        acc = sums.setdefault(summary, [0, 0, 0])
        for index, value in enumerate((units, gross, net)):
            parsed = (
                (int(value) if value and value.lstrip("+-").isdigit() else None)
                if index == 0
                else _micros_or_none(value)
            )
            if parsed is None:
                return  # a malformed SU cell: that line is quarantined with its reason instead
            acc[index] += parsed
    for summary_id, record in summaries.items():
        stated = (_cell(record, 8), _cell(record, 11), _cell(record, 12))
        if not all(stated):
            continue
        try:
            expected = [
                int(stated[0] or 0),
                parse_decimal_micros(stated[1] or ""),
                parse_decimal_micros(stated[2] or ""),
            ]
        except ValueError as exc:
            raise UnreadableReport(f"summary {summary_id}: {exc}") from exc
        if sums.get(summary_id, [0, 0, 0]) != expected:
            raise UnreadableReport(
                f"summary {summary_id} states usages, gross and net {stated}, its SU records add up to "
                f"{sums.get(summary_id, [0, 0, 0])} (micro-units): the file is inconsistent"
            )


def _append(columns: dict[str, list[str | None]], values: dict[str, str | None]) -> None:
    for name in columns:
        columns[name].append(values.get(name))


def _su_line(
    record: list[str],
    summaries: dict[str, list[str]],
    resources: dict[tuple[str, str], list[str]],
    releases: dict[tuple[str, str], list[str]],
    columns: dict[str, list[str | None]],
    source: str,
) -> None:
    block = record[_SU["block"]] if len(record) > 1 else ""
    summary = summaries.get(_cell(record, _SU["summary"]) or "", [])
    values: dict[str, str | None] = {
        "units": _cell(record, _SU["units"]),
        "gross": _cell(record, _SU["gross"]),
        "net": _cell(record, _SU["net"]),
        "currency": _cell(record, _SU["currency"]) or (_cell(summary, _SY["currency"]) if summary else None),
        "territory": _cell(summary, _SY["territory"]) if summary else None,
        "_summary": _cell(record, _SU["summary"]) if summary else None,
    }
    resource = resources.get((block, _cell(record, _SU["resource_ref"]) or ""))
    release = releases.get((block, _cell(record, _SU["release_ref"]) or ""))
    if resource is not None:
        dsp = _cell(resource, _AS["dsp_id"])
        values |= {
            "isrc": _cell(resource, _AS["isrc"]),
            "proprietary_id": f"{source}:{dsp}" if dsp else None,
            "title": _cell(resource, _AS["title"]),
            "artist": _cell(resource, _AS["artist"]),
        }
    elif release is not None:
        dsp = _cell(release, _RE["proprietary"]) or _cell(release, _RE["dsp_id"])
        icpn = _cell(release, _RE["icpn"])
        values |= {
            "upc": icpn,
            "grid": dsp.removeprefix("GRID:") if dsp and dsp.upper().startswith("GRID:") else None,
            "proprietary_id": f"{source}:{dsp}" if dsp and not dsp.upper().startswith("GRID:") else None,
            "title": _cell(release, _RE["title"]),
            "artist": _cell(release, _RE["artist"]),
        }
    if not summary:
        values["error"] = f"SU record names summary {_cell(record, _SU['summary'])!r}, which is not above it"
    elif resource is None and release is None:
        values["error"] = "SU record names no resource or release of its Block"
    _append(columns, values)
