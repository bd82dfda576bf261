"""`royalty audit verify` recomputes every usage batch from the usage table: an altered, removed
or smuggled-in row is named by its batch position; batches from before digest scheme 2 are
counted, not failed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.usage_batch import UsageBatch
from ledger.store.config import StoreConfig
from ledger.usage.ingest import ingest_rows
from ledger.usage.keys import usage_key
from ledger.usage.quarantine import retry_quarantine
from ledger.usage.store import PG_COLUMN_NAMES, SQLITE_COLUMN_NAMES
from ledger.usage.verify import verify_usage
from tests.usage_helpers import ISRCS, SECRET, build_catalogue, clock, play, sale


def _ledger(config: StoreConfig) -> RoyaltyLedger:
    ledger = RoyaltyLedger(config, clock=clock)
    build_catalogue(ledger, with_single=False)
    rows = [play(f"p{i}", listener=f"fan{i % 3}", seconds=30 + i) for i in range(20)]
    rows += [sale("t1", "2.50", kind="tip", isrc=ISRCS[1]), play("late-single", isrc=ISRCS[3])]
    ingest_rows(ledger, rows, actor="test", secret=SECRET, batch_size=8)
    return ledger


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = _ledger(store_config)
    yield ledger
    ledger.close()


@pytest.fixture
def sqlite_app(sqlite_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    """For what only SQLite stores (migration 0050's packed columns): run there, not skipped elsewhere."""
    ledger = _ledger(sqlite_config)
    yield ledger
    ledger.close()


def _tamper(app: RoyaltyLedger, statement: str) -> None:
    """Change the table behind the application's back, as an intruder with the database's
    credentials could: the append-only triggers are switched off for this one statement."""
    with app.recorder.datastore.transaction(commit=True) as c:
        if app.config.backend == "sqlite":
            c.execute("DROP TRIGGER usage_rows_no_update")
            c.execute("DROP TRIGGER usage_rows_no_delete")
        else:
            c.execute("SET LOCAL session_replication_role = replica")
        c.execute(statement)


def _positions(app: RoyaltyLedger) -> list[int]:
    return [int(n.id) for n in app.read_log(topics=app.topics_of(UsageBatch.Recorded))]


def test_untouched_usage_verifies_including_a_resolved_quarantine_entry(app: RoyaltyLedger) -> None:
    app.deliver_release("00000000002004", "Single", ISRCS[3:], __import__("datetime").date(2026, 6, 1), "test")
    retry_quarantine(app, actor="test", secret=SECRET)
    report = verify_usage(app)
    assert report.ok, report.problems
    assert report.batches == len(_positions(app)) >= 4
    assert report.digests_recomputed == report.batches and report.lines == 22


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ("UPDATE usage_rows SET gross_micros = gross_micros + 1 WHERE usage_id = 'p3'", "sum to"),
        ("UPDATE usage_rows SET territory = 'FR' WHERE usage_id = 'p3'", "canonical SHA-256"),
        ("DELETE FROM usage_rows WHERE usage_id = 'p3'", "lines stored"),
    ],
)
def test_an_altered_or_removed_row_is_named_by_its_batch(app: RoyaltyLedger, statement: str, problem: str) -> None:
    first = _positions(app)[0]
    _tamper(app, statement)
    report = verify_usage(app)
    assert not report.ok
    assert {p for p, _ in report.problems} == {first}
    assert any(problem in text for _, text in report.problems)


@pytest.mark.parametrize(
    "statement",
    [
        # A stream's payload hash left to be recomputed (NULL), given one: the row no longer
        # reads as it was sent.
        "UPDATE usage_rows SET payload_sha256 = zeroblob(32) WHERE usage_id = 'p3'",
        # A play moved to another listener (fan0 → fan1's id), or a listener's HMAC rewritten.
        "UPDATE usage_rows SET listener_id = listener_id % 3 + 1 WHERE usage_id = 'p3'",
        "UPDATE usage_listeners SET listener_hash = zeroblob(32) WHERE listener_id = "
        "(SELECT listener_id FROM usage_rows WHERE usage_id = 'p3')",
        # Kind and pricing model by their codes.
        "UPDATE usage_rows SET pricing_code = 1 WHERE usage_id = 'p3'",
        "UPDATE usage_rows SET kind_code = 1 WHERE usage_id = 'p3'",
    ],
)
def test_sqlite_packed_columns_altered_are_caught(sqlite_app: RoyaltyLedger, statement: str) -> None:
    """Migration 0050's stored forms (listener ids, codes, payload hashes left out) are still
    covered by every batch's digest."""
    app = sqlite_app
    assert verify_usage(app).ok
    with app.recorder.datastore.transaction(commit=True) as c:
        c.execute("DROP TRIGGER usage_listeners_no_update")
    _tamper(app, statement)
    report = verify_usage(app)
    assert not report.ok
    assert any("canonical SHA-256" in text for _, text in report.problems), report.problems


def test_a_row_smuggled_in_at_no_batch_is_reported(app: RoyaltyLedger) -> None:
    # The lean tables (migrations 0040 and 0045): the ghost under its own key.
    ghost = {"position": "position + 1000", "usage_key": "royalty_usage_key(source, 'ghost')", "usage_id": "'ghost'"}
    values = ", ".join(ghost.get(c, c) for c in PG_COLUMN_NAMES.split(", "))
    postgres = f"INSERT INTO usage_rows ({PG_COLUMN_NAMES}) SELECT {values} FROM usage_rows WHERE usage_id = 'p1'"
    ghost["usage_key"] = str(usage_key("player", "ghost"))
    values = ", ".join(ghost.get(c, c) for c in SQLITE_COLUMN_NAMES.split(", "))
    sqlite = f"INSERT INTO usage_rows ({SQLITE_COLUMN_NAMES}) SELECT {values} FROM usage_rows WHERE usage_id = 'p1'"
    _tamper(app, sqlite if app.config.backend == "sqlite" else postgres)
    report = verify_usage(app)
    assert len(report.problems) == 1 and report.problems[0][0] == 0
    assert report.problems[0][1].startswith("1 usage lines stored ") and "no batch event holds" in report.problems[0][1]


def test_a_batch_from_before_digest_scheme_2_is_counted_not_failed(app: RoyaltyLedger) -> None:
    legacy: dict[str, Any] = dict(
        source="player", kind="none", row_count=0, line_count=0, rows_sha256="0" * 64, totals={}, kinds={},
        pricing_versions=[], quarantined={}, owners_acquired=0, resolved_quarantine=0, listener_key_id="k",
        origin="test", actor="test", digest_scheme=1,
    )  # fmt: skip
    app.save(UsageBatch(**legacy))
    report = verify_usage(app)
    assert report.ok and report.digests_not_recomputable == 1
    assert report.digests_recomputed == report.batches - 1


def test_synthetic_batches_of_the_projector_fixtures_verify_too(app: RoyaltyLedger) -> None:
    import random

    from benchmarks.usage_feed import make_plays, record_plays

    rows = make_plays(
        random.Random(3), 50, ISRCS[:3], ["DE", "FR"], 1_790_000_000_000_000, 86_400_000_000, first_id=1000
    )
    record_plays(app, rows)
    report = verify_usage(app)
    assert report.ok, report.problems
    assert report.digests_recomputed == report.batches
