"""Reads of the sums kept for the dashboard (migrations 0016, 0018): a party's earnings per
recording × territory (all time) and per day, plays per recording × source × territory (all
time). Each answers from a few rows per party what the per-day tables answer from hundreds of
thousands for a large label — the same figures (the folds keep them equal to the per-day rows
summed), in a number of rows that does not grow with the months of history."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from projections.catalogue_view import epoch_us as _epoch_us
from projections.db import ViewDB
from projections.queries import account_name
from projections.rollups import bucket_label

__all__ = ["earned_by", "earned_by_bucket", "earned_totals", "plays_by"]


_COLUMNS = {"isrc": "isrc", "territory": "territory", "source": "source"}


def earned_by(db: ViewDB, party: str, column: str, currency: str) -> dict[str, int]:
    """The party's earnings in `currency`, all time, per recording (`isrc`) or `territory`."""
    col = _COLUMNS[column]
    rows = db.execute(
        f"SELECT {col}, SUM(amount_micros) FROM earn_party_total WHERE account = ? AND currency = ? GROUP BY {col}",
        [account_name(party), currency],
    )
    return {str(k): int(a) for k, a in rows}


def earned_totals(db: ViewDB, party: str, start: datetime | None = None) -> dict[str, int]:
    """The party's earnings per currency, all time or from `start` (a day boundary)."""
    lo = _epoch_us(start) if start else 0
    rows = db.execute(
        "SELECT currency, SUM(amount_micros) FROM earn_party_day WHERE account = ? AND day_us >= ? GROUP BY currency",
        [account_name(party), lo],
    )
    return {str(c): int(a) for c, a in rows}


def earned_by_bucket(db: ViewDB, party: str, by: str, start: datetime | None = None) -> list[dict[str, Any]]:
    """The party's earnings per day, week, month or year from `start`: [{bucket, currency, amount_micros}]."""
    lo = _epoch_us(start) if start else 0
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for day, currency, amount in db.execute(
        "SELECT day_us, currency, amount_micros FROM earn_party_day WHERE account = ? AND day_us >= ?",
        [account_name(party), lo],
    ):
        cells[(bucket_label(int(day), by), str(currency))] += int(amount)
    return [{"bucket": b, "currency": c, "amount_micros": a} for (b, c), a in sorted(cells.items())]


def plays_by(db: ViewDB, isrcs: list[str], column: str) -> dict[str, list[int]]:
    """Plays and counted plays of these recordings, all time, per `isrc`, `territory` or `source`."""
    if not isrcs:
        return {}
    col = _COLUMNS[column]
    rows = db.execute(
        f"SELECT {col}, SUM(plays), SUM(counted_plays) FROM stats_total "
        f"WHERE isrc IN ({','.join('?' * len(isrcs))}) GROUP BY {col}",
        isrcs,
    )
    return {str(k): [int(p), int(c)] for k, p, c in rows}
