"""Consent and standing through the API (issue 15, findings 1 and 2): a party key can neither take
over a recording nobody split nor move anyone's earnings into escrow without standing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from api.app import create_app
from api.deps import ApiSettings
from ledger.domain.period import Period
from ledger.store.config import StoreConfig
from tests.e2e.api_fixtures import ISRC_A, UPC_A, Api, TestClient, seed_catalogue, set_money_rules

ISRC_C = "GBAYE2600003"  # delivered on a release by the label, credited to alice, never split
UPC_C = "5012345678917"


@pytest.fixture(autouse=True)
def listener_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROYALTY_LISTENER_SECRET", "api-test-listener-secret-0123456789")


@pytest.fixture
def projected_api(store_config: StoreConfig, cheap_key_hashing: None) -> Iterator[Api]:
    app = create_app(store_config, projector=True, settings=ApiSettings(read_wait_s=20))
    with TestClient(app) as client:
        yield Api(client, app.state.ledger)


def _seed(api: Api, admin: dict[str, str]) -> None:
    seed_catalogue(api, admin)
    set_money_rules(api)
    r = api.client.put(
        f"/v1/recordings/{ISRC_C}",
        json={
            "title": "Unsplit",
            "display_artist": "Alice",
            "duration_ms": 180_000,
            "credits": [{"party": "alice", "role": "main_artist"}],
        },
        headers=admin,
    )
    assert r.status_code == 200, r.text
    r = api.client.put(
        f"/v1/releases/{UPC_C}",
        json={"title": "Single", "track_isrcs": [ISRC_C], "release_date": "2026-01-01", "label_key": "label"},
        headers=admin,
    )
    assert r.status_code == 200, r.text


def _report(api: Api, isrcs: list[str]) -> int:
    rows = [
        {
            "play_id": f"c{i}",
            "isrc": isrc,
            "listener_id": f"l{i}",
            "territory": "GB",
            "occurred_at": "2026-02-03T10:00:00Z",
            "seconds_played": 100,
        }
        for i, isrc in enumerate(isrcs)
    ]
    r = api.client.post("/v1/usage/batches", json={"rows": rows}, headers=api.key("platform"))
    assert r.status_code == 200 and r.json()["accepted"] == len(rows), r.text
    return int(r.json()["position"])


def _earned(api: Api, party: str, isrc: str, position: int) -> int:
    r = api.client.get(
        f"/v1/parties/{party}/earnings",
        params={"by": "recording", "min_position": position},
        headers=api.key("admin"),
    )
    assert r.status_code == 200, r.text
    return sum(line["amount_micros"] for line in r.json()["lines"] if line["key"] == isrc)


def _propose(api: Api, party: str, isrc: str, shares: dict[str, int], headers: dict[str, str], **extra: Any) -> Any:
    body = {"right": "master", "subject_key": isrc, "shares": shares, "effective_from": "2000-01-01T00:00:00Z"}
    return api.client.post(f"/v1/parties/{party}/split-proposals", json=body | extra, headers=headers)


def test_a_party_key_cannot_take_over_a_recording_nobody_split(projected_api: Api) -> None:
    api = projected_api
    admin = api.key("admin")
    _seed(api, admin)
    carol = api.key("party", "carol")
    r = _propose(api, "carol", ISRC_C, {"carol": 1_000_000}, carol)
    assert r.status_code == 403, r.text  # was 201 "active": the proposer was the only acceptance required
    problem = r.json()
    assert problem["type"].endswith("/no-standing") and r.headers["content-type"] == "application/problem+json"
    assert "carol neither delivered recording GBAYE2600003 nor holds or held a share" in problem["detail"]
    assert api.ledger.find_split("master", ISRC_C) is None
    for path in (
        f"/v1/recordings/{ISRC_C}",
        f"/v1/recordings/{ISRC_C}/stats",
        f"/v1/recordings/{ISRC_C}/ownership-trail",
        f"/v1/splits/master/{ISRC_C}",
    ):
        assert api.client.get(path, headers=carol).status_code == 404, path
    position = _report(api, [ISRC_C])
    assert _earned(api, "carol", ISRC_C, position) == 0
    # The label that delivered it may propose the first version; the new holder accepts it.
    label = api.key("party", "label")
    r = _propose(api, "label", ISRC_C, {"alice": 700_000, "label": 300_000}, label, reason="initial split")
    assert (r.status_code, r.json()["status"]) == (201, "proposed"), r.text
    history = api.client.get(f"/v1/splits/master/{ISRC_C}", headers=label).json()
    [v1] = history["versions"]
    assert v1["consent_from"] == ["label"] and [a["party"] for a in v1["acceptances"]] == ["label"]
    r = api.client.post(
        "/v1/parties/alice/split-acceptances",
        json={"right": "master", "subject_key": ISRC_C, "version": 1},
        headers=api.key("party", "alice"),
    )
    assert (r.status_code, r.json()["status"]) == (201, "active"), r.text
    assert _earned(api, "alice", ISRC_C, r.json()["position"]) > 0
    assert _earned(api, "carol", ISRC_C, r.json()["position"]) == 0


def test_a_pending_proposal_grants_no_read_access(projected_api: Api) -> None:
    api = projected_api
    admin = api.key("admin")
    _seed(api, admin)
    shares = {"alice": 600_000, "label": 300_000, "carol": 100_000}
    r = _propose(api, "alice", ISRC_A, shares, api.key("party", "alice"), effective_from="2026-03-01T00:00:00Z")
    assert (r.status_code, r.json()["status"]) == (201, "proposed"), r.text
    carol = api.key("party", "carol")
    for path in (f"/v1/recordings/{ISRC_A}", f"/v1/splits/master/{ISRC_A}", f"/v1/releases/{UPC_A}"):
        assert api.client.get(path, headers=carol).status_code == 404, path
    # carol learns of the proposal that asks for her acceptance, and of nothing else.
    [waiting] = api.client.get("/v1/parties/carol/split-proposals", headers=carol).json()
    assert (waiting["subject_key"], waiting["version"], waiting["shares"], waiting["accepted_by"]) == (
        ISRC_A,
        2,
        shares,
        ["alice"],
    )
    assert api.client.get("/v1/parties/alice/split-proposals", headers=carol).status_code == 403
    r = api.client.post(
        "/v1/parties/label/split-refusals",
        json={"right": "master", "subject_key": ISRC_A, "version": 2, "reason": "not agreed"},
        headers=api.key("party", "label"),
    )
    assert (r.status_code, r.json()["status"]) == (201, "refused"), r.text
    assert api.client.get("/v1/parties/carol/split-proposals", headers=carol).json() == []
    history = api.client.get(f"/v1/splits/master/{ISRC_A}", headers=api.key("party", "alice")).json()
    refusal = history["versions"][1]["refusal"]
    assert (refusal["party"], refusal["reason"]) == ("label", "not agreed") and refusal["actor"].endswith("/label")
    trail = api.client.get(f"/v1/recordings/{ISRC_A}/ownership-trail", headers=admin).json()
    assert [(e["event"], e["actor"].rsplit("/", 1)[1]) for e in trail["entries"][-3:]] == [
        ("SplitVersionProposed", "alice"),
        ("SplitVersionAccepted", "alice"),
        ("SplitVersionRefused", "label"),
    ]
    assert api.client.get(f"/v1/recordings/{ISRC_A}", headers=carol).status_code == 404


def test_a_dispute_without_standing_is_pending_until_an_operator_admits_it(projected_api: Api) -> None:
    api = projected_api
    admin = api.key("admin")
    _seed(api, admin)
    position = _report(api, [ISRC_A, ISRC_A])
    before = {p: _earned(api, p, ISRC_A, position) for p in ("alice", "label")}
    assert all(before.values())
    carol = api.key("party", "carol")
    r = api.client.post(
        "/v1/parties/carol/disputes",
        json={
            "right": "master",
            "subject_key": ISRC_A,
            "claimed_ppm": 1_000_000,
            "effective_from": "2000-01-01T00:00:00Z",
            "statement": "all mine",
        },
        headers=carol,
    )
    assert r.status_code == 201, r.text
    dispute = r.json()["dispute"]
    assert dispute["status"] == "pending"  # was "open": escrow at once
    assert dispute["standing"] is None
    after = {p: _earned(api, p, ISRC_A, r.json()["position"]) for p in ("alice", "label")}
    assert after == before
    path = f"/v1/disputes/{dispute['dispute_id']}"
    assert api.client.post(f"{path}/admission", json={"reason": "x"}, headers=carol).status_code == 403
    handler = api.key("dispute_handler")
    r = api.client.post(f"{path}/admission", json={"reason": "contract produced"}, headers=handler)
    assert r.status_code == 200 and r.json()["dispute"]["status"] == "open", r.text
    admitted = {p: _earned(api, p, ISRC_A, r.json()["position"]) for p in ("alice", "label")}
    assert admitted == {"alice": 0, "label": 0}  # the whole master share now waits in escrow
    trail = api.client.get(f"/v1/recordings/{ISRC_A}/ownership-trail", headers=handler).json()
    decisions = [(e["event"], e["actor"].split("/")[1]) for e in trail["entries"] if e["subject"].startswith("dispute")]
    assert decisions == [("Opened", "party"), ("Admitted", "dispute_handler")]
    assert trail["entries"][-2]["details"]["standing"] is None


def test_a_party_dispute_is_capped_and_not_back_dated_past_a_close(projected_api: Api) -> None:
    api = projected_api
    admin = api.key("admin")
    _seed(api, admin)
    alice = api.key("party", "alice")
    body = {"right": "master", "subject_key": ISRC_A, "effective_from": "2026-01-01T00:00:00Z", "statement": "s"}
    r = api.client.post(
        "/v1/parties/alice/disputes", json=body | {"claimed_ppm": 300_001, "respondent": "label"}, headers=alice
    )
    assert r.status_code == 422 and "exceeds the 300000 ppm respondent label holds" in r.json()["detail"]
    r = api.client.post(
        "/v1/parties/alice/disputes", json=body | {"claimed_ppm": 300_000, "respondent": "label"}, headers=alice
    )
    assert r.status_code == 201 and r.json()["dispute"]["standing"] == "credit", r.text  # alice's main-artist credit
    api.ledger.record_period_close(Period(2026, 1), api.ledger.head_position(), None, {}, {}, "test")
    r = api.client.post("/v1/parties/alice/disputes", json=body | {"claimed_ppm": 1}, headers=alice)
    assert r.status_code == 403 and "only an operator may back-date" in r.json()["detail"]
    r = _propose(api, "alice", ISRC_A, {"alice": 1_000_000}, alice, effective_from="2026-01-15T00:00:00Z")
    assert r.status_code == 403 and "only an operator may back-date" in r.json()["detail"]
    r = api.client.post("/v1/parties/alice/disputes", json=body | {"claimed_ppm": 1}, headers=admin)
    assert r.status_code == 201 and r.json()["dispute"]["standing"] == "operator", r.text
    assert api.ledger.latest_close_end() == datetime(2026, 2, 1, tzinfo=UTC)
