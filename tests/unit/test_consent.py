"""Who may change who is paid: proposals need standing, a first version the deliverer's consent,
a dispute standing before it escrows, back-dating past a close an operator (DESIGN)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ledger.domain.party import DomainError
from ledger.domain.period import Period
from ledger.rights import NoStanding
from ledger.royalties import read_rights_history

ISRC, LOOSE = "USRC17607839", "USRC17607840"  # LOOSE: delivered on a release, never split
JAN, FEB, MAR = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 2, 3))
Y2000 = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def app(memory_app):
    for key in ("aria", "lbl", "dist", "prod", "eve"):
        memory_app.upsert_party(key, key.title(), ["artist"], "test")
    memory_app.upsert_recording(ISRC, "Moth", "Aria", 180_000, "test", credits=[{"party": "prod", "role": "producer"}])
    memory_app.upsert_recording(LOOSE, "Loose", "Aria", 180_000, "test")
    memory_app.deliver_release(
        "5012345678900", "Album", [ISRC, LOOSE], date(2026, 1, 1), "test", label_key="lbl", delivered_by="dist"
    )
    memory_app.set_split("master", ISRC, {"aria": 500_000, "lbl": 500_000}, JAN, "test", "initial")
    return memory_app


def test_a_party_with_no_part_in_a_recording_cannot_propose_its_split(app):
    for isrc in (ISRC, LOOSE):
        with pytest.raises(NoStanding, match=r"eve neither delivered recording \w+ nor holds or held a share"):
            app.propose_split("master", isrc, {"eve": 1_000_000}, Y2000, "eve", "party:eve", by_operator=False)
    assert app.find_split("master", LOOSE) is None
    # A credit is standing for a dispute, not for proposing who is paid.
    with pytest.raises(NoStanding):
        app.propose_split("master", ISRC, {"prod": 1_000_000}, MAR, "prod", "party:prod", by_operator=False)


def test_a_first_version_needs_a_delivering_party_never_only_the_proposer(app):
    assert app.subject_deliverers("master", LOOSE) == ["dist", "lbl"]
    # An operator may propose on a party's behalf, but that consents to nothing.
    agreement, v = app.propose_split(
        "master", LOOSE, {"eve": 1_000_000}, JAN, "eve", "apikey:x/admin", by_operator=True
    )
    version = agreement.get_version(v)
    assert (version["status"], version["consent_from"], list(version["accepted_by"])) == (
        "proposed",
        ["dist", "lbl"],
        ["eve"],
    )
    assert [(a.subject_key, n) for a, n in app.proposals_awaiting("lbl")] == [(LOOSE, v)]
    assert app.proposals_awaiting("eve") == []  # its own acceptance is recorded with it
    with pytest.raises(DomainError, match=r"needs the acceptance of a party that delivered the subject \(dist, lbl\)"):
        app.get_split("master", LOOSE).activate(v, "someone")
    app.refuse_split("master", LOOSE, v, "lbl", "eve has no contract", "party:lbl")
    assert app.get_split("master", LOOSE).get_version(v)["status"] == "refused"
    with pytest.raises(DomainError, match="refused, not awaiting"):
        app.accept_split("master", LOOSE, v, "dist", "party:dist")
    # The label that delivered it proposes the first version; the new holder's acceptance completes it.
    _, v2 = app.propose_split(
        "master", LOOSE, {"aria": 800_000, "lbl": 200_000}, JAN, "lbl", "party:lbl", by_operator=False
    )
    assert app.get_split("master", LOOSE).get_version(v2)["status"] == "proposed"
    agreement = app.accept_split("master", LOOSE, v2, "aria", "party:aria")
    assert agreement.get_version(v2)["status"] == "active"
    assert app.split_holders("master", LOOSE) == {"aria", "lbl"}  # eve's refused proposal counts for nothing


def test_a_first_version_of_an_undelivered_subject_needs_an_operators_override(app):
    app.upsert_recording("USRC17607841", "Demo", "Eve", 1000, "test")
    agreement, v = app.propose_split(
        "master", "USRC17607841", {"eve": 1_000_000}, JAN, "eve", "apikey:x/admin", by_operator=True
    )
    assert agreement.get_version(v)["consent_from"] == []
    assert agreement.get_version(v)["status"] == "proposed"  # eve accepted, and that is not enough
    agreement = app.activate_split_override("master", "USRC17607841", v, "contract on file", "admin")
    assert agreement.get_version(v)["status"] == "active"


def test_back_dating_before_the_latest_closed_period_needs_an_operator(app):
    app.record_period_close(Period(2026, 1), app.head_position(), None, {}, {}, "test")
    assert app.latest_close_end() == FEB
    with pytest.raises(NoStanding, match="before the end of the latest closed period"):
        app.propose_split("master", ISRC, {"aria": 1_000_000}, JAN, "aria", "party:aria", by_operator=False)
    with pytest.raises(NoStanding, match="before the end of the latest closed period"):
        app.open_dispute("master", ISRC, "prod", 100_000, JAN, "mine", "party:prod", by_operator=False)
    _, v = app.propose_split("master", ISRC, {"aria": 1_000_000}, FEB, "aria", "party:aria", by_operator=False)
    assert app.get_split("master", ISRC).get_version(v)["status"] == "proposed"  # lbl must still accept
    app.propose_split("master", ISRC, {"aria": 1_000_000}, JAN, "aria", "admin", by_operator=True)
    app.open_dispute("master", ISRC, "prod", 100_000, JAN, "mine", "handler", by_operator=True)


def test_a_dispute_without_standing_is_pending_and_moves_no_money_until_admitted(app):
    dispute = app.open_dispute("master", ISRC, "eve", 1_000_000, Y2000, "all mine", "party:eve", by_operator=False)
    assert (dispute.status, dispute.standing) == ("pending", None)
    assert read_rights_history(app).disputes == {}
    with pytest.raises(DomainError, match="pending: admit it"):
        app.resolve_dispute(dispute.id, "upheld", "x", "handler")
    admitted = app.admit_dispute(dispute.id, "evidence of a contract", "handler")
    assert (admitted.status, admitted.standing, admitted.decision_note) == (
        "open",
        "operator",
        "evidence of a contract",
    )
    [fact] = read_rights_history(app).disputes[("master", ISRC)]
    assert fact.opened_at == app.head_position()  # in force from the admission, not the opening
    with pytest.raises(DomainError, match="not pending"):
        app.refuse_dispute(dispute.id, "changed my mind", "handler")


def test_standing_comes_from_a_credit_a_share_or_an_operator(app):
    def opened(claimant: str, by_operator: bool = False) -> tuple[str, str | None]:
        d = app.open_dispute("master", ISRC, claimant, 100_000, FEB, "mine", "t", by_operator=by_operator)
        return d.status, d.standing

    assert opened("prod") == ("open", "credit")
    assert opened("aria") == ("open", "share")
    assert opened("eve", by_operator=True) == ("open", "operator")
    app.set_split("master", ISRC, {"lbl": 1_000_000}, MAR, "test", "aria sold her share")
    assert opened("aria") == ("open", "share")  # a past share still counts
    refused = app.refuse_dispute(
        app.open_dispute("master", ISRC, "eve", 1, FEB, "x", "t", by_operator=False).id, "no", "h"
    )
    assert refused.status == "refused"
    assert [d.claimant for d in read_rights_history(app).disputes[("master", ISRC)]] == ["prod", "aria", "eve", "aria"]


def test_a_claim_is_capped_by_what_there_is_to_take(app):
    def claim(ppm: int, claimant: str = "prod", respondent: str | None = None) -> None:
        app.open_dispute("master", ISRC, claimant, ppm, FEB, "mine", "t", respondent, by_operator=True)

    with pytest.raises(DomainError, match="exceeds the 500000 ppm respondent lbl holds at most"):
        claim(500_001, respondent="lbl")
    claim(500_000, respondent="lbl")
    with pytest.raises(DomainError, match="respondent eve holds no share"):
        claim(1, respondent="eve")
    with pytest.raises(DomainError, match="exceeds the 500000 ppm aria does not already hold"):
        claim(500_001, claimant="aria")
    with pytest.raises(DomainError, match="cannot claim a share from itself"):
        claim(1, claimant="aria", respondent="aria")
    with pytest.raises(DomainError, match="within 1…1,000,000"):
        claim(1_000_001)
    # A later version counts: lbl holds 900 000 from March, so a claim from February may reach it.
    app.set_split("master", ISRC, {"aria": 100_000, "lbl": 900_000}, MAR, "test", "change")
    claim(900_000, respondent="lbl")


def test_a_works_delivering_parties_are_those_of_the_releases_carrying_its_recordings(app):
    app.upsert_work("song", "Song", [{"party": "aria", "role": "composer"}], "test")
    assert app.subject_deliverers("publishing", "song") == []
    app.upsert_recording(LOOSE, "Loose", "Aria", 180_000, "test", work_key="song")
    assert app.subject_deliverers("publishing", "song") == ["dist", "lbl"]
    with pytest.raises(NoStanding):  # a writer's credit is standing for disputes, not proposals
        app.propose_split("publishing", "song", {"aria": 1_000_000}, JAN, "aria", "party:aria", by_operator=False)
    shares = {"aria": 600_000, "dist": 400_000}
    _, v = app.propose_split("publishing", "song", shares, JAN, "dist", "party:dist", by_operator=False)
    assert app.get_split("publishing", "song").get_version(v)["status"] == "proposed"  # aria has to accept
    assert app.accept_split("publishing", "song", v, "aria", "party:aria").get_version(v)["status"] == "active"
    with pytest.raises(DomainError, match="exceeds the 400000 ppm aria does not already hold"):
        app.open_dispute("publishing", "song", "aria", 400_001, JAN, "x", "t", by_operator=False)
    assert app.open_dispute("publishing", "song", "aria", 1, JAN, "x", "t", by_operator=False).standing == "credit"
