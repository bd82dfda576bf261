"""The fixed-width usage key (migration 0040, ledger.usage.keys): a 64-bit slot per usage id,
the full id kept and compared. A collision — forced here with an injected hash — never drops,
merges or misprices a row, in one batch or across batches, for plays, sales and refunds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from ledger.usage import keys
from ledger.usage.ingest import IngestSummary, ingest_rows
from ledger.usage.quarantine import list_quarantine
from ledger.usage.store import UsageStore
from ledger.usage.verify import verify_usage
from tests.usage_helpers import ALBUM, ISRCS, SECRET, build_catalogue, clock, play, sale

COLLIDING = {"c1", "c2", "c3", "s1", "s2"}
SLOT = 7 << 10  # every colliding id's first slot


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config, clock=clock)
    build_catalogue(ledger)
    yield ledger
    ledger.close()


@pytest.fixture
def colliding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ids in COLLIDING all hash to SLOT at their first probe; later probes are the real ones."""
    real: Callable[[str, str, int], int] = keys.slot_hash

    def forced(source: str, usage_id: str, probe: int = 0) -> int:
        return SLOT if usage_id in COLLIDING and probe == 0 else real(source, usage_id, probe)

    monkeypatch.setattr(keys, "slot_hash", forced)


def ingest(app: RoyaltyLedger, rows: list[dict[str, Any]], batch_size: int = 1_000) -> IngestSummary:
    return ingest_rows(app, rows, actor="test", secret=SECRET, batch_size=batch_size)


def stored(app: RoyaltyLedger) -> dict[str, list[tuple[int, int, int]]]:
    """usage_id → [(usage_key, line_no, gross)] by line."""
    sql = "SELECT usage_id, usage_key, line_no, gross_micros FROM usage_rows ORDER BY usage_id, line_no"
    found: dict[str, list[tuple[int, int, int]]] = {}
    for uid, key, line, gross in UsageStore(app).query(sql, sql):
        found.setdefault(uid, []).append((int(key), int(line), int(gross)))
    return found


@pytest.mark.usefixtures("colliding")
@pytest.mark.parametrize("batch_size", [1, 10], ids=["across-batches", "one-batch"])
def test_colliding_ids_are_each_stored_once_and_recognised_again(app: RoyaltyLedger, batch_size: int) -> None:
    rows = [play("c1"), play("c2", listener="l2"), play("c3", listener="l3"), play("plain")]
    first = ingest(app, rows, batch_size)
    assert (first.accepted, first.duplicates, sum(first.quarantined.values())) == (4, 0, 0)
    lines = stored(app)
    assert sorted(lines) == ["c1", "c2", "c3", "plain"]
    taken = [lines[uid][0][0] for uid in ("c1", "c2", "c3")]
    assert len(set(taken)) == 3 and SLOT in taken  # one took the slot, the others probed on
    assert all(keys.slot_of_key(k) == k for k in taken)  # line 0: the key is the slot

    again = ingest(app, rows, batch_size)
    assert (again.accepted, again.duplicates, again.batches) == (0, 4, 0)
    changed = ingest(app, [play("c2", listener="l2", seconds=61), play("c3", listener="l3", at="2026-10-06T10:00:00Z")])
    assert changed.accepted == 0
    assert sorted((r.usage_id, r.reason) for r in list_quarantine(app)) == [
        ("c2", "different_payload"),
        ("c3", "different_payload"),
    ]
    assert stored(app) == lines
    assert verify_usage(app).ok


@pytest.mark.usefixtures("colliding")
def test_a_colliding_id_that_is_not_written_leaves_its_slot_to_the_next(app: RoyaltyLedger) -> None:
    """c1 is quarantined (unknown recording): c2, which collides with it, takes the first slot —
    had it probed past c1's slot, that slot would stay empty and a lookup of c2 stop there."""
    first = ingest(app, [play("c1", isrc="USRL12699999"), play("c2", listener="l2")])
    assert (first.accepted, dict(first.quarantined)) == (1, {"unknown_isrc": 1})
    assert stored(app)["c2"][0][0] == SLOT
    again = ingest(app, [play("c2", listener="l2")])
    assert (again.accepted, again.duplicates) == (0, 1)
    assert verify_usage(app).ok


@pytest.mark.usefixtures("colliding")
def test_a_refund_finds_its_own_sale_among_colliding_ones(app: RoyaltyLedger) -> None:
    ingest(app, [sale("s1", "3.00", isrc=ISRCS[0]), sale("s2", "9.00", upc=ALBUM)], batch_size=1)
    summary = ingest(app, [sale("r2", "4.50", kind="refund", refund_of="s2", upc=ALBUM)])
    assert summary.accepted == 1, list_quarantine(app)
    lines = stored(app)
    assert [line[2] for line in lines["s2"]] == [3_000_000] * 3 and len(lines["s1"]) == 1
    assert keys.slot_of_key(lines["s1"][0][0]) != keys.slot_of_key(lines["s2"][0][0])
    # Each refund line names its sale line's key, and reverses it by half.
    sql = "SELECT line_no, refund_key, gross_micros FROM usage_rows WHERE kind = 'refund' ORDER BY line_no"
    refund = UsageStore(app).query(sql, sql)
    assert [(int(n), int(k), int(g)) for n, k, g in refund] == [
        (n, key, -1_500_000) for key, n, _ in lines["s2"]
    ]
    # A second refund of the same sale counts the first (refunds never exceed the sale).
    over = ingest(app, [sale("r3", "4.51", kind="refund", refund_of="s2", upc=ALBUM)])
    assert over.accepted == 0 and dict(over.quarantined) == {"absurd_amount": 1}
    assert verify_usage(app).ok


def test_the_store_computes_the_same_first_slot_as_the_ingest(app: RoyaltyLedger) -> None:
    """Migration 0040 converts stored rows with SQL's royalty_usage_slot (PostgreSQL) or the
    runner's registered function (SQLite): both must be ledger.usage.keys' slot."""
    ingest(app, [play("p1"), play("ü-ñ ✓", listener="l2"), sale("s9", "9.00", upc=ALBUM)])
    for uid, lines in stored(app).items():
        for key, line, _ in lines:
            assert key == keys.line_key(keys.slot_of("player", uid), line)
    if app.config.backend == "postgres":
        sql = "SELECT royalty_usage_slot(source, usage_id) | line_no, usage_key FROM usage_rows"
        assert all(a == b for a, b in UsageStore(app).query(sql, sql))
