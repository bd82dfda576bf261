"""Reads of the sums kept for the dashboard (migration 0016): a party's earnings per month ×
recording × territory and per day, plays per recording × month. Each answers from a few rows per
party what the per-day tables answer from hundreds of thousands for a large label — the same
figures (the fold keeps them equal to the per-day rows summed)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from projections.catalogue_view import epoch_us as _epoch_us
from projections.db import ViewDB
from projections.queries import _account
from projections.rollups import bucket_label

__all__ = ["earned_by_bucket", "earned_cells", "earned_totals", "play_cells"]


def earned_cells(db: ViewDB, party: str) -> list[tuple[str, str, str, int]]:
    """(recording, territory, currency, amount) for the party, all time."""
    rows = db.execute(
        "SELECT isrc, territory, currency, SUM(amount_micros) FROM earn_party_month WHERE account = ? "
        "GROUP BY isrc, territory, currency",
        [_account(party)],
    )
    return [(str(i), str(t), str(c), int(a)) for i, t, c, a in rows]


def earned_totals(db: ViewDB, party: str, start: datetime | None = None) -> dict[str, int]:
    """The party's earnings per currency, all time or from `start` (a day boundary)."""
    lo = _epoch_us(start) if start else 0
    rows = db.execute(
        "SELECT currency, SUM(amount_micros) FROM earn_party_day WHERE account = ? AND day_us >= ? GROUP BY currency",
        [_account(party), lo],
    )
    return {str(c): int(a) for c, a in rows}


def earned_by_bucket(db: ViewDB, party: str, by: str, start: datetime | None = None) -> list[dict[str, Any]]:
    """The party's earnings per day, week, month or year from `start`: [{bucket, currency, amount_micros}]."""
    lo = _epoch_us(start) if start else 0
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for day, currency, amount in db.execute(
        "SELECT day_us, currency, amount_micros FROM earn_party_day WHERE account = ? AND day_us >= ?",
        [_account(party), lo],
    ):
        cells[(bucket_label(int(day), by), str(currency))] += int(amount)
    return [{"bucket": b, "currency": c, "amount_micros": a} for (b, c), a in sorted(cells.items())]


def play_cells(db: ViewDB, isrcs: list[str]) -> list[tuple[str, str, str, int, int]]:
    """(recording, territory, source, plays, counted plays) for these recordings, all time."""
    if not isrcs:
        return []
    rows = db.execute(
        "SELECT isrc, territory, source, SUM(plays), SUM(counted_plays) FROM stats_month "
        f"WHERE isrc IN ({','.join('?' * len(isrcs))}) GROUP BY isrc, territory, source",
        isrcs,
    )
    return [(str(i), str(t), str(s), int(p), int(c)) for i, t, s, p, c in rows]
