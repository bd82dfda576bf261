"""The canonical form of a statement (version 1) is a published contract: its bytes are pinned.

Closed periods recorded these hashes; replay recomputes them, so any change to the canonical
bytes (or to what goes into a statement) must show up here first.
"""

from __future__ import annotations

import hashlib
from typing import Any

from projections.statements.statement import canonical, statement_hash


def _line(isrc: str, right: str, units: int, gross: int, amount: int) -> dict[str, Any]:
    return {
        "isrc": isrc,
        "kind": "stream",
        "territory": "DE",
        "right": right,
        "right_ppm": 560_000,
        "share_ppm": 600_000,
        "units": units,
        "gross_micros": gross,
        "amount_micros": amount,
    }


DOCUMENT: dict[str, Any] = {
    "account": "party:ann",
    "party": "ann",
    "period": "2026-02",
    "as_of_position": 77,
    "previous_period": "2026-01",
    "currencies": {
        "USD": {
            "opening_micros": 5,
            "earnings": [],
            "escrow_releases": [],
            "adjustments": [],
            "payouts": [],
            "earnings_micros": 0,
            "escrow_release_micros": 0,
            "adjustment_micros": 0,
            "payout_micros": 0,
            "closing_micros": 5,
        },
        "EUR": {
            "opening_micros": 1_000,
            "earnings": [_line("QZABC2600001", "master", 3, 3_000_000, 1_008_000)],
            "escrow_releases": [
                {
                    **_line("QZABC2600002", "master", 1, 10, 4),
                    "dispute": "d-1",
                    "original_period": "2026-02",
                },
                {
                    "original_period": "2026-01",
                    "isrc": "QZABC2600002",
                    "kind": "stream",
                    "territory": "DE",
                    "right": "master",
                    "right_ppm": 560_000,
                    "share_ppm": 0,
                    "amount_micros": 7,
                    "dispute": "d-1",
                },
            ],
            "adjustments": [
                {
                    "original_period": "2026-01",
                    "isrc": "QZABC2600001",
                    "kind": "stream",
                    "territory": "DE",
                    "right": "master",
                    "right_ppm": 560_000,
                    "share_ppm": 600_000,
                    "amount_micros": -12,
                }
            ],
            "payouts": [{"payout_id": "p-1", "position": 70, "amount_micros": 900, "reference": 'tab\there "q" é'}],
            "earnings_micros": 1_008_000,
            "escrow_release_micros": 11,
            "adjustment_micros": -12,
            "payout_micros": 900,
            "closing_micros": 1_008_099,
        },
    },
}

EXPECTED = (
    "royalty-statement/1\n"
    "account\tparty:ann\n"
    "period\t2026-02\n"
    "as_of_position\t77\n"
    "previous_period\t2026-01\n"
    "C\tEUR\t1000\t1008000\t11\t-12\t900\t1008099\n"
    "E\tQZABC2600001\tstream\tDE\tmaster\t560000\t600000\t3\t3000000\t1008000\n"
    "R\t2026-02\td-1\tQZABC2600002\tstream\tDE\tmaster\t560000\t600000\t1\t10\t4\n"
    "R\t2026-01\td-1\tQZABC2600002\tstream\tDE\tmaster\t560000\t0\t\t\t7\n"
    "A\t2026-01\tQZABC2600001\tstream\tDE\tmaster\t560000\t600000\t\t\t-12\n"
    'P\tp-1\t70\t900\ttab\\there \\"q\\" é\n'
    "C\tUSD\t5\t0\t0\t0\t0\t5\n"
).encode()


def test_canonical_bytes_of_every_record_kind_are_pinned() -> None:
    assert canonical(DOCUMENT) == EXPECTED


def test_statement_hash_is_sha256_of_the_canonical_bytes() -> None:
    assert statement_hash(DOCUMENT) == hashlib.sha256(EXPECTED).hexdigest()
    assert statement_hash(DOCUMENT) == "5e8635d3306a69f05fa670d3ce12328e9b7f7cb683ff96e48ef127e1b9380a2c"
