"""A split delivered with a release is recorded as one `SplitAgreement.Established` event, read
everywhere exactly as the Opened + SplitVersionProposed + SplitVersionActivated it replaces."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.trail import ownership_trail
from ledger.application import RoyaltyLedger
from ledger.domain.split_agreement import SplitAgreement
from ledger.history import split_history
from ledger.ingest.importer import import_paths
from ledger.royalties.history import fold_history, read_rights_history
from ledger.store.config import StoreConfig
from ledger.webhook_topics import TYPES
from operations.webhook_messages import read_events

ISRC = "USRC17607839"
JAN, MAR, MAR15 = (datetime(2026, m, d, tzinfo=UTC) for m, d in ((1, 1), (3, 1), (3, 15)))
NOW = datetime(2025, 9, 1, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ern"


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config, clock=lambda: NOW)
    yield ledger
    ledger.close()


def test_a_delivered_split_is_one_event_with_the_state_of_the_three_it_replaces(app: RoyaltyLedger) -> None:
    """A delivery opens an agreement with its first version active as ONE `Established` event;
    the agreement, its history, the rights facts statements read and the trail are those of
    Opened + SplitVersionProposed + SplitVersionActivated (which older logs hold)."""
    for key in ("aria", "lbl"):
        app.upsert_party(key, key.title(), ["artist"], "test")
    for isrc in (ISRC, "GBAYE0601498"):
        app.upsert_recording(isrc, "Moth", "Aria", 180_000, "test")
    shares = {"lbl": 400_000, "aria": 600_000}
    three, _ = app._prepare_split("master", ISRC, shares, JAN, "test", "delivered", "initial")
    one, _ = app._prepare_split("master", "GBAYE0601498", shares, JAN, "test", "delivered", "initial", one_event=True)
    app.save(three, one)
    assert [type(e).__name__ for e in app.repository.event_store.get(one.id)] == ["Established"]
    stored = app.get_split("master", "GBAYE0601498")
    assert isinstance(stored, SplitAgreement)
    assert stored.versions == app.get_split("master", ISRC).versions
    assert stored.activation_seq == 1 and stored.version_in_force(MAR)["shares"] == shares

    def without_stamps(history: list[dict[str, object]]) -> list[dict[str, object]]:
        return [
            {k: v for k, v in version.items() if k not in ("proposed", "activation", "acceptances")}
            | {"override_reason": version["activation"]["override_reason"]}
            for version in history
        ]

    established = split_history(app, "master", "GBAYE0601498")
    assert without_stamps(established) == without_stamps(split_history(app, "master", ISRC))
    assert established[0]["proposed"]["position"] == established[0]["activation"]["position"]
    facts = fold_history((n.id, app.decode(n)) for n in app.read_log()).versions
    [old], [new] = facts[("master", ISRC)], facts[("master", "GBAYE0601498")]
    assert (new.version, new.shares, new.effective_from_us, new.kind) == (
        old.version,
        old.shares,
        old.effective_from_us,
        old.kind,
    )
    # a later change to a delivered split is proposed and accepted as before
    agreement, version = app.propose_split(
        "master", "GBAYE0601498", {"aria": 1_000_000}, MAR, "aria", "party:aria", by_operator=False
    )
    assert version == 2 and agreement.get_version(2)["required"] == ["aria", "lbl"]
    app.accept_split("master", "GBAYE0601498", 2, "lbl", "party:lbl")
    assert app.get_split("master", "GBAYE0601498").version_in_force(MAR15)["shares"] == {"aria": 1_000_000}


def test_an_imported_release_records_each_split_once_and_reads_it_back(app: RoyaltyLedger) -> None:
    import_paths(app, [FIXTURES / "ern43_album.xml"], "test")
    topics = [n.topic.rpartition(".")[2] for n in app.read_log() if ":SplitAgreement." in n.topic]
    assert topics and set(topics) == {"Established"}
    head = app.head_position()
    import_paths(app, [FIXTURES / "ern43_album.xml"], "test")
    assert app.head_position() == head  # a re-delivery changes nothing
    facts = fold_history((n.id, app.decode(n)) for n in app.read_log()).versions
    assert len(facts) == len(topics) and all(v[0].version == 1 for v in facts.values())
    assert read_rights_history(app).versions == facts  # the statements' read, straight from the store
    (right, subject), [fact] = next(iter(facts.items()))
    [version] = split_history(app, right, subject)
    assert version["status"] == "active" and version["activation"]["position"] == fact.activated_at
    trail = ownership_trail(app, right, subject)
    assert "Established" in [e["event"] for e in trail]
    assert TYPES["SplitAgreement.Established"] == "split.activated"
    messages = read_events(app, [n for n in app.read_log() if n.topic.endswith("SplitAgreement.Established")])
    assert len(messages) == len(topics) and {m.type for m in messages} == {"split.activated"}
    assert all(m.data["version"] == 1 and m.data["status"] == "active" and m.parties for m in messages)
