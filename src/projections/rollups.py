"""Stats and earnings rolled up by time (minute … year) and grouped by recording, release, artist,
territory or source, with top-N ranking — what the dashboard's charts and `royalty stats` draw.

Plays come from `stats_minute` (or `stats_source_hour` when the source matters); earnings from
`earn_account_day`. Weeks are ISO weeks (from Monday 00:00 UTC); months and years are calendar
ones in UTC. A recording on two releases counts in both when grouping by release.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from ledger.domain.period import InvalidTime
from projections.catalogue_view import epoch_us
from projections.db import ViewDB
from projections.queries import EARNINGS_BY, account_name, as_of, iso

MINUTE_US = 60_000_000
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
TIME_BUCKETS = ("minute", "hour", "day", "week", "month", "year")
STATS_GROUPS = ("recording", "release", "artist", "territory", "source")
EARNINGS_GROUPS = ("recording", "release", "territory", "kind")
_SQL_STEP = {"minute": MINUTE_US, "hour": HOUR_US, "day": DAY_US, "week": DAY_US, "month": DAY_US, "year": DAY_US}
_GROUP_COLUMN = {
    "recording": "s.isrc",
    "territory": "s.territory",
    "source": "s.source",
    "release": "t.upc",
    "artist": "r.display_artist",
    "kind": "s.kind",
}
_GROUP_JOIN = {
    "release": " JOIN cat_release_tracks t ON t.isrc = s.isrc",
    "artist": " JOIN cat_recordings r ON r.isrc = s.isrc",
}


def bucket_label(us: int, by: str) -> str:
    """The bucket an instant (epoch µs, already cut to a day or finer) falls in: its start as
    ISO 8601 UTC (weeks start on Monday), YYYY-MM for months, YYYY for years."""
    when = datetime.fromtimestamp(us // 1_000_000, tz=UTC)
    if by == "week":
        return iso(us - when.weekday() * DAY_US)
    if by == "month":
        return when.strftime("%Y-%m")
    if by == "year":
        return when.strftime("%Y")
    return iso(us)


def _check(by: str, group: str | None, groups: tuple[str, ...]) -> None:
    if by not in TIME_BUCKETS and by != "total":
        raise ValueError(f"by {by!r}: expected one of {', '.join(TIME_BUCKETS)}")
    if group is not None and group not in groups:
        raise ValueError(f"group {group!r}: expected one of {', '.join(groups)}")


def _bounds(start: datetime | None, end: datetime | None) -> tuple[int, int]:
    """[start, end) in epoch µs; a window that holds no instant is a mistake, not an empty series."""
    if start and end and start >= end:
        window = f"start {start.isoformat()} is not before end {end.isoformat()}"
        raise InvalidTime(f"{window}: the window [start, end) is empty")
    return (epoch_us(start) if start else 0), (epoch_us(end) if end else 2**62)


def _labels(db: ViewDB, group: str | None, keys: set[str]) -> dict[str, str]:
    if not keys or group not in ("recording", "release"):
        return {}
    table, column = ("cat_recordings", "isrc") if group == "recording" else ("cat_releases", "upc")
    marks = ",".join("?" * len(keys))
    return {
        str(k): str(t)
        for k, t in db.execute(f"SELECT {column}, title FROM {table} WHERE {column} IN ({marks})", sorted(keys))
    }


def _stats_table(by: str, by_source: bool, start: datetime | None, end: datetime | None) -> tuple[str, str]:
    """The coarsest table that answers exactly: per day for day…year, per hour, else per
    minute (bounds inside a day or an hour need the finer one; source figures are per hour)."""

    def aligned(step: int) -> bool:
        return all(t is None or epoch_us(t) % step == 0 for t in (start, end))

    if by in ("day", "week", "month", "year") and aligned(DAY_US):
        return "stats_day", "s.day_us"
    if by_source or (by != "minute" and aligned(HOUR_US)):
        return "stats_source_hour", "s.hour_us"
    return "stats_minute", "s.minute_us"


def _isrc_filter(isrcs: list[str] | None) -> tuple[str, list[Any]]:
    if isrcs is None:
        return "", []
    if not isrcs:
        return " AND 1 = 0", []
    return f" AND s.isrc IN ({','.join('?' * len(isrcs))})", list(isrcs)


def stats(
    db: ViewDB,
    *,
    by: str = "day",
    group: str | None = None,
    isrcs: list[str] | None = None,
    territory: str | None = None,
    source: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    top: int | None = None,
) -> dict[str, Any]:
    """Plays, counted plays, units and gross per time bucket (and group), plus the group ranking.

    `isrcs` limits the recordings counted (a release's tracks, a party's catalogue); None: all.
    """
    _check(by, group, STATS_GROUPS)
    by_source = group == "source" or source is not None
    if by_source and by == "minute":
        raise ValueError("stats by source are kept per hour: use by=hour or coarser")
    table, time_col = _stats_table(by, by_source, start, end)
    lo, hi = _bounds(start, end)
    where = f"{time_col} >= ? AND {time_col} < ?"
    params: list[Any] = [lo, hi]
    clause, values = _isrc_filter(isrcs)
    where += clause
    params += values
    for column, value in (("territory", territory), ("source", source)):
        if value:
            where += f" AND s.{column} = ?"
            params.append(value)
    step = _SQL_STEP.get(by, DAY_US)
    key = _GROUP_COLUMN[group] if group else "''"
    rows = db.execute(
        f"SELECT {time_col} - ({time_col} % {step}), {key}, s.currency, SUM(s.plays), SUM(s.counted_plays), "
        f"SUM(s.units), SUM(s.gross_micros) FROM {table} s{_GROUP_JOIN.get(group or '', '')} WHERE {where} "
        f"GROUP BY {time_col} - ({time_col} % {step}), {key + ', ' if group else ''}s.currency",
        params,
    )
    cells: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    ranking: dict[str, dict[str, Any]] = {}
    for bucket, k, currency, *figures in rows:
        acc = cells[(bucket_label(int(bucket), by), str(k), str(currency))]
        rank = ranking.setdefault(str(k), {"plays": 0, "counted_plays": 0, "units": 0, "gross_micros": {}})
        for i, value in enumerate(figures):
            acc[i] += int(value)
        rank["plays"] += int(figures[0])
        rank["counted_plays"] += int(figures[1])
        rank["units"] += int(figures[2])
        rank["gross_micros"][currency] = rank["gross_micros"].get(currency, 0) + int(figures[3])
    order = sorted(ranking, key=lambda k: (-ranking[k]["plays"], -sum(ranking[k]["gross_micros"].values()), k))
    kept = set(order[:top] if top else order)
    labels = _labels(db, group, kept)
    series = [
        {"bucket": b, "currency": cur, "plays": f[0], "counted_plays": f[1], "units": f[2], "gross_micros": f[3]}
        | ({"key": k, "label": labels.get(k, k)} if group else {})
        for (b, k, cur), f in sorted(cells.items())
        if k in kept
    ]
    return {
        "by": by,
        "group": group,
        "top": top,
        "as_of": as_of(db, "stats"),
        "series": series,
        "ranking": [{"key": k, "label": labels.get(k, k), **ranking[k]} for k in order if k in kept] if group else [],
        "total_plays": sum(r["plays"] for r in ranking.values()),
    }


def earnings(
    db: ViewDB,
    party: str,
    *,
    by: str = "total",
    group: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    isrcs: list[str] | None = None,
    territory: str | None = None,
    top: int | None = None,
) -> dict[str, Any]:
    """What an account earned per time bucket (or in total) and group, per currency."""
    _check(by, group, EARNINGS_GROUPS)
    if by in ("minute", "hour"):
        raise ValueError(f"earnings are kept per day: by {by!r} is finer; use day, week, month or year")
    lo, hi = _bounds(start, end)
    where = "s.account = ? AND s.day_us >= ? AND s.day_us < ?"
    params: list[Any] = [account_name(party), lo, hi]
    clause, values = _isrc_filter(isrcs)
    where += clause
    params += values
    if territory:
        where += " AND s.territory = ?"
        params.append(territory)
    key = _GROUP_COLUMN[group] if group else "''"
    rows = db.execute(
        f"SELECT s.day_us, {key}, s.currency, SUM(s.amount_micros) FROM earn_account_day s"
        f"{_GROUP_JOIN.get(group or '', '')} WHERE {where} GROUP BY s.day_us, {key + ', ' if group else ''}s.currency",
        params,
    )
    cells: dict[tuple[str, str, str], int] = defaultdict(int)
    ranking: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for day, k, currency, amount in rows:
        bucket = "total" if by == "total" else bucket_label(int(day), by)
        cells[(bucket, str(k), str(currency))] += int(amount)
        ranking[str(k)][str(currency)] += int(amount)
        if group != "release":  # a recording on two releases is in both; the total counts it once
            totals[str(currency)] += int(amount)
    if group == "release":
        totals = defaultdict(
            int, earnings(db, party, start=start, end=end, isrcs=isrcs, territory=territory)["totals_micros"]
        )
    order = sorted(ranking, key=lambda k: (-sum(ranking[k].values()), k))
    kept = set(order[:top] if top else order)
    labels = _labels(db, group, kept)
    return {
        "account": account_name(party),
        "by": by,
        "group": group,
        "top": top,
        "as_of": as_of(db, "earnings"),
        "lines": [
            {"bucket": b, "currency": cur, "amount_micros": amount}
            | ({"key": k, "label": labels.get(k, k)} if group else {})
            for (b, k, cur), amount in sorted(cells.items())
            if k in kept
        ],
        "ranking": [
            {"key": k, "label": labels.get(k, k), "amount_micros": dict(ranking[k])} for k in order if k in kept
        ]
        if group
        else [],
        "totals_micros": dict(totals),
    }


__all__ = ["EARNINGS_BY", "EARNINGS_GROUPS", "STATS_GROUPS", "TIME_BUCKETS", "earnings", "stats"]


class UnknownSubject(LookupError):
    """An ISRC, UPC, party or artist the catalogue view does not know (a 404, a non-zero exit)."""


def resolve_subject(db: ViewDB, subject: str) -> tuple[str, list[str], str]:
    """An ISRC or a UPC → (kind, its recordings, title); UnknownSubject when it names nothing."""
    text = subject.strip().upper()
    if text.isdigit() and len(text) in (12, 13, 14):
        found = db.execute("SELECT title FROM cat_releases WHERE upc = ?", [text])
        if not found:
            raise UnknownSubject(f"unknown release: no UPC {text} in the catalogue")
        tracks = db.execute("SELECT isrc FROM cat_release_tracks WHERE upc = ? ORDER BY track_no", [text])
        return "release", [str(i) for (i,) in tracks], str(found[0][0])
    if len(text) == 12 and text[:2].isalpha() and text.isalnum():
        found = db.execute("SELECT title FROM cat_recordings WHERE isrc = ?", [text])
        if not found:
            raise UnknownSubject(f"unknown recording: no ISRC {text} in the catalogue")
        return "recording", [text], str(found[0][0])
    raise UnknownSubject(f"{subject!r} is neither an ISRC (12 characters) nor a UPC (12–14 digits)")


def artist_recordings(db: ViewDB, artist: str) -> list[str]:
    rows = db.execute("SELECT isrc FROM cat_recordings WHERE LOWER(display_artist) = ? ORDER BY isrc", [artist.lower()])
    if not rows:
        raise UnknownSubject(f"unknown artist: no recording has the display artist {artist!r}")
    return [str(i) for (i,) in rows]


def party_of_account(account: str) -> str | None:
    """The party key an account names (`aria`, `party:aria`); None for any other account (platform,
    coop-fund, escrow:…, suspense:…, pool:…, tax:…)."""
    name = account_name(account)
    return name.removeprefix("party:") if name.startswith("party:") else None
