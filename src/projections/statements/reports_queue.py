"""The matching queue: report lines nothing matches as known now, grouped by source and identifier,
with the reason and — for a person to confirm, never applied by itself — recordings whose title
is the same as the line's."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from ledger.reports.store import parse_lines_csv, unpack_block
from ledger.royalties.history import RightsHistory
from ledger.store.config import StoreConfig
from projections.statements.reports import (
    _ID_COLUMNS,
    Identity,
    _query,
    match_line,
    read_identity,
    superseded_filter,
)

# Amounts from the reports' groups (what statements sum); a line's title and artist from the
# lines themselves, found by their report's position (the lines carry no source: migration 0033).
_UNMATCHED = (
    "SELECT source, "
    + ", ".join(_ID_COLUMNS)
    + ", target_currency, CAST(sum(lines) AS BIGINT), CAST(sum(units) AS BIGINT), "
    "CAST(sum(amount_micros) AS BIGINT), min(occurred_at_us) FROM report_line_groups l "
    "WHERE position <= {p}{superseded} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
)
_REPORTS = "SELECT DISTINCT position, source FROM report_line_groups l WHERE position <= {p}{superseded}"
# Which reports hold which identifier sets: only the reports with an unmatched one are read for
# titles (their lines are blocks to unpack and parse since migration 0034).
_GROUP_KEYS = (
    "SELECT DISTINCT position, source, "
    + ", ".join(_ID_COLUMNS)
    + " FROM report_line_groups l WHERE position <= {p}{superseded}"
)
_TITLES = (
    "SELECT r.source, "
    + ", ".join(f"l.{c}" for c in _ID_COLUMNS)
    + f", min(l.title), min(l.artist) FROM report_lines l JOIN ({_REPORTS}) r ON r.position = l.position "
    "GROUP BY 1, 2, 3, 4, 5, 6, 7"
)
# Reports since migration 0034 keep their lines as blocks of their canonical CSV: parsed here.
_BLOCKS = (
    "SELECT r.source, b.position, b.block_no, b.lines, b.codec, b.csv_size "
    f"FROM report_line_blocks b JOIN ({_REPORTS}) r ON r.position = b.position"
)
_WHAT = {
    "isrc": "ISRC {} is not a registered recording",
    "platform_id": "platform id {} names no recording",
    "proprietary_id": "proprietary id {} has no alias from a delivery and no link for this source",
    "iswc": "ISWC {} names no registered work with a recording",
    "upc": "UPC {} names no delivered release",
    "grid": "GRid {} names no delivered release",
}


def _titles(history: RightsHistory, as_of: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for isrc in history.titles:
        title = history.title_of(isrc, as_of).strip().casefold()
        if title:
            out.setdefault(title, []).append(isrc)
    return out


def _line_titles(
    config: StoreConfig, superseded: str, as_of: int, wanted: set[tuple[Any, ...]]
) -> dict[tuple[Any, ...], tuple[Any, Any]]:
    """(source, identifiers) → the least title and artist of the lines naming them, for the
    `wanted` keys; only the reports holding one of them are read."""
    found: dict[tuple[Any, ...], tuple[Any, Any]] = {}
    groups = _query(config, _GROUP_KEYS.replace("{superseded}", superseded), (as_of,))
    positions = sorted({int(r[0]) for r in groups if (str(r[1]), *r[2:8]) in wanted})
    if not positions:
        return found
    superseded += f" AND position IN ({', '.join(str(p) for p in positions)})"

    def add(key: tuple[Any, ...], title: Any, artist: Any) -> None:
        if key in wanted:
            old = found.get(key, (None, None))
            found[key] = (_least(old[0], title), _least(old[1], artist))

    for r in _query(config, _TITLES.replace("{superseded}", superseded), (as_of,)):
        add((str(r[0]), *r[1:7]), r[7], r[8])
    blocks: dict[tuple[str, int], list[tuple[int, bytes]]] = {}
    for src, position, block_no, data, codec, size in _query(
        config, _BLOCKS.replace("{superseded}", superseded), (as_of,)
    ):
        text = unpack_block(bytes(data), str(codec), None if size is None else int(size))
        blocks.setdefault((str(src), int(position)), []).append((int(block_no), text))
    tables = []
    for (src, _), parts in blocks.items():
        lines = parse_lines_csv(b"".join(data for _, data in sorted(parts)), (*_ID_COLUMNS, "title", "artist"))
        tables.append(lines.append_column("source", pa.repeat(pa.scalar(src, pa.string()), lines.num_rows)))
    if tables:
        grouped = pa.concat_tables(tables).group_by(["source", *_ID_COLUMNS], use_threads=False)
        table = grouped.aggregate([("title", "min"), ("artist", "min")])
        names = ("source", *_ID_COLUMNS, "title_min", "artist_min")
        for row in zip(*(table.column(c).to_pylist() for c in names), strict=True):
            add(tuple(row[:7]), row[7], row[8])
    return found


def _least(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def matching_queue(
    config: StoreConfig, history: RightsHistory, as_of: int, source: str | None = None
) -> list[dict[str, Any]]:
    """Unmatched identifier groups at `as_of`, largest amount first."""
    superseded = superseded_filter(config, as_of)
    rows = _query(config, _UNMATCHED.replace("{superseded}", superseded), (as_of,))
    identity: Identity = read_identity(config, max(history.upto, as_of))
    unmatched = []
    for row in rows:
        src, named = str(row[0]), dict(zip(_ID_COLUMNS, row[1:7], strict=True))
        if source is not None and src != source:
            continue
        if match_line(identity, history, src, named, as_of) is None:
            unmatched.append((src, named, row))
    if not unmatched:
        return []
    wanted = {(src, *row[1:7]) for src, _, row in unmatched}
    line_titles = _line_titles(config, superseded, as_of, wanted)
    titles = _titles(history, as_of)
    # One entry per source and first identifier: linking that identifier matches all its lines.
    queue: dict[tuple[str, Any], dict[str, Any]] = {}
    for src, named, row in unmatched:
        currency, lines, units, micros, _first_us = row[7:]
        title, artist = line_titles.get((src, *row[1:7]), (None, None))
        present = [(k, v) for k, v in named.items() if v]
        first = present[0] if present else None
        entry = queue.get((src, first))
        if entry is None:
            entry = queue[(src, first)] = {
                "source": src,
                "identifiers": dict(present),
                "link_kind": present[0][0] if present else None,
                "link_value": present[0][1] if present else None,
                "reason": f"unknown_{present[0][0]}" if present else "no_identifier",
                "detail": "; ".join(_WHAT[k].format(v) for k, v in present),
                "title": title,
                "artist": artist,
                "lines": 0,
                "units": 0,
                "amount_micros": {},
                "suggestions": sorted(titles.get((title or "").strip().casefold(), [])),
            }
        entry["lines"] += int(lines)
        entry["units"] += int(units)
        entry["amount_micros"][currency] = entry["amount_micros"].get(currency, 0) + int(micros)
    return sorted(queue.values(), key=lambda e: (-sum(e["amount_micros"].values()), e["source"], str(e["link_value"])))
