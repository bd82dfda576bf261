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
from projections import queries, rollups
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


def live_figures(app: RoyaltyLedger, db: Any, party: str, now: datetime) -> dict[str, Any]:
    """The figures the overview updates as plays arrive (server-sent events)."""
    month = rollups.earnings(db, party, start=_month_start(now))
    balance = queries.balance(app, db, party)
    return {
        "as_of": month["as_of"],
        "text": {
            "live-month": ", ".join(money(v, c) for c, v in sorted(month["totals_micros"].items())) or "0",
            "live-balance": ", ".join(money(b["balance_micros"], b["currency"]) for b in balance["balances"]) or "0",
            "live-position": str(month["as_of"]),
        },
    }


def overview(app: RoyaltyLedger, db: Any, party: str, by: str, now: datetime) -> dict[str, Any]:
    span = SPANS[by]
    start = (now - span) if span else None
    catalogue = queries.party_catalogue(db, party)
    timeline = rollups.earnings(db, party, by=by, start=start)
    currencies = sorted(timeline["totals_micros"]) or ["EUR"]
    currency = currencies[0]
    points = [
        Slice(line["bucket"][:10], line["amount_micros"], money(line["amount_micros"], currency))
        for line in timeline["lines"]
        if line["currency"] == currency
    ]
    by_territory = rollups.earnings(db, party, group="territory")
    by_recording = rollups.earnings(db, party, group="recording", top=20)
    by_source = rollups.stats(db, by="year", group="source", isrcs=catalogue)
    top_recordings = rollups.stats(db, by="year", group="recording", isrcs=catalogue, top=10)
    top_countries = rollups.stats(db, by="year", group="territory", isrcs=catalogue, top=10)

    def slices(found: dict[str, Any]) -> list[Slice]:
        return [
            Slice(r["label"], r["amount_micros"].get(currency, 0), money(r["amount_micros"].get(currency, 0), currency))
            for r in found["ranking"]
        ]

    source_slices = [Slice(r["key"], r["plays"], f"{r['plays']:,} plays") for r in by_source["ranking"]]
    return {
        "party": party,
        "by": by,
        "currency": currency,
        "live": live_figures(app, db, party, now),
        "timeline": {"chart": bars(f"Earnings per {by} ({currency})", points, line=by == "day"), "rows": points},
        "pies": [
            {
                "title": "Earnings by territory",
                "chart": pie("Earnings by territory", slices(by_territory)),
                "rows": slices(by_territory),
            },
            {
                "title": "Earnings by recording",
                "chart": pie("Earnings by recording", slices(by_recording)),
                "rows": slices(by_recording),
            },
            {"title": "Plays by source", "chart": pie("Plays by source", source_slices), "rows": source_slices},
        ],
        "top_recordings": top_recordings["ranking"],
        "top_countries": top_countries["ranking"],
    }


def statement_months(db: Any, party: str, now: datetime) -> list[dict[str, Any]]:
    """Every month with earnings for the party, newest first, and the current month."""
    found = rollups.earnings(db, party, by="month")
    months: dict[str, dict[str, int]] = {}
    for line in found["lines"]:
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
