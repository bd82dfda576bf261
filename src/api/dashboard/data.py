"""What the dashboard's pages show, read from the read models (projections) and the log: one
function per page, returning plain dicts for the templates. No page reads usage rows."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api.dashboard.charts import Slice, bars, pie
from ledger.application import RoyaltyLedger
from ledger.domain.money import format_micros
from ledger.domain.period import Period
from projections import party_sums, queries
from projections.statements.close import engine_for
from projections.statements.display import Letterhead, platform_name, position_time
from projections.statements.dsr import write_statement_dsr
from projections.statements.export import write_csv
from projections.statements.pdf import write_pdf
from projections.statements.statement import build_statement

SPANS = {"day": timedelta(days=31), "week": timedelta(weeks=26), "month": timedelta(days=731), "year": None}
MEDIA = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "dsr": "text/tab-separated-values; charset=utf-8"}


def money(micros: int, currency: str) -> str:
    return f"{format_micros(micros)} {currency}"


def _month_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def live_figures(
    app: RoyaltyLedger, db: Any, party: str, now: datetime, earned: dict[str, int] | None = None
) -> dict[str, Any]:
    """The figures the overview updates as plays arrive (server-sent events)."""
    position = queries.as_of(db, "earnings")
    month = party_sums.earned_totals(db, party, _month_start(now))
    balance = queries.balance(app, db, party, party_sums.earned_totals(db, party) if earned is None else earned)
    return {
        "as_of": position,
        "text": {
            "live-month": ", ".join(money(v, c) for c, v in sorted(month.items())) or "0",
            "live-balance": ", ".join(money(b["balance_micros"], b["currency"]) for b in balance["balances"]) or "0",
            "live-position": str(position),
        },
    }


def _titles(db: Any, isrcs: set[str]) -> dict[str, str]:
    if not isrcs:
        return {}
    keys = sorted(isrcs)
    marks = ",".join("?" * len(keys))
    return {
        str(i): str(t) for i, t in db.execute(f"SELECT isrc, title FROM cat_recordings WHERE isrc IN ({marks})", keys)
    }


def _ranked(cells: dict[str, list[int]], limit: int, labels: dict[str, str]) -> list[dict[str, Any]]:
    order = sorted(cells, key=lambda k: (-cells[k][0], -cells[k][1], k))[:limit]
    return [{"key": k, "label": labels.get(k, k), "plays": cells[k][0], "counted_plays": cells[k][1]} for k in order]


def overview(app: RoyaltyLedger, db: Any, party: str, by: str, now: datetime) -> dict[str, Any]:
    span = SPANS[by]
    # Whole days, so the page is a function of the date and the read models' positions (cached so).
    start = datetime.combine((now - span).date(), datetime.min.time(), UTC) if span else None
    catalogue = queries.party_catalogue(db, party)
    timeline = party_sums.earned_by_bucket(db, party, by, start)
    totals = party_sums.earned_totals(db, party)
    currency = min(totals) if totals else "EUR"
    amounts = {line["bucket"][:10]: line["amount_micros"] for line in timeline if line["currency"] == currency}
    if by == "day" and start is not None:  # a day without earnings is a zero, not a gap in the line
        day = start.date()
        while day <= now.date():
            amounts.setdefault(day.isoformat(), 0)
            day += timedelta(days=1)
    points = [Slice(label, amount, money(amount, currency)) for label, amount in sorted(amounts.items())]
    # Each figure summed by the database over the party's months (a few thousand rows at most).
    by_territory = party_sums.earned_by(db, party, "territory", currency)
    by_recording = party_sums.earned_by(db, party, "isrc", currency)
    titles = _titles(db, set(by_recording) | set(catalogue))
    plays_by = {
        group: party_sums.plays_by(db, catalogue, column)
        for group, column in (("recording", "isrc"), ("territory", "territory"), ("source", "source"))
    }

    def slices(amounts: dict[str, int], labels: dict[str, str]) -> list[Slice]:
        ordered = sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [Slice(labels.get(k, k), v, money(v, currency)) for k, v in ordered]

    territory_slices = slices(by_territory, {})
    recording_slices = slices(by_recording, titles)[:20]
    source_slices = [
        Slice(k, v[0], f"{v[0]:,} plays") for k, v in sorted(plays_by["source"].items(), key=lambda kv: -kv[1][0])
    ]
    return {
        "party": party,
        "by": by,
        "currency": currency,
        "live": live_figures(app, db, party, now, totals),
        "timeline": {"chart": bars(f"Earnings per {by} ({currency})", points, line=by == "day"), "rows": points},
        "pies": [
            {
                "title": "Earnings by territory",
                "chart": pie("Earnings by territory", territory_slices),
                "rows": territory_slices,
            },
            {
                "title": "Earnings by recording",
                "chart": pie("Earnings by recording", recording_slices),
                "rows": recording_slices,
            },
            {"title": "Plays by source", "chart": pie("Plays by source", source_slices), "rows": source_slices},
        ],
        "top_recordings": _ranked(plays_by["recording"], 10, titles),
        "top_countries": _ranked(plays_by["territory"], 10, {}),
    }


def statement_months(db: Any, party: str, now: datetime) -> list[dict[str, Any]]:
    """Every month with earnings for the party, newest first, and the current month."""
    months: dict[str, dict[str, int]] = {}
    for line in party_sums.earned_by_bucket(db, party, "month"):
        months.setdefault(line["bucket"], {})[line["currency"]] = line["amount_micros"]
    months.setdefault(now.strftime("%Y-%m"), {})
    return [
        {"period": p, "earned": ", ".join(money(v, c) for c, v in sorted(t.items())) or "0"}
        for p, t in sorted(months.items(), reverse=True)
    ]


def statement_file(app: RoyaltyLedger, party: str, period: str, fmt: str) -> tuple[bytes, str]:
    """A statement as the API renders it (same inputs, same bytes): content and file name."""
    month = Period.parse(period)
    engine = engine_for(app, app.config)
    closed = engine.history.closes.get(str(month))
    position = closed.as_of_position if closed else engine.history.upto
    doc = build_statement(engine, f"party:{party}", month, position)
    with tempfile.TemporaryDirectory(prefix="royalty-dashboard-") as folder:
        path = Path(folder) / f"statement.{fmt}"
        recorded = position_time(app, position)
        if fmt == "dsr":
            write_statement_dsr(doc, month, path, None, recorded or datetime.now(UTC))
        else:
            letterhead = Letterhead(platform_name(), app.get_party(party).name, recorded)
            (write_csv if fmt == "csv" else _pdf)(doc, path, letterhead)
        content = path.read_bytes()
    ext = "tsv" if fmt == "dsr" else fmt
    return content, f"statement-{party}-{month}-at-{position}.{ext}"


def _pdf(doc: dict[str, Any], path: Path, letterhead: Letterhead) -> None:
    write_pdf(doc, letterhead, path)
