"""Remitting withholding tax (docs/reports.md): money leaves tax:<territory> for the tax
authority, never more than the account holds; statements, the money equation (head and closes)
and the live balance all see it. Both backends.

Hand-computed (tests/integration/test_reports.py): a is taxed 30 % in US; the store CSV's US line
pays a 351 900 µ EUR, so tax:US withholds floor(351 900 × 0.3) = 105 570 µ EUR.
"""

from __future__ import annotations

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.party import DomainError
from ledger.domain.period import Period
from ledger.reports.commands import set_rates, set_withholding
from ledger.reports.importer import import_report
from ledger.reports.queries import list_reports
from ledger.store.config import StoreConfig
from projections.db import ViewDB
from projections.projector import Projector
from projections.queries import balance
from projections.statements.close import close_period, engine_for, replay_period
from projections.statements.money import verify_money_equation
from projections.statements.statement import build_statement
from projections.statements.tax_remittance import over_remitted, over_remitted_text, remit_withholding_tax, tax_held
from tests.reports_helpers import FIXTURES, T, catalogue

JAN, FEB = Period(2026, 1), Period(2026, 2)
STORE = (FIXTURES / "store-2026-01.csv").read_bytes()


def _ledger(config: StoreConfig) -> RoyaltyLedger:
    ledger = RoyaltyLedger(config, clock=lambda: T(2026, 2, 10))
    catalogue(ledger)
    set_rates(ledger, {"USD/EUR": "0.92"}, T(2025, 1, 1), "test", "t")
    set_withholding(ledger, {"a": {"US": 300_000}}, T(2025, 1, 1), "US withholding", "t")
    import_report(ledger, STORE, source="store", actor="t")
    return ledger


@pytest.fixture
def app(store_config: StoreConfig):
    ledger = _ledger(store_config)
    yield ledger
    ledger.close()


@pytest.fixture
def sqlite_app(sqlite_config: StoreConfig):
    """The refusals are decided before anything is written: SQLite only, for the suite's time."""
    ledger = _ledger(sqlite_config)
    yield ledger
    ledger.close()


def _remit(app: RoyaltyLedger, amount_micros: int, reference: str = "IRS-1042-2026-01", **kw):
    args = {"territory": "US", "currency": "EUR", "periods": ["2026-01"], **kw}
    return remit_withholding_tax(app, amount_micros=amount_micros, reference=reference, actor="acct", **args)


def _held(app: RoyaltyLedger) -> list[tuple[str, str, int, int, int]]:
    head = app.head_position()
    return [
        (t.account, t.currency, t.withheld_micros, t.remitted_micros, t.held_micros)
        for t in tax_held(engine_for(app, app.config, head), head)
    ]


def _live_balance(app: RoyaltyLedger) -> dict[str, int]:
    db = ViewDB(app.config)
    try:
        Projector(app, db, batch_size=3).catch_up()
        return {b["currency"]: b["balance_micros"] for b in balance(app, db, "tax:US")["balances"]}
    finally:
        db.close()


def test_a_remittance_moves_tax_out_of_its_account_and_every_view_agrees(app):
    assert _held(app) == [("tax:US", "EUR", 105_570, 0, 105_570)]
    remittance, after = _remit(app, 100_000)
    assert (remittance.territory, remittance.periods, after.held_micros) == ("US", ["2026-01"], 5_570)
    assert _held(app) == [("tax:US", "EUR", 105_570, 100_000, 5_570)]
    # The tax account's statement shows it as money leaving, like a party's payout.
    doc = build_statement(engine_for(app, app.config), "tax:US", JAN, app.head_position())
    eur = doc["currencies"]["EUR"]
    assert (eur["earnings_micros"], eur["payout_micros"], eur["closing_micros"]) == (105_570, 100_000, 5_570)
    assert [(p["payout_id"], p["reference"], p["periods"]) for p in eur["payouts"]] == [
        (str(remittance.id), "IRS-1042-2026-01", ["2026-01"])
    ]
    money = verify_money_equation(app, app.config)
    assert money["ok"]
    [eur_check] = [c for c in money["checks"] if c["currency"] == "EUR"]
    assert (eur_check["withholding_tax_micros"], eur_check["withholding_tax_remitted_micros"]) == (5_570, 100_000)
    assert _live_balance(app) == {"EUR": 5_570}
    # Closed, the month's tax account closes net of the remittance, and replays to its hashes.
    close_period(app, app.config, JAN, "acct")
    assert app.period_close(JAN).account_totals["tax:US"]["EUR"]["closing"] == 5_570
    assert replay_period(app, app.config, JAN).ok
    assert verify_money_equation(app, app.config)["ok"]


def test_a_remittance_of_more_than_the_account_holds_is_refused_and_nothing_is_recorded(sqlite_app):
    app = sqlite_app
    _remit(app, 100_000)
    head = app.head_position()
    with pytest.raises(DomainError, match=r"tax:US holds 0\.005570 EUR .* more than it holds"):
        _remit(app, 10_000, reference="second")
    with pytest.raises(DomainError, match=r"tax:FR holds 0\.000000 EUR"):
        _remit(app, 10_000, territory="FR")
    with pytest.raises(DomainError, match="whole minor units"):
        _remit(app, 5_000)
    with pytest.raises(DomainError, match="2026-03 is still to come"):
        _remit(app, 10_000, periods=["2026-03"])
    with pytest.raises(DomainError, match="YYYY-MM"):
        _remit(app, 10_000, periods=[])
    assert app.head_position() == head
    assert _held(app) == [("tax:US", "EUR", 105_570, 100_000, 5_570)]


def test_a_correction_after_the_tax_was_remitted_is_named_over_remitted_and_later_withholding_fills_it(app):
    """The store report's US line 0.90 USD is corrected to 0.45 after 100 000 µ EUR of tax:US was
    paid over. a's US money: 0.45 × 0.92 = 414 000 µ EUR, 85 % after the platform's fee, half of
    it a's = 175 950, withheld 30 % = 52 785; remitted 100 000, so 47 215 was paid over too much."""
    _remit(app, 100_000)
    [original] = list_reports(app)
    corrected = STORE.replace(b"1.29,0.90,USD", b"1.29,0.45,USD")
    import_report(app, corrected, source="store", actor="t", supersedes=original["report_id"])
    [account] = over_remitted(app)
    assert (account.account, account.withheld_micros, account.remitted_micros) == ("tax:US", 52_785, 100_000)
    assert (account.held_micros, account.over_remitted_micros) == (-47_215, 47_215)
    assert "was paid over 0.047215 EUR more" in over_remitted_text(account)
    with pytest.raises(DomainError, match=r"tax:US holds -0\.047215 EUR"):
        _remit(app, 10_000, reference="second")
    # The money equation still holds: the account is below zero, nothing was lost or made.
    assert verify_money_equation(app, app.config)["ok"]
    # February's US sale withholds 52 785 again: it fills the gap first, and nothing is over-paid.
    import_report(app, corrected.replace(b"2026-01", b"2026-02"), source="store", actor="t")
    assert over_remitted(app) == []
    assert _held(app) == [("tax:US", "EUR", 105_570, 100_000, 5_570)]
