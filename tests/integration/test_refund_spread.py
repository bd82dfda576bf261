"""A release purchase refunded in parts: the refunds' lines add up to the sale's, line by line.

The sale of an album of three tracks is spread over them by largest remainder; so is each refund.
Spread one by one, two refunds of half the sale reverse one track a micro-unit more than it sold
and another one less (10.000000 → 3.333334 + 3.333333 + 3.333333; each half 5.000000 →
1.666667 + 1.666667 + 1.666666). The ingestion spreads the cumulative refund instead.
"""

from __future__ import annotations

from ledger.application import RoyaltyLedger
from ledger.usage.ingest import UsageIngest
from ledger.usage.rows import normalise_dicts
from ledger.usage.store import UsageStore
from tests.usage_helpers import ALBUM, SECRET, build_catalogue, clock, sale


def _lines(app: RoyaltyLedger, kind: str) -> dict[str, int]:
    rows = UsageStore(app).query(
        *[f"SELECT isrc, SUM(gross_micros) FROM usage_rows WHERE kind = '{kind}' GROUP BY isrc ORDER BY isrc"] * 2
    )
    return {str(isrc): int(total) for isrc, total in rows}


def test_partial_refunds_of_a_release_purchase_reverse_every_line_exactly(store_config) -> None:
    app = RoyaltyLedger(store_config, clock=clock)
    try:
        build_catalogue(app)
        ingest = UsageIngest(app, "test", secret=SECRET)
        ingest.run([normalise_dicts([sale("s1", "10.00", upc=ALBUM)], "shop")])
        sold = _lines(app, "purchase")
        assert sorted(sold.values()) == [3_333_333, 3_333_333, 3_333_334]
        halves = [sale(f"r{n}", "-5.00", kind="refund", upc=ALBUM, refund_of="s1") for n in (1, 2)]
        ingest.run([normalise_dicts(halves[:1], "shop")])  # one stored before the other is checked
        ingest.run([normalise_dicts(halves[1:], "shop")])
        refunded = _lines(app, "refund")
        assert {isrc: sold[isrc] + refunded[isrc] for isrc in sold} == dict.fromkeys(sold, 0)
        # and within one batch: a third sale refunded by three parts in one file
        ingest.run([normalise_dicts([sale("s2", "10.00", upc=ALBUM, at="2026-10-06T10:00:00Z")], "shop")])
        thirds = [
            sale(f"q{n}", f"-{a}", kind="refund", upc=ALBUM, refund_of="s2")
            for n, a in enumerate(("3.3", "3.3", "3.4"))
        ]
        ingest.run([normalise_dicts(thirds, "shop")])
        assert _lines(app, "refund") == {isrc: 2 * refunded[isrc] for isrc in sold}
    finally:
        app.close()
