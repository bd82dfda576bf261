"""The catalogue CSV template (docs/catalogue-csv.md): one row per track, for labels without DDEX.

Rows sharing a UPC form one release; release columns must agree on every row of it. The rows
become the same DeliveryMessage an ERN message would, and go through the same validation.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

from ledger.ingest.assembly import MessageParts, RawRelease, assemble, inline_party
from ledger.ingest.delivery import (
    WORLDWIDE,
    Credit,
    DealSummary,
    DeliveredRecording,
    DeliveredWork,
    DeliveryMessage,
    Share,
    Writer,
)
from ledger.ingest.fields import iso_date, release_type
from ledger.ingest.report import ValidationReport
from ledger.ingest.validate import validate_message

REQUIRED = (
    "upc",
    "release_title",
    "release_type",
    "release_date",
    "label",
    "release_artist",
    "track_number",
    "isrc",
    "track_title",
    "track_artist",
    "duration",
)
OPTIONAL = (
    "featured_artists",
    "producers",
    "iswc",
    "work_title",
    "writers",
    "master_split",
    "territories",
    "excluded_territories",
    "use_types",
    "commercial_models",
)
RELEASE_COLUMNS = (
    "release_title",
    "release_type",
    "release_date",
    "label",
    "release_artist",
    "territories",
    "excluded_territories",
    "use_types",
    "commercial_models",
)
DEFAULT_USE_TYPES = ("OnDemandStream", "PermanentDownload")
DEFAULT_COMMERCIAL_MODELS = ("SubscriptionModel", "PayAsYouGoModel")
Row = dict[str, str]


def csv_duration_ms(value: str) -> int | None:
    """ "3:25", "1:02:03" or seconds ("205", "205.5") in whole milliseconds, rounded down."""
    raw = value.strip()
    if not re.fullmatch(r"\d+(?::\d{1,2}){0,2}(?:\.\d+)?", raw):
        return None
    seconds = Decimal(0)
    try:
        for part in raw.split(":"):
            seconds = seconds * 60 + Decimal(part)
    except InvalidOperation:
        return None
    return int(seconds * 1000)


def _list(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[;,]", value) if v.strip()]


def _territories(value: str) -> list[str]:
    return [t.upper() for t in re.split(r"[\s;,]+", value) if t]


def _shares(parts: MessageParts, value: str, where: str, problems: list[str]) -> list[Share]:
    shares = []
    for item in _list(value.replace(",", ";")):
        name, _, pct = item.rpartition(":")
        if not name.strip() or not pct.strip():
            problems.append(f"{where}: master_split item {item!r} is not party:share%")
            continue
        shares.append(Share(inline_party(parts, name), pct.strip()))
    return shares


def _writers(parts: MessageParts, value: str, where: str, problems: list[str]) -> list[Writer]:
    writers = []
    for item in [v.strip() for v in value.split(";") if v.strip()]:
        name, ipi, pct = ([*item.split(":"), "", ""])[:3]
        if not name.strip():
            problems.append(f"{where}: writer {item!r} has no name")
            continue
        ref = inline_party(parts, name, ipi=ipi.strip() or None)
        writers.append(Writer(ref, "composer_lyricist", pct.strip() or None))
    return writers


def _recording(parts: MessageParts, row: Row, ref: str, problems: list[str]) -> DeliveredRecording:
    where = f"row {row['_row']}"
    credits = [Credit(inline_party(parts, row["track_artist"]), "main_artist")]
    credits += [Credit(inline_party(parts, n), "featured_artist") for n in _list(row.get("featured_artists", ""))]
    credits += [Credit(inline_party(parts, n), "producer") for n in _list(row.get("producers", ""))]
    writers = _writers(parts, row.get("writers", ""), where, problems)
    work_ref = None
    if row.get("iswc") or writers:
        work_ref = f"W{row['_row']}"
        title = row.get("work_title") or row["track_title"]
        parts.works[work_ref] = DeliveredWork(work_ref, title, row.get("iswc") or None, tuple(writers))
    if row["duration"] and csv_duration_ms(row["duration"]) is None:
        problems.append(f"{where}: duration {row['duration']!r} is not mm:ss or seconds")
    return DeliveredRecording(
        reference=ref,
        isrc=row["isrc"],
        title=row["track_title"],
        display_artist=row["track_artist"],
        duration_ms=csv_duration_ms(row["duration"]),
        work_ref=work_ref,
        credits=tuple(dict.fromkeys(credits)),
        master_split=tuple(_shares(parts, row.get("master_split", ""), where, problems)),
    )


def _disagreements(rows: list[Row]) -> list[str]:
    first = rows[0]
    return [
        f"row {row['_row']}: {column} {row.get(column, '')!r} differs from row "
        f"{first['_row']} ({first.get(column, '')!r})"
        for row in rows[1:]
        for column in RELEASE_COLUMNS
        if row.get(column, "") != first.get(column, "")
    ]


def _ordered_tracks(rows: list[Row], problems: list[str]) -> list[Row]:
    numbered = []
    for row in rows:
        number = row["track_number"]
        if not (number.isascii() and number.isdigit()) or int(number) < 1:
            problems.append(f"row {row['_row']}: track_number {number!r} is not 1, 2, 3…")
        numbered.append((int(number) if number.isascii() and number.isdigit() else 0, row))
    seen = [n for n, _ in numbered]
    for n in sorted({n for n in seen if seen.count(n) > 1}):
        problems.append(f"track_number {n} appears {seen.count(n)} times")
    return [row for _, row in sorted(numbered, key=lambda pair: pair[0])]


def _release(parts: MessageParts, index: int, rows: list[Row]) -> None:
    first, problems = rows[0], _disagreements(rows)
    reference = f"R{index}"
    refs = []
    for row in _ordered_tracks(rows, problems):
        ref = f"A{row['_row']}"
        parts.recordings[ref] = _recording(parts, row, ref, problems)
        refs.append(ref)
    territories = _territories(first.get("territories", ""))
    excluded = _territories(first.get("excluded_territories", ""))
    territories = territories or [WORLDWIDE]
    parts.deals[reference] = [
        DealSummary(
            commercial_models=tuple(_list(first.get("commercial_models", ""))) or DEFAULT_COMMERCIAL_MODELS,
            use_types=tuple(_list(first.get("use_types", ""))) or DEFAULT_USE_TYPES,
            territories=tuple(territories),
            excluded_territories=tuple(excluded),
            starts_on=iso_date(first["release_date"]),
        )
    ]
    if first["release_date"] and iso_date(first["release_date"]) is None:
        problems.append(f"release_date {first['release_date']!r} is not YYYY-MM-DD")
    parts.releases.append(
        RawRelease(
            reference=reference,
            upc=first["upc"],
            title=first["release_title"],
            release_type=release_type([first["release_type"]], compilation=False),
            display_artist=first["release_artist"],
            label_ref=inline_party(parts, first["label"]) if first["label"] else None,
            release_on=iso_date(first["release_date"]),
            track_refs=refs,
            territories=territories,
            excluded_territories=excluded,
            problems=problems,
        )
    )


def _rows(reader: csv.DictReader[str], parts: MessageParts) -> list[Row]:
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if missing:
        parts.problems.append(f"missing columns: {', '.join(missing)}")
    if unknown:
        parts.problems.append(f"unknown columns: {', '.join(unknown)}")
    if missing:
        return []
    rows = []
    for number, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
        if None in raw:
            parts.problems.append(f"row {number}: more values than columns")
        if any(row.values()):
            rows.append({**row, "_row": str(number)})
    return rows


def _open_text(source: str | Path | TextIO) -> TextIO:
    if isinstance(source, Path):
        return io.StringIO(source.read_text(encoding="utf-8-sig"))
    if isinstance(source, str):
        return io.StringIO(source)
    return source


def parse_catalogue_csv(
    source: str | Path | TextIO,
    *,
    sender_dpid: str,
    sender_name: str,
    created_at: datetime,
    message_id: str = "",
) -> DeliveryMessage:
    """Rows to a DeliveryMessage; `source` is CSV text, a path or an open text file."""
    text = _open_text(source).read()
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    parts = MessageParts(
        ern_version="csv",
        sender_dpid=sender_dpid,
        sender_name=sender_name,
        message_id=message_id or f"CSV-{digest}",
        created_at=created_at,
    )
    rows = _rows(csv.DictReader(io.StringIO(text)), parts)
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row["upc"], []).append(row)
    for index, group in enumerate(groups.values(), start=1):
        _release(parts, index, group)
    return assemble(parts)


def check_catalogue_csv(
    source: str | Path | TextIO,
    *,
    sender_dpid: str,
    sender_name: str,
    created_at: datetime,
    now: datetime | None = None,
    source_name: str = "",
) -> tuple[DeliveryMessage, ValidationReport]:
    message = parse_catalogue_csv(source, sender_dpid=sender_dpid, sender_name=sender_name, created_at=created_at)
    name = source_name or (str(source) if isinstance(source, Path) else "")
    return message, validate_message(message, source=name, now=now)
