"""Statement exports: CSV, PDF and XML per party, one JSON document, one Parquet dataset of all lines,
and a DDEX DSR flat file per label or distributor (Basic Audio Profile; `statements.dsr`).
Money stays integer micro-units in data files; decimals appear only where people read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ledger.domain.money import format_micros
from ledger.safe_csv import csv_writer
from projections.statements.close import PeriodStatements
from projections.statements.display import Letterhead, known_at_words, platform_name
from projections.statements.dsr import DsrDetails, write_statement_dsr
from projections.statements.statement import SUMMARY_FIELDS
from projections.statements.xml_export import write_xml

FORMATS = ("csv", "json", "parquet", "pdf", "dsr", "xml")
SECTIONS = ("earnings", "escrow_releases", "adjustments")
LINE_SCHEMA = pa.schema(
    [
        ("account", pa.string()),
        ("section", pa.string()),
        ("currency", pa.string()),
        ("original_period", pa.string()),
        ("isrc", pa.string()),
        ("title", pa.string()),
        ("kind", pa.string()),
        ("territory", pa.string()),
        ("right", pa.string()),
        ("right_ppm", pa.int64()),
        ("right_percent", pa.string()),  # exact decimal text, never a float
        ("share_ppm", pa.int64()),
        ("share_percent", pa.string()),
        ("split_version", pa.string()),  # "2", or "1, 3" when the share was the same in both
        ("units", pa.int64()),
        ("gross_micros", pa.int64()),
        ("amount_micros", pa.int64()),
        ("dispute", pa.string()),
    ]
)
# The CSV's line columns, the same as the Parquet columns (plus decimal gross and amount).
CSV_LINE_COLUMNS = [
    "section",
    "currency",
    "original_period",
    "isrc",
    "title",
    "kind",
    "territory",
    "right",
    "right_ppm",
    "right_percent",
    "share_ppm",
    "share_percent",
    "split_version",
    "units",
    "gross",
    "gross_micros",
    "amount",
    "amount_micros",
    "dispute",
]


def statement_lines(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every line of one statement, flat, with its section and currency."""
    for currency, sec in doc["currencies"].items():
        for section in SECTIONS:
            for line in sec[section]:
                yield {
                    "account": doc["account"],
                    "section": section,
                    "currency": currency,
                    "original_period": line.get("original_period", doc["period"]),
                    "isrc": line["isrc"],
                    "title": line.get("title", ""),
                    "kind": line["kind"],
                    "territory": line["territory"],
                    "right": line["right"],
                    "right_ppm": line["right_ppm"],
                    "right_percent": line.get("right_percent", ""),
                    "share_ppm": line["share_ppm"],
                    "share_percent": line.get("share_percent", ""),
                    "split_version": line.get("split_version", ""),
                    "units": line.get("units"),
                    "gross_micros": line.get("gross_micros"),
                    "amount_micros": line["amount_micros"],
                    "dispute": line.get("dispute"),
                }


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def write_csv(doc: dict[str, Any], path: Path, letterhead: Letterhead | None = None) -> None:
    with path.open("w", newline="") as fh:
        out = csv_writer(fh)
        out.writerow(["statement", doc["account"], "period", doc["period"], "as_of_position", doc["as_of_position"]])
        if letterhead is not None:
            out.writerow(["platform", letterhead.platform, "payee", letterhead.payee])
            out.writerow(["known", known_at_words(letterhead.known_at, doc["as_of_position"])])
        out.writerow(["currency", "opening", "earnings", "escrow_releases", "adjustments", "payouts", "closing"])
        for cur, s in doc["currencies"].items():
            out.writerow(
                [
                    cur,
                    *(format_micros(s[k]) for k in SUMMARY_FIELDS),
                ]
            )
        out.writerow([])
        out.writerow(CSV_LINE_COLUMNS)
        for line in statement_lines(doc):
            gross = line["gross_micros"]
            row = {
                **line,
                "gross": None if gross is None else format_micros(gross),
                "amount": format_micros(line["amount_micros"]),
            }
            out.writerow(["" if row.get(c) is None else row[c] for c in CSV_LINE_COLUMNS])
        for cur, s in doc["currencies"].items():
            for p in s["payouts"]:
                payout = {
                    "section": "payout",
                    "currency": cur,
                    "amount": format_micros(-p["amount_micros"]),
                    "amount_micros": -p["amount_micros"],
                }
                out.writerow([payout.get(c, "") for c in CSV_LINE_COLUMNS])


def write_parquet(statements: PeriodStatements, path: Path) -> int:
    rows = [line for doc in statements.documents.values() for line in statement_lines(doc)]
    table = pa.Table.from_pylist(rows, schema=LINE_SCHEMA)
    pq.write_table(table, path)
    return int(table.num_rows)


def write_json(statements: PeriodStatements, path: Path) -> None:
    document = {
        "period": str(statements.period),
        "as_of_position": statements.as_of,
        "hashes": statements.hashes,
        "statements": statements.documents,
    }
    path.write_text(json.dumps(document, sort_keys=True, indent=1) + "\n")


def export_period(
    statements: PeriodStatements,
    formats: list[str],
    out_dir: Path,
    dsr_parties: set[str] | None = None,
    names: dict[str, str] | None = None,
    dsr_details: dict[str, DsrDetails] | None = None,
    created_at: datetime | None = None,
    known_at: datetime | None = None,
) -> list[str]:
    """Write the requested formats under out_dir; return the written paths.

    The DSR file (`projections.statements.dsr`) is written for the parties in `dsr_parties`, with
    their `dsr_details`, stamped `created_at` (default: the end of the period). `names`: party
    key → name (the payee); `known_at`: when the as-of position was recorded (shown in words).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    period, written = statements.period, []
    parties = {a: d for a, d in statements.documents.items() if a.startswith("party:")}
    for fmt in formats:
        if fmt == "json":
            path = out_dir / f"statements-{period}.json"
            write_json(statements, path)
            written.append(str(path))
        elif fmt == "parquet":
            path = out_dir / f"statement-lines-{period}.parquet"
            write_parquet(statements, path)
            written.append(str(path))
        else:
            for account, doc in sorted(parties.items()):
                key = account.removeprefix("party:")
                if fmt == "dsr" and key not in (dsr_parties or set()):
                    continue
                path = out_dir / f"statement-{period}-{_safe(key)}.{'tsv' if fmt == 'dsr' else fmt}"
                letterhead = Letterhead(platform_name(), (names or {}).get(key, key), known_at)
                if fmt == "csv":
                    write_csv(doc, path, letterhead)
                elif fmt == "xml":
                    write_xml(doc, path, statements.hashes.get(account))
                elif fmt == "pdf":
                    from projections.statements.pdf import write_pdf  # fpdf: 0.25 s, paid only for PDFs

                    write_pdf(doc, letterhead, path)
                else:
                    stamp = created_at or period.end
                    write_statement_dsr(doc, period, path, (dsr_details or {}).get(key), stamp)
                written.append(str(path))
    return written
