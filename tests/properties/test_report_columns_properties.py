"""The column-wise report income of a period (report_columns.add_report_lines) is exactly the
per-group reference: every group keyed alone (reports.report_keys), keys summed, each key cut by
allocate_key_parts and added by compute.add_parts — on random reports with known, unknown and
malformed ISRCs, proprietary ids, a release's UPC spread over its tracks, several rights,
currencies and territories (withholding in some), two usage months and a split changed between
them. Small by default; SQLite (the PostgreSQL read of the groups is checked in
tests/integration/test_reports.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.reports.commands import set_rates, set_withholding
from ledger.reports.importer import import_report
from ledger.royalties import KeyTotals, RightsHistory, read_rights_history
from ledger.royalties.allocation import allocate_key_parts
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations
from projections.statements.compute import PeriodResult, add_parts
from projections.statements.report_columns import add_report_lines
from projections.statements.reports import report_keys
from tests.reports_helpers import R1, R2, UPC, T, catalogue

JAN = Period(2026, 1)

HEADER = (
    "Vendor Identifier,ISRC,UPC,Title,Artist,Country Code,Sales Month,Quantity,Customer Price,Partner Share,"
    "Currency,Right"
)
line = st.tuples(
    st.sampled_from([R1, R1, R2, "", "ZZZ999999999"]),
    st.sampled_from(["", "PX-1", "PX-2"]),
    st.sampled_from(["", "", UPC, "0000000000000"]),
    st.sampled_from(["FR", "DE", "US"]),
    st.sampled_from(["2026-01", "2026-01-20", "2025-12"]),
    st.integers(0, 50),
    st.integers(0, 5_000_000),
    st.sampled_from(["EUR", "USD", "GBP"]),
    st.sampled_from(["master", "performance", "sync"]),
)


def _csv(rows: list[tuple[object, ...]]) -> bytes:
    out = [HEADER]
    for isrc, prop, upc, territory, month, units, gross, currency, right in rows:
        amount = f"{gross // 1_000_000}.{gross % 1_000_000:06d}"
        out.append(f"{prop},{isrc},{upc},t,a,{territory},{month},{units},{amount},{amount},{currency},{right}")
    return ("\n".join(out) + "\n").encode()


def _app(folder: str, withholding: bool) -> RoyaltyLedger:
    config = StoreConfig.from_url(str(Path(folder) / "r.db"))
    apply_migrations(config)
    app = RoyaltyLedger(config, clock=lambda: T(2026, 2, 10))
    catalogue(app)
    set_rates(app, {"USD/EUR": "0.92", "GBP/EUR": "1.1713"}, T(2025, 1, 1), "test", "t")
    if withholding:  # the territory then enters the context (and a takedown would too)
        set_withholding(app, {"a": {"US": 300_000}, "c": {"FR": 125_000}}, T(2025, 1, 1), "test", "t")
    return app


def reference(config: StoreConfig, history: RightsHistory, period: Period, as_of: int) -> PeriodResult:
    result = PeriodResult(period, as_of)
    grouped: dict[object, KeyTotals] = {}
    for key, units, gross in report_keys(config, history, period, as_of):
        totals = grouped.setdefault(key, KeyTotals(0, 0, 0))
        totals.units += units
        totals.gross_micros += gross
    for key, totals in grouped.items():
        parts, amounts = allocate_key_parts(totals.gross_micros, key.context)
        add_parts(result, key, totals.units, totals.gross_micros, parts, amounts)
    return result


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.lists(line, min_size=1, max_size=30),
    second=st.lists(line, min_size=0, max_size=10),
    withholding=st.booleans(),
)
def test_report_income_column_wise_is_the_per_group_allocation(first, second, withholding):
    with tempfile.TemporaryDirectory() as folder:
        app = _app(folder, withholding)
        try:
            import_report(app, _csv(first), source="store", actor="t")
            # A split version effective mid-January: January's lines key under two contexts.
            app.set_split("master", R1, {"a": 333_334, "b": 333_333, "c": 333_333}, T(2026, 1, 15), "t", "v2")
            if second:
                import_report(app, _csv(second), source="store", actor="t")
            history = read_rights_history(app)
            for period in (JAN, Period(2025, 12)):
                for as_of in (app.head_position(), app.head_position() - 1):
                    fast = PeriodResult(period, as_of)
                    add_report_lines(fast, app.config, history, period, as_of)
                    slow = reference(app.config, history, period, as_of)
                    assert fast.lines == slow.lines
                    assert fast.gross == slow.gross and fast.units == slow.units
        finally:
            app.close()
