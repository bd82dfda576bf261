"""A poison event — one a read model cannot fold — is recorded and skipped; the projector goes on.

Such events are written straight into the log here, past every validation, the way old data
already in a production log would be: the log is append-only, so a projector that fails on
one for good never reaches the head again.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eventsourcing.persistence import StoredEvent

from ledger.application import RoyaltyLedger
from ledger.domain.party import Party
from ledger.store.config import StoreConfig
from projections import queries
from projections.db import ViewDB
from projections.projector import Projector
from projections.rebuild import rebuild
from tests.integration.projection_fixtures import dump_views, record_some_plays, seed_catalogue


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config)
    yield ledger
    ledger.close()


@pytest.fixture
def db(store_config: StoreConfig) -> Iterator[ViewDB]:
    view = ViewDB(store_config)
    yield view
    view.close()


def inject_undecodable_event(app: RoyaltyLedger, party_key: str) -> int:
    """A Party event whose stored state is not JSON: no backend, no read model can decode it."""
    party = app.get_party(party_key)
    [topic] = app.topics_of(Party.DetailsUpdated)  # type: ignore[attr-defined]
    app.recorder.insert_events(
        [StoredEvent(originator_id=party.id, originator_version=party.version + 1, topic=topic, state=b"{not json")]
    )
    return app.head_position()


def inject_nul_name(app: RoyaltyLedger, party_key: str) -> int:
    """What `PUT /v1/parties/p0 {"name": "Bad\\u0000Name"}` wrote before names were checked."""
    party = app.get_party(party_key)
    party.update_details(name="Bad\x00Name", kinds=party.kinds, identifiers=party.identifiers, actor="test")
    # Past LedgerBase._record, which now refuses it: straight into the recorder.
    app.recorder.insert_events([app.mapper.to_stored_event(e) for e in party.collect_events()])
    return app.head_position()


def usage_and_stats(db: ViewDB) -> tuple[int, int]:
    ((rows, gross),) = db.execute("SELECT COUNT(*), SUM(gross_micros) FROM usage_rows")
    ((plays, folded),) = db.execute("SELECT SUM(plays), SUM(gross_micros) FROM stats_minute")
    assert (int(plays), int(folded)) == (int(rows), int(gross))
    return int(rows), int(gross)


def test_a_poison_event_is_recorded_and_every_other_event_of_its_batch_is_folded(app, db) -> None:
    seed_catalogue(app)
    record_some_plays(app, batches=2, per_batch=20, seed=3)
    poison = inject_undecodable_event(app, "aria")
    record_some_plays(app, batches=2, per_batch=20, seed=4, first_id=1_000)
    app.upsert_party("late", "Late Comer", ["artist"], "test")
    head = app.head_position()

    projector = Projector(app, db, batch_size=10_000)  # everything in one batch
    assert projector.catch_up() == head

    assert set(projector.positions().values()) == {head}
    failures = queries.fold_failures(app, db)
    assert [(f["model"], f["position"], f["topic"]) for f in failures] == [
        ("catalogue", poison, "ledger.domain.party:Party.DetailsUpdated")
    ]
    assert failures[0]["error"].startswith("MapperDeserialisationError")
    assert queries.lag(app, db)["failed_events"] == 1
    # The events around the poison one were folded, exactly once.
    names = dict(db.execute("SELECT party_key, name FROM cat_parties"))
    assert names["late"] == "Late Comer" and names["aria"] == "Aria Lune"
    assert usage_and_stats(db)[0] == 80
    # Nothing is folded or recorded twice by a second run.
    assert projector.catch_up() == 0
    assert len(queries.fold_failures(app, db)) == 1
    usage_and_stats(db)


def test_any_batching_skips_the_same_event_and_folds_the_same_rows(app, db, store_config) -> None:
    seed_catalogue(app)
    record_some_plays(app, batches=3, per_batch=10, seed=5)
    inject_undecodable_event(app, "lbl")
    record_some_plays(app, batches=3, per_batch=10, seed=6, first_id=1_000)
    Projector(app, db, batch_size=3).catch_up()
    live = dump_views(db)
    assert rebuild(app, db=db) == dict.fromkeys(("catalogue", "stats", "earnings"), app.head_position())
    assert dump_views(db) == live
    assert [f["model"] for f in queries.fold_failures(app, db)] == ["catalogue"]


def test_a_nul_character_in_a_name_no_longer_stops_the_projector(app, db, store_config) -> None:
    """Issue 15 finding 3: on PostgreSQL the catalogue view cannot store NUL in a text column."""
    seed_catalogue(app)
    poison = inject_nul_name(app, "aria")
    app.upsert_party("late", "Late Comer", ["artist"], "test")
    head = app.head_position()
    Projector(app, db).catch_up()
    assert set(Projector(app, db).positions().values()) == {head}
    names = dict(db.execute("SELECT party_key, name FROM cat_parties"))
    assert names["late"] == "Late Comer"
    failures = queries.fold_failures(app, db)
    if store_config.backend == "postgres":
        assert [(f["model"], f["position"]) for f in failures] == [("catalogue", poison)]
        assert "NUL" in failures[0]["error"] and "\x00" not in failures[0]["error"]
        assert names["aria"] == "Aria Lune"  # the row as of the last event it could fold
    else:  # SQLite stores the NUL: nothing to skip
        assert failures == [] and names["aria"] == "Bad\x00Name"
