"""A hand-computed golden scenario: two months, two currencies, every rule of DESIGN.md "Money".

Rights pie (every kind and model): platform 30 %, master 50 %, publishing 20 %.
R1 USRC17607839 (work W1, publishing pub 100 %): master v1 ann 50 / lbl 50 from 01-01,
  v2 ann 60 / lbl 40 from 01-16 (mid-month change), after the January close a back-dated
  correction v3 ann 70 / lbl 30 from 01-16, and a late play of 01-28.
R2 GBAYE0601498 (no work → publishing to suspense:no-work): master bob 100 %; a takedown
  effective 01-20 recorded after a 01-25 play was accepted → that play goes to suspense.
R3 DEA123400001 (work W3, publishing pub 50 / ann 50): master bob 100 %; cat claims 30 % from
  bob from 01-10 (escrow); upheld in February with corrected shares bob 70 / cat 30 from 02-01.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.store.config import StoreConfig
from projections.statements.close import close_period, engine_for, replay_period
from projections.statements.money import verify_money_equation
from projections.statements.payouts import record_payout_checked
from projections.statements.statement import build_statement, statement_hash
from tests.accounting_fixtures import Play, insert_usage

R1, R2, R3 = "USRC17607839", "GBAYE0601498", "DEA123400001"
JAN, FEB = Period(2026, 1), Period(2026, 2)


def T(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _catalogue(app: RoyaltyLedger) -> None:
    for key, kind in [("ann", "artist"), ("bob", "artist"), ("cat", "artist"), ("lbl", "label"), ("pub", "publisher")]:
        app.upsert_party(key, key.title(), [kind], "t")
    app.upsert_work("W1", "One", [{"party": "pub", "role": "composer"}], "t")
    app.upsert_work("W3", "Three", [{"party": "pub", "role": "composer"}], "t")
    app.upsert_recording(R1, "One", "Ann", 200_000, "t", work_key="W1")
    app.upsert_recording(R2, "Two", "Bob", 200_000, "t")
    app.upsert_recording(R3, "Three", "Bob", 200_000, "t", work_key="W3")
    app.set_rights_pie(
        {"*:*": {"platform": 300_000, "master": 500_000, "publishing": 200_000}}, T(2020, 1, 1), "co-op rule", "t"
    )
    app.set_split("master", R1, {"ann": 500_000, "lbl": 500_000}, T(2026, 1, 1), "t", "v1")
    app.set_split("publishing", "W1", {"pub": 1_000_000}, T(2026, 1, 1), "t", "pub")
    app.set_split("master", R2, {"bob": 1_000_000}, T(2026, 1, 1), "t", "v1")
    app.set_split("master", R3, {"bob": 1_000_000}, T(2026, 1, 1), "t", "v1")
    app.set_split("publishing", "W3", {"pub": 500_000, "ann": 500_000}, T(2026, 1, 1), "t", "p")


def _january(app: RoyaltyLedger, config: StoreConfig) -> str:
    insert_usage(
        config,
        app.head_position(),
        [
            Play("e1", R1, T(2026, 1, 5), 1_000_000),
            Play("e2", R1, T(2026, 1, 10), 2_000_000),
            Play("e4", R2, T(2026, 1, 12), 500_000),
            Play("e5", R2, T(2026, 1, 25), 700_000),
            Play("e6", R3, T(2026, 1, 5), 1_000_000),
            Play("e7", R3, T(2026, 1, 15), 3_000_000),
        ],
    )
    app.set_split("master", R1, {"ann": 600_000, "lbl": 400_000}, T(2026, 1, 16), "t", "v2")
    insert_usage(
        config,
        app.head_position(),
        [
            Play("e3", R1, T(2026, 1, 20), 1_000_001),
            Play("u1", R1, T(2026, 1, 21), 999_999, currency="USD", territory="US"),
        ],
    )
    app.take_down("recording", R2, ["WW"], "rights lapsed", T(2026, 1, 20), "t")
    dispute = app.open_dispute(
        "master", R3, "cat", 300_000, T(2026, 1, 10), "I co-produced", "t", respondent="bob", by_operator=True
    )
    return str(dispute.id)


def _february(app: RoyaltyLedger, config: StoreConfig, dispute: str) -> None:
    insert_usage(config, app.head_position(), [Play("late", R1, T(2026, 1, 28), 2_000_000)])
    app.set_split("master", R1, {"ann": 700_000, "lbl": 300_000}, T(2026, 1, 16), "t", "fix")
    app.resolve_dispute(
        UUID(dispute),
        "upheld",
        "agreed",
        "t",
        corrected_shares={"bob": 700_000, "cat": 300_000},
        effective_from=T(2026, 2, 1),
    )
    insert_usage(
        config,
        app.head_position(),
        [
            Play("f1", R1, T(2026, 2, 3), 1_000_000),
            Play("f2", R3, T(2026, 2, 10), 2_000_000),
        ],
    )


# The January statements' SHA-256 (the escrow account's id is a fresh UUID, so not pinned).
JANUARY_HASHES = {
    "party:ann": "5a047bce9f04444e567aa7d0cac4bcde4b4bad3cfcf8147d1df5f95a6ba60ea6",
    "party:bob": "86e850c52b8d608011d6364b8622ca6cde6c6f8a83f4736710457776758e8966",
    "party:lbl": "4d2dc2621f0d759d79379865f6ab5a68ba3aca96fb3403256aea198a9ca8b336",
    "party:pub": "4674c02196647223ec2d92c260feb75ce1d276584546a3a1cda795f8a65ac800",
    "platform": "9b4a2cefa7d713b8b09bd2d5671d7fc36f9a4d1e33d1d5c6e95279e07f0cf46c",
    "suspense:no-work": "db82105d616db493676de565ea536783dc6e54e3e83a35dc88c8de45f6ba6e6a",
    "suspense:taken-down": "887e917a1d93ecbe1bade84ef81733d88ba0c171066f668ef4c7359d3ea64b6a",
}


def _closing(totals: dict[str, dict[str, dict[str, int]]]) -> dict[tuple[str, str], int]:
    return {(a, c): t["closing"] for a, per in totals.items() for c, t in per.items()}


@pytest.fixture
def app(store_config: StoreConfig):
    ledger = RoyaltyLedger(store_config, clock=lambda: T(2026, 3, 5))
    yield ledger
    ledger.close()


def test_two_months_of_statements_match_the_hand_computed_numbers(app, store_config):
    _catalogue(app)
    dispute = _january(app, store_config)
    jan = close_period(app, store_config, JAN, "t")
    escrow = f"escrow:{dispute}"
    # January, EUR: K1 R1 v1 3.000000 → platform 0.9, ann 0.75, lbl 0.75, pub 0.6.
    # K2 R1 v2 1.000001 → pie 300000/500001/200000 (leftover to master, remainder .5);
    #   master 60/40 → ann 300001, lbl 200000. K4 R2 0.5 → platform 150000, bob 250000,
    #   suspense:no-work 100000. K5 R2 after takedown 0.7 → suspense:taken-down. K6 R3 1.0 →
    #   platform 300000, bob 500000, pub 100000, ann 100000. K7 R3 3.0 under dispute → bob
    #   1050000, escrow 450000, pub 300000, ann 300000.
    # USD: K3 R1 v2 0.999999 → pie 300000/499999/200000; master ann 299999, lbl 200000.
    assert _closing(jan.totals) == {
        ("platform", "EUR"): 2_550_000,
        ("platform", "USD"): 300_000,
        ("party:ann", "EUR"): 1_450_001,
        ("party:ann", "USD"): 299_999,
        ("party:lbl", "EUR"): 950_000,
        ("party:lbl", "USD"): 200_000,
        ("party:pub", "EUR"): 1_200_000,
        ("party:pub", "USD"): 200_000,
        ("party:bob", "EUR"): 1_800_000,
        (escrow, "EUR"): 450_000,
        ("suspense:no-work", "EUR"): 100_000,
        ("suspense:taken-down", "EUR"): 700_000,
    }
    # The issued hashes are a published contract (canonical form v1): pinned byte for byte.
    assert {a: h for a, h in jan.hashes.items() if not a.startswith("escrow:")} == JANUARY_HASHES
    ann_jan = jan.documents["party:ann"]["currencies"]["EUR"]["earnings"]
    assert [(x["isrc"], x["right"], x["share_ppm"], x["units"], x["amount_micros"]) for x in ann_jan] == [
        (R3, "publishing", 500_000, 2, 400_000),
        (R1, "master", 500_000, 2, 750_000),
        (R1, "master", 600_000, 1, 300_001),
    ]

    # Payouts after the close: whole cents only; ann's sub-cent rest (1 micro) stays.
    record_payout_checked(app, "ann", 1_450_000, "EUR", "t", minimum_micros=1_000_000)
    record_payout_checked(app, "bob", 1_500_000, "EUR", "t", minimum_micros=1_000_000)
    with pytest.raises(ValueError, match="at most 0"):
        record_payout_checked(app, "ann", 10_000, "EUR", "t", minimum_micros=0)

    _february(app, store_config, dispute)
    feb = close_period(app, store_config, FEB, "t")
    # Adjustments for January (f(Jan, C(Feb)) − f(Jan, C(Jan))): R1 from 01-16 is now v3 with
    # the late play: 3.000001 → pie 900000/1500001/600000 → ann 1050001, lbl 450000;
    # USD 0.999999 under v3 → ann 349999, lbl 150000 (a claw-back of 50000 for lbl).
    # The upheld dispute releases January's escrow 450000 to cat.
    ann = feb.documents["party:ann"]["currencies"]
    assert [(x["original_period"], x["share_ppm"], x["amount_micros"]) for x in ann["EUR"]["adjustments"]] == [
        ("2026-01", 600_000, -300_001),
        ("2026-01", 700_000, 1_050_001),
    ]
    assert [(x["share_ppm"], x["amount_micros"]) for x in ann["USD"]["adjustments"]] == [
        (600_000, -299_999),
        (700_000, 349_999),
    ]
    assert [(x["isrc"], x["right"], x["amount_micros"]) for x in ann["EUR"]["earnings"]] == [
        (R3, "publishing", 200_000),
        (R1, "master", 350_000),
    ]
    assert (ann["EUR"]["opening_micros"], ann["EUR"]["payout_micros"], ann["EUR"]["closing_micros"]) == (
        1_450_001,
        1_450_000,
        1_300_001,
    )
    cat = feb.documents["party:cat"]["currencies"]["EUR"]
    # January's dispute outcome is an adjustment by the one rule, for the claimant as for the
    # escrow account (which gives back what it held: −450 000).
    assert cat["escrow_releases"] == []
    assert [(x["original_period"], x["dispute"], x["amount_micros"]) for x in cat["adjustments"]] == [
        ("2026-01", dispute, 450_000)
    ]
    held = feb.documents[escrow]["currencies"]["EUR"]["adjustments"]
    assert [(x["original_period"], x["amount_micros"]) for x in held] == [("2026-01", -450_000)]
    assert cat["earnings_micros"] == 300_000 and cat["closing_micros"] == 750_000
    lbl_usd = feb.documents["party:lbl"]["currencies"]["USD"]
    assert lbl_usd["adjustment_micros"] == -50_000 and lbl_usd["closing_micros"] == 150_000
    assert _closing(feb.totals) == {
        ("platform", "EUR"): 4_050_000,
        ("platform", "USD"): 300_000,
        ("party:ann", "EUR"): 1_300_001,
        ("party:ann", "USD"): 349_999,
        ("party:lbl", "EUR"): 1_350_000,
        ("party:lbl", "USD"): 150_000,
        ("party:pub", "EUR"): 2_000_000,
        ("party:pub", "USD"): 200_000,
        ("party:bob", "EUR"): 1_000_000,
        ("party:cat", "EUR"): 750_000,
        (escrow, "EUR"): 0,
        ("suspense:no-work", "EUR"): 100_000,
        ("suspense:taken-down", "EUR"): 700_000,
    }
    # Both issued statements replay to the identical hashes, and money is conserved:
    # EUR 14.200001 gross = closings 11.250001 + payouts 2.950000.
    assert replay_period(app, store_config, JAN).ok
    # January as known at its close is the issued statement; as known now it includes the
    # late play and the correction (which the February statement carried as adjustments).
    engine = engine_for(app, store_config)
    then = build_statement(engine, "party:ann", JAN, jan.as_of)
    assert statement_hash(then) == jan.hashes["party:ann"]
    now = build_statement(engine, "party:ann", JAN, app.head_position())
    assert now["currencies"]["EUR"]["earnings_micros"] == 1_450_001 + 750_000
    assert replay_period(app, store_config, FEB).ok
    audit = verify_money_equation(app, store_config)
    assert audit["ok"], audit
    eur_at_feb = [c for c in audit["checks"] if c["at"] == "close 2026-02" and c["currency"] == "EUR"]
    assert eur_at_feb[0]["gross_micros"] == 14_200_001
    assert eur_at_feb[0]["payouts_micros"] == 2_950_000
