"""The SQLite writer process: what it stores is what the in-process path stores, a refused batch
leaves nothing behind, and a dead writer is reported, never waited for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.usage_batch import UsageBatch
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations
from ledger.usage import writer as writer_module
from ledger.usage.ingest import UsageIngest
from ledger.usage.lines import lines_from_rows
from ledger.usage.rows import normalise_dicts
from ledger.usage.store import UsageConflict, UsageStore, UsageWrite
from tests.usage_helpers import ALBUM, ISRCS, SECRET, build_catalogue, clock, play, sale


def _store(path: Path) -> RoyaltyLedger:
    config = StoreConfig.from_url(str(path))
    apply_migrations(config)
    app = RoyaltyLedger(config, clock=clock)
    build_catalogue(app)
    return app


def _rows() -> list[dict[str, Any]]:
    """Repeat plays (stream2own steps up across batches), short plays, a duplicate, bad rows, a
    release purchase and its refund in a later batch."""
    rows = [
        play(
            f"p{i}",
            listener=f"fan{i % 3}",
            isrc=ISRCS[i % 2],
            seconds=20 + i % 50,
            at=f"2026-10-{1 + i % 20:02d}T10:00:00Z",
        )
        for i in range(60)
    ]
    rows.insert(10, play("p3", listener="fan0", isrc=ISRCS[1], seconds=23, at="2026-10-04T10:00:00Z"))  # duplicate
    rows.insert(20, play("bad-territory", territory="ZZ"))
    rows.insert(30, sale("s1", "9.99", upc=ALBUM))
    rows.append(sale("r1", "-4.00", kind="refund", upc=ALBUM, refund_of="s1"))
    return rows


def _batches(rows: list[dict[str, Any]], size: int) -> list[Any]:
    return [normalise_dicts(rows[i : i + size], "player") for i in range(0, len(rows), size)]


def _state(app: RoyaltyLedger) -> dict[str, Any]:
    store = UsageStore(app)
    events = [app.decode(n) for n in app.read_log(topics=app.topics_of(UsageBatch.Recorded))]
    return {
        "rows": store.query(*["SELECT * FROM usage_rows ORDER BY position, source, usage_id, line_no"] * 2),
        "quarantine": store.query(*["SELECT * FROM usage_quarantine ORDER BY quarantine_id"] * 2),
        "ownership": store.query(*["SELECT * FROM usage_ownership ORDER BY listener_hash, isrc"] * 2),
        "events": [(e.originator_id, e.row_count, e.rows_sha256, e.totals, e.quarantined) for e in events],
    }


def test_the_writer_process_stores_exactly_what_the_in_process_path_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saves: list[int] = []
    original = writer_module.ProcessWriter.save_packed

    def counting(self: Any, *args: Any) -> list[int]:
        positions = original(self, *args)
        saves.extend(positions)
        return positions

    monkeypatch.setattr(writer_module.ProcessWriter, "save_packed", counting)
    states = []
    for name, separate in (("child.db", True), ("inline.db", False)):
        app = _store(tmp_path / name)
        saves.clear()
        summary = UsageIngest(app, "test", secret=SECRET, writer_process=separate).run(_batches(_rows(), 9))
        assert summary.duplicates == 1 and summary.quarantined == {"unknown_territory": 1}
        states.append(_state(app))
        app.close()
        assert bool(saves) is separate  # the first run really went through the child process, the second not
    child, inline = states
    assert len(child["rows"]) == 60 + 3 + 3  # plays, the album's three tracks, their refund
    assert child == inline


def test_a_batch_the_writer_process_refuses_leaves_nothing_behind(tmp_path: Path) -> None:
    app = _store(tmp_path / "refused.db")
    head = app.head_position()
    writer = writer_module.ProcessWriter(app.config, app.env)
    try:
        batch = UsageBatch(
            source="player",
            kind="stream",
            row_count=1,
            line_count=1,
            rows_sha256="0" * 64,
            totals={"EUR": 2000},
            kinds={"stream": 1},
            pricing_versions=[1],
            quarantined={},
            owners_acquired=0,
            resolved_quarantine=0,
            listener_key_id="k",
            origin="test",
            actor="test",
        )
        line = (
            "player",
            "x1",
            0,
            "stream",
            1,
            ISRCS[0],
            None,
            "ab" * 32,  # hex, as every stored hash
            "DE",
            60,
            "EUR",
            2000,
            "stream2own",
            1,
            1,
            True,
            "cd" * 32,
            None,
        )
        stale = UsageWrite(batch.id.hex, expected_watermark=head + 99, lines=lines_from_rows([line]))
        with pytest.raises(UsageConflict, match="watermark moved"):
            writer.save(writer_module.stored_events_of(app, batch), stale)
    finally:
        writer.close()
    assert app.head_position() == head
    assert UsageStore(app).query(*["SELECT COUNT(*) FROM usage_rows"] * 2)[0][0] == 0
    app.close()


def test_a_dead_writer_process_is_reported_not_waited_for(tmp_path: Path) -> None:
    app = _store(tmp_path / "dead.db")
    writer = writer_module.ProcessWriter(app.config, app.env)
    writer._process.kill()
    writer._process.wait()
    with pytest.raises(writer_module.WriterDied, match="exited"):
        writer.save([], UsageWrite("0" * 32, 0))
    writer.close()
    app.close()
