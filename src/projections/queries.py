"""Read-side queries shared by the CLI and the API: earnings, balances, stats, catalogue, lag.

Every function answers from the view tables as of the projector's position (reported beside
the figures), returns JSON-ready values — money as integer micro-units with a currency, times
as ISO 8601 UTC — and never reads the log row by row.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from ledger.application import RoyaltyLedger
from ledger.domain.availability import is_available
from ledger.domain.payout import Payout
from ledger.domain.period import Period, parse_utc
from ledger.domain.sales_report import TaxRemittance
from projections.catalogue_view import epoch_us
from projections.db import ViewDB
from projections.failures import list_failures
from projections.projector import APPLICATION_NAME, MODELS
from projections.projector import lag as projector_lag
from projections.stats_view import MINUTE_US

BUCKETS_US = {"minute": MINUTE_US, "hour": 60 * MINUTE_US, "day": 24 * 60 * MINUTE_US}
EARNINGS_BY = {"day": "day_us", "recording": "isrc", "territory": "territory", "kind": "kind", "currency": "currency"}


def iso(us: int) -> str:
    return datetime.fromtimestamp(us // 1_000_000, tz=UTC).isoformat().replace("+00:00", "Z")


BARE_ACCOUNTS = ("platform", "coop-fund")  # accounts named without a class prefix


def account_name(name: str) -> str:
    """The account a name means: `aria` → `party:aria`; `platform`, `coop-fund` and prefixed names
    (`party:…`, `escrow:…`, `suspense:…`, `pool:…`, `tax:…`) as they are."""
    return name if ":" in name or name in BARE_ACCOUNTS else f"party:{name}"


def _range(period: str | None) -> tuple[int, int]:
    if not period:
        return 0, 2**62
    p = Period.parse(period)
    return epoch_us(p.start), epoch_us(p.end)


def lag(app: RoyaltyLedger, db: ViewDB) -> dict[str, Any]:
    found = projector_lag(app, db)
    return {
        "head": found.head,
        "positions": found.positions,
        "behind": found.behind,
        "seconds_behind": found.seconds,
        "failed_events": found.failed_events,
    }


def fold_failures(app: RoyaltyLedger, db: ViewDB, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Poison events the read models recorded and skipped, latest first."""
    return [f.to_dict() for f in list_failures(db, APPLICATION_NAME, list(MODELS), limit=limit)]


def as_of(db: ViewDB, model: str) -> int:
    rows = db.execute("SELECT position FROM projection_tracking WHERE model = ?", [model])
    return int(rows[0][0]) if rows else 0


def earnings(
    db: ViewDB,
    party: str,
    *,
    by: str = "currency",
    period: str | None = None,
    isrc: str | None = None,
    territory: str | None = None,
) -> dict[str, Any]:
    """A party's (or any account's) earnings grouped by currency plus one of EARNINGS_BY."""
    if by not in EARNINGS_BY:
        raise ValueError(f"earnings by {by!r}: expected one of {sorted(EARNINGS_BY)}")
    column = EARNINGS_BY[by]
    start, end = _range(period)
    where, params = ["account = ?", "day_us >= ?", "day_us < ?"], [account_name(party), start, end]
    for name, value in (("isrc", isrc), ("territory", territory)):
        if value:
            where.append(f"{name} = ?")
            params.append(value)
    rows = db.execute(
        f"SELECT currency, {column}, SUM(amount_micros) FROM earn_account_day "
        f"WHERE {' AND '.join(where)} GROUP BY currency, {column} ORDER BY currency, {column}",
        params,
    )
    lines = [
        {"currency": cur, by: iso(int(key)) if by == "day" else key, "amount_micros": int(amount)}
        for cur, key, amount in rows
    ]
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line["currency"]] += line["amount_micros"]
    return {
        "account": account_name(party),
        "by": by,
        "period": period,
        "as_of": as_of(db, "earnings"),
        "lines": lines if by != "currency" else [],
        "totals_micros": dict(totals),
    }


def balance(app: RoyaltyLedger, db: ViewDB, party: str, earned: dict[str, int] | None = None) -> dict[str, Any]:
    """The live balance: earnings to date minus payouts recorded up to the same position — for a
    tax:<territory> account, minus the withholding tax remitted (`earned`: the earnings totals
    per currency when the caller has just summed them)."""
    position = as_of(db, "earnings")
    if earned is None:
        earned = earnings(db, party)["totals_micros"]
    paid: dict[str, int] = defaultdict(int)
    if position:
        for n in app.read_log(1, stop=position, topics=app.topics_of(Payout.PayoutRecorded)):  # type: ignore[attr-defined]
            event = app.decode(n)
            if account_name(event.party) == account_name(party):
                paid[event.currency] += event.amount_micros
        if account_name(party).startswith("tax:"):
            remitted = app.topics_of(TaxRemittance.Recorded)  # type: ignore[attr-defined]
            for n in app.read_log(1, stop=position, topics=remitted):
                event = app.decode(n)
                if f"tax:{event.territory}" == account_name(party):
                    paid[event.currency] += event.amount_micros
    currencies = sorted(set(earned) | set(paid))
    return {
        "account": account_name(party),
        "as_of": position,
        "balances": [
            {
                "currency": c,
                "earned_micros": earned.get(c, 0),
                "paid_micros": paid.get(c, 0),
                "balance_micros": earned.get(c, 0) - paid.get(c, 0),
            }
            for c in currencies
        ],
    }


def stats(
    db: ViewDB,
    isrc: str,
    *,
    by: str = "day",
    start: str | None = None,
    end: str | None = None,
    territory: str | None = None,
) -> dict[str, Any]:
    """Plays, counted plays, units and gross per bucket (minute, hour, day or month)."""
    if by not in (*BUCKETS_US, "month"):
        raise ValueError(f"stats by {by!r}: expected minute, hour, day or month")
    step = BUCKETS_US.get(by, BUCKETS_US["day"])
    lo = epoch_us(parse_utc(start, "start")) if start else 0
    hi = epoch_us(parse_utc(end, "end")) if end else 2**62
    where, params = "isrc = ? AND minute_us >= ? AND minute_us < ?", [isrc, lo, hi]
    if territory:
        where += " AND territory = ?"
        params.append(territory)
    rows = db.execute(
        f"SELECT minute_us - (minute_us % {step}), currency, SUM(plays), SUM(counted_plays), "
        f"SUM(units), SUM(gross_micros) FROM stats_minute WHERE {where} "
        f"GROUP BY minute_us - (minute_us % {step}), currency ORDER BY 1, 2",
        params,
    )
    buckets: dict[tuple[str, str], list[int]] = {}
    for bucket, currency, *figures in rows:
        label = iso(int(bucket)) if by != "month" else iso(int(bucket))[:7]
        acc = buckets.setdefault((label, currency), [0, 0, 0, 0])
        for i, value in enumerate(figures):
            acc[i] += int(value)
    series = [
        {"bucket": label, "currency": cur, "plays": f[0], "counted_plays": f[1], "units": f[2], "gross_micros": f[3]}
        for (label, cur), f in sorted(buckets.items())
    ]
    return {
        "isrc": isrc,
        "by": by,
        "as_of": as_of(db, "stats"),
        "series": series,
        "total_plays": sum(s["plays"] for s in series),
    }


def party_catalogue(db: ViewDB, party: str) -> list[str]:
    """Recordings a party is credited on, holds a master or publishing share of, or labels."""
    rows = db.execute(
        "SELECT isrc FROM cat_credits WHERE party_key = ? "
        "UNION SELECT subject_key FROM cat_split_holders WHERE party_key = ? AND right_type = 'master' "
        "UNION SELECT r.isrc FROM cat_recordings r JOIN cat_split_holders h "
        "ON h.right_type = 'publishing' AND h.subject_key = r.work_key WHERE h.party_key = ? "
        "UNION SELECT t.isrc FROM cat_release_tracks t JOIN cat_releases l ON l.upc = t.upc "
        "WHERE l.label_key = ?",
        [party, party, party, party],
    )
    return sorted(str(r[0]) for r in rows)


def top(
    db: ViewDB, *, what: str = "recordings", party: str | None = None, period: str | None = None, limit: int = 10
) -> dict[str, Any]:
    """Top recordings or territories by plays (then gross), optionally within a party's catalogue."""
    column = {"recordings": "s.isrc", "territories": "s.territory"}[what]
    start, end = _range(period)
    where, params = "s.minute_us >= ? AND s.minute_us < ?", list[Any]([start, end])
    if party:
        isrcs = party_catalogue(db, party) or [""]
        where += f" AND s.isrc IN ({','.join('?' * len(isrcs))})"
        params += isrcs
    rows = db.execute(
        f"SELECT {column}, SUM(s.plays), SUM(s.counted_plays), SUM(s.gross_micros), MIN(s.currency) "
        f"FROM stats_minute s WHERE {where} GROUP BY {column} "
        f"ORDER BY SUM(s.plays) DESC, SUM(s.gross_micros) DESC, {column} LIMIT {int(limit)}",
        params,
    )
    titles = dict(db.execute("SELECT isrc, title FROM cat_recordings")) if what == "recordings" else {}
    return {
        "what": what,
        "party": party,
        "period": period,
        "as_of": as_of(db, "stats"),
        "rows": [
            {
                "key": key,
                "title": titles.get(key),
                "plays": int(p),
                "counted_plays": int(c),
                "gross_micros": int(g),
                "currency": cur,
            }
            for key, p, c, g, cur in rows
        ],
    }


def recording(
    db: ViewDB, isrc: str, *, territory: str | None = None, at: datetime | None = None
) -> dict[str, Any] | None:
    rows = db.execute(
        "SELECT isrc, title, display_artist, duration_ms, work_key, audio_status, availability "
        "FROM cat_recordings WHERE isrc = ?",
        [isrc],
    )
    if not rows:
        return None
    isrc, title, artist, duration, work, audio, history = rows[0]
    doc: dict[str, Any] = {
        "isrc": isrc,
        "title": title,
        "display_artist": artist,
        "duration_ms": duration,
        "work_key": work,
        "audio_status": audio,
        "credits": [
            {"party": p, "role": r}
            for p, r in db.execute(
                "SELECT party_key, role FROM cat_credits WHERE isrc = ? ORDER BY party_key, role", [isrc]
            )
        ],
        "releases": [
            u for (u,) in db.execute("SELECT upc FROM cat_release_tracks WHERE isrc = ? ORDER BY upc", [isrc])
        ],
    }
    if territory and at:
        doc["availability"] = availability(db, isrc, territory, at, json.loads(history))
    return doc


def availability(
    db: ViewDB, isrc: str, territory: str, at: datetime, history: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Available in `territory` at `at`: not taken down, on a live release sold there, not taken down."""
    if history is None:
        rows = db.execute("SELECT availability FROM cat_recordings WHERE isrc = ?", [isrc])
        history = json.loads(rows[0][0]) if rows else []
    reason = is_available(_parsed(history), territory, at)
    if reason:
        return {"available": False, "reason": f"recording taken down: {reason}"}
    releases = db.execute(
        "SELECT l.upc, l.status, l.territories, l.availability FROM cat_releases l "
        "JOIN cat_release_tracks t ON t.upc = l.upc WHERE t.isrc = ? ORDER BY l.upc",
        [isrc],
    )
    why = "on no release"
    for upc, status, territories, rel_history in releases:
        sold = json.loads(territories)
        if status != "live":
            why = f"release {upc} is {status}"
        elif "WW" not in sold and territory not in sold:
            why = f"release {upc} is not sold in {territory}"
        elif (blocked := is_available(_parsed(json.loads(rel_history)), territory, at)) is not None:
            why = f"release {upc} taken down: {blocked}"
        else:
            return {"available": True, "release": upc}
    return {"available": False, "reason": why}


def _parsed(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**c, "effective_at": parse_utc(c["effective_at"])} for c in history]


def current_split(db: ViewDB, right: str, subject: str, at: datetime) -> dict[str, Any] | None:
    """The active version in force at `at` (latest effective_from ≤ at; ties: activated later)."""
    rows = db.execute(
        "SELECT version, shares, effective_from_us FROM cat_split_versions WHERE right_type = ? "
        "AND subject_key = ? AND status = 'active' AND effective_from_us <= ? "
        "ORDER BY effective_from_us DESC, activation_seq DESC LIMIT 1",
        [right, subject, epoch_us(at)],
    )
    if not rows:
        return None
    version, shares, effective = rows[0]
    return {
        "right": right,
        "subject": subject,
        "version": int(version),
        "shares_ppm": json.loads(shares),
        "effective_from": iso(int(effective)),
    }
