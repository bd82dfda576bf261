"""Split agreements: proposal, acceptance by every affected party, activation, back-dating."""

from datetime import UTC, datetime

import pytest

from ledger.domain.party import DomainError

ISRC = "USRC17607839"
JAN, MAR, MAR15 = (datetime(2026, m, d, tzinfo=UTC) for m, d in ((1, 1), (3, 1), (3, 15)))


@pytest.fixture
def app(memory_app):
    for key, kind in (("aria", "artist"), ("lbl", "label"), ("prod", "producer"), ("admin", "other")):
        memory_app.upsert_party(key, key.title(), [kind], "test")
    memory_app.upsert_recording(ISRC, "Moth", "Aria", 180_000, "test")
    memory_app.set_split("master", ISRC, {"aria": 500_000, "lbl": 500_000}, JAN, "test", "initial")
    return memory_app


def test_a_version_activates_only_when_every_affected_party_has_accepted(app):
    agreement, v = app.propose_split(
        "master",
        ISRC,
        {"aria": 400_000, "lbl": 400_000, "prod": 200_000},
        MAR15,
        "aria",
        "party:aria",
        by_operator=False,
    )
    assert agreement.get_version(v)["required"] == ["aria", "lbl", "prod"]
    assert list(agreement.get_version(v)["accepted_by"]) == ["aria"]  # the proposer's, with it
    assert agreement.get_version(v)["consent_from"] is None  # not a first version
    app.accept_split("master", ISRC, v, "prod", "party:prod")
    assert app.get_split("master", ISRC).get_version(v)["status"] == "proposed"
    app.accept_split("master", ISRC, v, "lbl", "party:lbl")
    agreement = app.get_split("master", ISRC)
    assert agreement.get_version(v)["status"] == "active"
    assert agreement.version_in_force(datetime(2026, 3, 14, tzinfo=UTC))["version"] == 1
    assert agreement.version_in_force(MAR15)["shares"]["prod"] == 200_000


def test_an_unaffected_party_cannot_accept_and_no_one_accepts_twice(app):
    _, v = app.propose_split(
        "master", ISRC, {"aria": 600_000, "lbl": 400_000}, MAR, "aria", "party:aria", by_operator=False
    )
    with pytest.raises(DomainError, match="prod is not affected"):
        app.accept_split("master", ISRC, v, "prod", "party:prod")
    with pytest.raises(DomainError, match="already accepted"):
        app.accept_split("master", ISRC, v, "aria", "party:aria")


def test_an_admin_override_needs_a_reason_and_is_recorded(app):
    _, v = app.propose_split(
        "master", ISRC, {"aria": 600_000, "lbl": 400_000}, MAR, "aria", "party:aria", by_operator=False
    )
    with pytest.raises(DomainError, match="needs a reason"):
        app.activate_split_override("master", ISRC, v, "  ", "admin")
    agreement = app.activate_split_override("master", ISRC, v, "label unreachable, contract clause 7", "admin")
    assert agreement.get_version(v)["override_reason"] == "label unreachable, contract clause 7"


def test_a_back_dated_correction_governs_from_its_effective_time_until_the_next_version(app):
    app.set_split("master", ISRC, {"aria": 700_000, "lbl": 300_000}, MAR15, "test", "change")
    app.set_split("master", ISRC, {"aria": 550_000, "lbl": 450_000}, MAR, "test", "correction", kind="correction")
    agreement = app.get_split("master", ISRC)
    assert agreement.version_in_force(datetime(2026, 2, 1, tzinfo=UTC))["version"] == 1
    assert agreement.version_in_force(datetime(2026, 3, 10, tzinfo=UTC))["version"] == 3
    assert agreement.version_in_force(datetime(2026, 3, 20, tzinfo=UTC))["version"] == 2


def test_naive_times_are_refused(app):
    with pytest.raises(ValueError, match="no time zone"):
        app.propose_split("master", ISRC, {"aria": 1_000_000}, datetime(2026, 3, 1), "aria", "x", by_operator=False)


def test_disputes_and_resolution_activate_the_corrected_split(app):
    dispute = app.open_dispute(
        "master", ISRC, "prod", 100_000, MAR, "email agreement", "handler", respondent="lbl", by_operator=True
    )
    assert dispute.status == "open" and dispute.standing == "operator"
    assert dispute.escrow_account == f"escrow:{dispute.id}"
    app.resolve_dispute(
        dispute.id,
        "upheld",
        "evidence accepted",
        "handler",
        corrected_shares={"aria": 500_000, "lbl": 400_000, "prod": 100_000},
    )
    assert app.get_dispute(dispute.id).outcome == "upheld"
    in_force = app.get_split("master", ISRC).version_in_force(MAR)
    assert in_force["shares"]["prod"] == 100_000 and in_force["kind"] == "dispute_resolution"
    with pytest.raises(DomainError, match="already resolved"):
        app.resolve_dispute(dispute.id, "rejected", "again", "handler")


def test_takedowns_apply_by_territory_from_their_effective_time_until_reinstated(app):
    app.take_down("recording", ISRC, ["DE"], "court order", MAR, "admin")
    rec = app.get_recording(ISRC)
    assert rec.unavailable_reason("DE", datetime(2026, 2, 28, tzinfo=UTC)) is None
    assert rec.unavailable_reason("DE", MAR15) == "court order"
    assert rec.unavailable_reason("FR", MAR15) is None
    app.take_down("recording", ISRC, ["DE"], "order lifted", datetime(2026, 4, 1, tzinfo=UTC), "admin", reinstate=True)
    assert app.get_recording(ISRC).unavailable_reason("DE", datetime(2026, 4, 2, tzinfo=UTC)) is None


def test_redelivering_the_same_recording_writes_nothing(app):
    head = app.head_position()
    _, changed = app.upsert_recording(ISRC, "Moth", "Aria", 180_000, "test")
    assert not changed and app.head_position() == head
    _, changed = app.upsert_recording(ISRC, "Moth (Remastered)", "Aria", 180_000, "test")
    assert changed and app.get_recording(ISRC).title == "Moth (Remastered)"
