"""The split versions and recordings the database keeps as events are written (migration 0036)
read back as exactly the rights history a fold of the events gives, at every position."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from ledger.application import RoyaltyLedger
from ledger.royalties.history import RightsHistory, read_rights_history
from ledger.royalties.stored_facts import stored_facts_problems
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, migrations_dir, pg_conninfo

JAN, FEB, MAR = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 2, 3))
NOW = datetime(2026, 4, 1, tzinfo=UTC)
ISRCS = ("USRC17607839", "GBAYE0601498", "USRC17607847")
# Read with a skipped position no event has, read_rights_history folds every event's JSON.
FOLD = {0}


def _write_history(app: RoyaltyLedger) -> None:
    """Versions proposed, accepted, refused and overridden, back-dated and tied on
    effective_from, a delivered (Established) split, a pending proposal, a recording renamed
    and linked to a work, a takedown."""
    for key in ("aria", "lbl", "pub"):
        app.upsert_party(key, key.title(), ["artist"], "test")
    app.upsert_work("w1", "Moth", [{"party": "pub", "role": "composer"}], "test")
    for isrc in ISRCS:
        app.upsert_recording(isrc, "Moth", "Aria", 180_000, "test")
    app.set_split("master", ISRCS[0], {"aria": 600_000, "lbl": 400_000}, JAN, "test", "initial")
    app.upsert_recording(ISRCS[0], "Moth (remaster)", "Aria", 181_000, "test", work_key="w1")
    app.set_split("publishing", "w1", {"pub": 1_000_000}, JAN, "test", "initial")
    _, version = app.propose_split(
        "master", ISRCS[0], {"aria": 1_000_000}, FEB, "aria", "party:aria", by_operator=False
    )
    app.accept_split("master", ISRCS[0], version, "lbl", "party:lbl")
    # Back-dated, and tied on effective_from with version 2: the later activation wins.
    _, tied = app.propose_split("master", ISRCS[0], {"lbl": 1_000_000}, FEB, "lbl", "operator", by_operator=True)
    app.activate_split_override("master", ISRCS[0], tied, "correction", "test")
    _, refused = app.propose_split(
        "master", ISRCS[0], {"aria": 500_000, "lbl": 500_000}, MAR, "aria", "x", by_operator=False
    )
    app.refuse_split("master", ISRCS[0], refused, "lbl", "no", "party:lbl")
    one, _ = app._prepare_split(
        "master", ISRCS[1], {"lbl": 1_000_000}, JAN, "test", "delivered", "initial", one_event=True
    )
    app.save(one)
    app.set_split("master", ISRCS[2], {"aria": 1_000_000}, JAN, "test", "initial")
    app.propose_split("master", ISRCS[2], {"aria": 300_000, "lbl": 700_000}, MAR, "aria", "x", by_operator=False)
    app.take_down("recording", ISRCS[2], ["DE"], "rights", FEB, "test")


def _public(history: RightsHistory) -> dict[str, object]:
    return {f.name: getattr(history, f.name) for f in fields(history) if not f.name.startswith("_")} | {
        "_subjects": history._subjects,
        "_isrcs": history._isrcs,
    }


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config, clock=lambda: NOW)
    yield ledger
    ledger.close()


def test_the_stored_facts_read_as_the_fold_of_the_events_at_every_position(app: RoyaltyLedger) -> None:
    _write_history(app)
    head = app.head_position()
    assert stored_facts_problems(app.config, head) == []
    for upto in range(1, head + 1):
        stored, folded = read_rights_history(app, upto), read_rights_history(app, upto, skip=FOLD)
        assert _public(stored) == _public(folded), upto
        # what a later activation folded as an event needs: every pending proposal
        assert {k: v for k, v in folded._proposed.items() if k in stored._proposed} == stored._proposed, upto
    middle = head // 2
    continued = read_rights_history(app, head, into=read_rights_history(app, middle))
    assert _public(continued) == _public(read_rights_history(app, head, skip=FOLD))
    # continued by folding decoded events, as the earnings read model does
    by_events = read_rights_history(app, middle)
    for note in app.read_log(middle + 1, stop=head):
        by_events.fold(note.id, app.decode(note))
    assert _public(by_events) == _public(continued)


def test_a_store_migrated_from_before_gets_its_facts_from_the_log(
    store_config: StoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 0036 backfills the facts of the events already in the log; `royalty audit
    verify`'s comparison names a row that differs from them."""
    earlier = tmp_path / "migrations"
    for backend in ("sqlite", "postgres"):
        (earlier / backend).mkdir(parents=True)
        for path in sorted((migrations_dir() / backend).glob("*.sql")):
            if not path.name.startswith("0036"):
                (earlier / backend / path.name).write_text(path.read_text())
    fresh = store_config if store_config.backend == "postgres" else StoreConfig.from_url(str(tmp_path / "old.db"))
    if fresh.backend == "postgres":
        with psycopg.connect(pg_conninfo(fresh)) as pg:
            pg.execute("DROP TABLE rights_split_subjects, rights_split_proposals, rights_split_versions")
            pg.execute("DROP TABLE rights_recording_facts")
            pg.execute("DROP TRIGGER stored_events_rights_facts ON stored_events")
            pg.execute("DELETE FROM schema_migrations WHERE version = '0036'")
    else:
        monkeypatch.setenv("ROYALTY_MIGRATIONS_DIR", str(earlier))
        apply_migrations(fresh)
        monkeypatch.delenv("ROYALTY_MIGRATIONS_DIR")
    ledger = RoyaltyLedger(fresh, clock=lambda: NOW)
    try:
        _write_history(ledger)
        assert apply_migrations(fresh) == ["0036"]
        head = ledger.head_position()
        assert stored_facts_problems(fresh, head) == []
        assert _public(read_rights_history(ledger, head)) == _public(read_rights_history(ledger, head, skip=FOLD))
        # A row forged at the position of the takedown (the last event) is named.
        forged = (
            f"INSERT INTO rights_recording_facts SELECT {head}, recording_id, NULL, 'Forged', work_key "
            f"FROM rights_recording_facts WHERE isrc = '{ISRCS[0]}'"
        )
        if fresh.backend == "postgres":
            with psycopg.connect(pg_conninfo(fresh)) as pg:
                pg.execute(forged)
        else:
            assert fresh.sqlite_path is not None
            with sqlite3.connect(fresh.sqlite_path) as lite:
                lite.execute(forged)
        [problem] = stored_facts_problems(fresh, head)
        assert problem.startswith("rights_recording_facts differs from the events it is kept from at ")
    finally:
        ledger.close()
