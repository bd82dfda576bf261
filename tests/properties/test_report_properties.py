"""Hypothesis properties of imported sales reports (issue 20): every micro-unit of every report
line ends in exactly one place — the service's fee, a converted amount and its sub-micro FX rest,
then exactly one account (matched: platform, a party, escrow, withholding tax held; or suspense) —
and a corrected report yields adjustments equal to the difference. Small by default (CI); SQLite."""

from __future__ import annotations

import csv
import io
import tempfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import RoyaltyLedger
from ledger.domain.money import format_micros
from ledger.domain.period import Period
from ledger.reports.commands import set_rates, set_withholding
from ledger.reports.importer import import_report
from ledger.reports.lines import convert_group
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations
from projections.statements.close import close_period, engine_for
from projections.statements.statement import build_statement
from tests.reports_helpers import R1, R2, T, account_totals, catalogue

JAN, FEB = Period(2026, 1), Period(2026, 2)
RATES = {"USD": "0.92", "GBP": "1.1713", "JPY": "0.006281"}
HEADER = [
    "Vendor Identifier",
    "ISRC",
    "UPC",
    "Title",
    "Artist",
    "Country Code",
    "Sales Month",
    "Quantity",
    "Customer Price",
    "Partner Share",
    "Currency",
    "Right",
]

rates = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1000"), places=6).map(str)


@settings(max_examples=50, deadline=None)
@given(nets=st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=40), rate=rates)
def test_a_conversion_group_converts_to_the_floor_of_its_exact_total_line_by_line_within_a_micro(nets, rate):
    array = np.array(nets, dtype=np.int64)
    amounts, rest = convert_group(array, np.arange(1, len(nets) + 1), rate)
    exact = [Fraction(n) * Fraction(Decimal(rate)) for n in nets]
    total = sum(exact, Fraction(0))
    assert int(amounts.sum()) == total.numerator // total.denominator
    assert rest == total - int(amounts.sum()) and 0 <= rest < 1
    assert all(abs(Fraction(int(a)) - e) < 1 for a, e in zip(amounts.tolist(), exact, strict=True))


line = st.tuples(
    st.sampled_from([R1, R1, R2, "", "ZZZ999999999", "BAD"]),  # known, none, unknown, malformed
    st.sampled_from(["", "PX-1", "PX-2"]),
    st.sampled_from(["FR", "DE", "US", "FR", "XX"]),
    st.integers(0, 50),
    st.integers(0, 5_000_000),
    st.integers(0, 1_000_000),  # net share in ppm of gross
    st.sampled_from(["EUR", "USD", "USD", "GBP", "JPY", "ABC"]),
    st.sampled_from(["master", "performance", "master", "nonsense"]),
)


def _csv(rows: list[tuple]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for isrc, prop, territory, units, gross, net_ppm, currency, right in rows:
        net = gross * net_ppm // 1_000_000
        writer.writerow(
            [
                prop,
                isrc,
                "",
                "t",
                "a",
                territory,
                "2026-01",
                units,
                format_micros(gross),
                format_micros(net),
                currency,
                right,
            ]
        )
    return out.getvalue().encode()


def _app(folder: str) -> RoyaltyLedger:
    config = StoreConfig.from_url(str(Path(folder) / "r.db"))
    apply_migrations(config)
    app = RoyaltyLedger(config, clock=lambda: T(2026, 2, 10))
    catalogue(app)
    set_rates(app, {f"{c}/EUR": r for c, r in RATES.items()}, T(2025, 1, 1), "test", "t")
    set_withholding(app, {"a": {"US": 300_000}, "c": {"FR": 125_000, "DE": 1}}, T(2025, 1, 1), "test", "t")
    return app


SLOW = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(rows=st.lists(line, min_size=3, max_size=25))
def test_every_micro_unit_of_every_report_line_ends_in_exactly_one_place(rows):
    with tempfile.TemporaryDirectory() as folder:
        app = _app(folder)
        try:
            result = import_report(app, _csv(rows), source="store", actor="t")
            # Each line is accepted or quarantined, once.
            assert result.lines + sum(result.quarantined.values()) == len(rows)
            # Original currency: gross = the service's fee + net, per currency.
            for totals in result.totals.values():
                assert totals["gross"] == totals["service_fee"] + totals["net"]
            # Conversion: net·rate = converted + the sub-micro FX rest, exactly, per group.
            converted_eur = 0
            for c in result.conversions:
                exact = Fraction(c["net_micros"]) * Fraction(Decimal(c["rate"]))
                assert exact == c["converted_micros"] + Fraction(c["fx_rest"])
                assert 0 <= Fraction(c["fx_rest"]) < 1
                converted_eur += c["converted_micros"]
            net_eur = result.totals.get("EUR", {}).get("net", 0)
            # …and independently of the conversion code: each currency's accepted net converts
            # once, to the floor of net·rate.
            expected = net_eur
            for currency, rate in RATES.items():
                exact = Fraction(result.totals.get(currency, {}).get("net", 0)) * Fraction(Decimal(rate))
                expected += exact.numerator // exact.denominator
            assert net_eur + converted_eur == expected
            # Target currency: every converted micro-unit is in exactly one account.
            by_account = account_totals(app, [JAN])
            assert sum(by_account.values()) == net_eur + converted_eur
            assert {cur for _, cur in by_account} <= {"EUR"}
            matched = sum(v for (acc, _), v in by_account.items() if not acc.startswith("suspense:"))
            suspense = sum(v for (acc, _), v in by_account.items() if acc.startswith("suspense:"))
            assert matched + suspense == net_eur + converted_eur
        finally:
            app.close()


@SLOW
@given(
    rows=st.lists(line, min_size=1, max_size=15),
    changes=st.lists(st.integers(-400_000, 400_000), min_size=15, max_size=15),
)
def test_a_corrected_report_yields_adjustments_equal_to_the_difference(rows, changes):
    corrected_rows = [(*r[:4], max(0, r[4] + change), *r[5:]) for r, change in zip(rows, changes, strict=False)]
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as alone:
        app, fresh = _app(folder), _app(alone)
        try:
            first = import_report(app, _csv(rows), source="store", actor="t")
            close_period(app, app.config, JAN, "acct")
            closed = app.head_position()
            before = account_totals(app, [JAN], closed)
            import_report(app, _csv(corrected_rows), source="store", actor="t", supersedes=first.report_id)
            import_report(fresh, _csv(corrected_rows), source="store", actor="t")
            after_alone = account_totals(fresh, [JAN])
            engine = engine_for(app, app.config)
            head = app.head_position()
            accounts = {a for a, _ in before} | {a for a, _ in after_alone}
            adjustments = {}
            for account in sorted(accounts):
                doc = build_statement(engine, account, FEB, head, display=False)
                adjustments[account] = sum(
                    a["amount_micros"] for s in doc["currencies"].values() for a in s["adjustments"]
                )
            for account in accounts:
                expected = after_alone.get((account, "EUR"), 0) - before.get((account, "EUR"), 0)
                assert adjustments[account] == expected, account
            assert sum(adjustments.values()) == sum(after_alone.values()) - sum(before.values())
        finally:
            app.close()
            fresh.close()
