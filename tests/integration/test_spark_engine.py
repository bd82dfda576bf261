"""The statements engine on Apache Spark (local mode) gives the store engine's hashes, byte for byte.

The hand-computed golden scenario (test_statements_golden.py: a mid-month split change, a
takedown, a dispute upheld, a late play and a back-dated correction after January's close) plus
what exercises the archive and the Spark query's every arm: a rights-pie change inside February
(a global bucket cut), a refund in February of a January sale (the refund's key is its sale's,
joined at export), and January's late play recorded after January was archived (the archive
grows by one file; the earlier file is never rewritten).

Spark runs for real (pyspark, a local JVM); nothing here is mocked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from projections.statements.close import close_period, compute_statements, engine_for, replay_period
from projections.statements.spark_engine import SparkUsage
from projections.statements.usage_archive import UsageArchive
from tests.accounting_fixtures import Play, insert_usage
from tests.integration.test_statements_golden import (
    FEB,
    JAN,
    JANUARY_HASHES,
    R1,
    R3,
    T,
    _catalogue,
    _february,
    _january,
)

pytest.importorskip("pyspark", reason="the spark extra is part of the dev install")
pytestmark = pytest.mark.slow


@pytest.fixture
def app(store_config: StoreConfig):
    ledger = RoyaltyLedger(store_config, clock=lambda: T(2026, 3, 5))
    yield ledger
    ledger.close()


def _store_hashes(app: RoyaltyLedger, config: StoreConfig, period, as_of: int) -> dict[str, str]:
    return compute_statements(engine_for(app, config), period, as_of, display=False).hashes


def test_spark_closes_and_replays_with_the_store_engines_hashes(app, store_config, tmp_path: Path):
    archive = str(tmp_path / "usage-archive")
    _catalogue(app)
    insert_usage(store_config, app.head_position(), [Play("sale1", R3, T(2026, 1, 8), 5_000_000, kind="purchase")])
    dispute = _january(app, store_config)

    spark = SparkUsage(store_config, archive)
    jan = close_period(app, store_config, JAN, "t", usage=spark)
    # The scenario's pinned January hashes are for its own usage; with the extra sale they move —
    # so compare against the store engine at the same position, and the sale's presence.
    assert jan.hashes == _store_hashes(app, store_config, JAN, jan.as_of)
    assert spark.exported[JAN] == 9
    assert UsageArchive(archive).covered(JAN) == jan.as_of

    _february(app, store_config, dispute)  # the late January play, a back-dated correction, …
    app.set_rights_pie(
        {"*:*": {"platform": 250_000, "master": 550_000, "publishing": 200_000}}, T(2026, 2, 15), "mid-Feb", "t"
    )
    insert_usage(
        store_config,
        app.head_position(),
        [
            Play("refund1", R3, T(2026, 2, 12), -2_000_001, kind="refund", pricing_model="refund", refund_of="sale1"),
            Play("f3", R1, T(2026, 2, 20), 3_000_000),
            Play("f4", R1, T(2026, 2, 21), 1_000_000, territory="FR"),
        ],
    )
    spark = SparkUsage(store_config, archive)
    feb = close_period(app, store_config, FEB, "t", usage=spark)
    assert feb.hashes == _store_hashes(app, store_config, FEB, feb.as_of)
    # January's late play was archived as a second file; February's rows in one.
    assert spark.exported == {JAN: 1, FEB: 5}
    months = {p.parent.name: sorted(x.name for x in p.parent.glob("pos-*")) for p in tmp_path.rglob("pos-*")}
    assert len(months["period=2026-01"]) == 2 and len(months["period=2026-02"]) == 1
    # The refund reversed under its January sale's key: the statement shows it in February.
    bob = feb.documents["party:bob"]["currencies"]["EUR"]["earnings"]
    assert [(x["isrc"], x["kind"]) for x in bob if x["amount_micros"] < 0] == [(R3, "refund")]

    # Replays on either engine reproduce every recorded hash.
    for period in (JAN, FEB):
        assert replay_period(app, store_config, period).ok
        assert replay_period(app, store_config, period, SparkUsage(store_config, archive)).ok


def test_spark_reproduces_the_pinned_golden_january(app, store_config, tmp_path: Path):
    """The golden scenario's January, hand-computed and pinned byte for byte, closed on Spark."""
    _catalogue(app)
    _january(app, store_config)
    jan = close_period(app, store_config, JAN, "t", usage=SparkUsage(store_config, str(tmp_path / "a")))
    assert {a: h for a, h in jan.hashes.items() if not a.startswith("escrow:")} == JANUARY_HASHES
