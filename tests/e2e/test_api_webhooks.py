"""Webhook subscriptions through the API: a party manages only its own, an admin key any and the
operator-wide ones; the secret is shown once; CLI validation and Problem errors; dead letters and
replay; and a party's subscription made through the API gets signed deliveries of its events only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

import pytest

from api.schemas.webhooks import EventType
from ledger.domain.webhook_subscription import EVENT_TYPES
from operations.webhooks import WebhookDispatcher
from tests.e2e.api_fixtures import ISRC_A, ISRC_B, T0, Api, seed_catalogue
from tests.peers.smtp import free_port
from tests.peers.webhooks import Receiver

KEY = b"api-webhook-key-0123456789"


@pytest.fixture
def hooks(sqlite_api: Api) -> Api:
    sqlite_api.client.app.state.webhook_key = KEY  # type: ignore[attr-defined]
    seed_catalogue(sqlite_api, sqlite_api.key("admin"))
    return sqlite_api


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(free_port())
    made.start()
    yield made
    made.stop()


def _create(api: Api, headers: dict[str, str], party: str | None, url: str, **body: Any) -> Any:
    path = f"/v1/parties/{party}/webhooks" if party else "/v1/webhook-subscriptions"
    return api.client.post(path, json={"url": url, **body}, headers=headers)


def test_the_api_offers_the_event_types_the_ledger_knows() -> None:
    assert get_args(EventType) == EVENT_TYPES


def test_a_party_creates_lists_shows_and_deletes_its_own_subscription(hooks: Api) -> None:
    alice = hooks.key("party", "alice")
    r = _create(hooks, alice, "alice", "https://alice.example/hook", event_types=["split.proposed"])
    assert r.status_code == 201, r.text
    created = r.json()
    sid = created["subscription"]["subscription_id"]
    assert created["secret"].startswith("whsec_") and created["subscription"]["owner"] == "alice"
    assert created["subscription"]["position"] == created["position"] - 2  # from the head on (Created, Advanced)
    listed = hooks.client.get("/v1/parties/alice/webhooks", headers=alice).json()
    assert [s["subscription_id"] for s in listed] == [sid] and "secret" not in listed[0]
    shown = hooks.client.get(f"/v1/parties/alice/webhooks/{sid}", headers=alice).json()
    assert shown["event_types"] == ["split.proposed"] and shown["dead_letters"] == 0 and "secret" not in shown
    assert hooks.client.get(f"/v1/parties/alice/webhooks/{sid}/dead-letters", headers=alice).json() == []
    r = hooks.client.delete(f"/v1/parties/alice/webhooks/{sid}", headers=alice)
    assert r.status_code == 200 and r.json()["changed"] is True
    assert hooks.client.get("/v1/parties/alice/webhooks", headers=alice).json() == []
    r = hooks.client.get(f"/v1/parties/alice/webhooks/{sid}", headers=alice)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert hooks.client.delete(f"/v1/parties/alice/webhooks/{sid}", headers=alice).status_code == 404


def test_a_party_key_never_reaches_another_partys_subscriptions(hooks: Api) -> None:
    admin, alice, carol = hooks.key("admin"), hooks.key("party", "alice"), hooks.key("party", "carol")
    alices = _create(hooks, alice, "alice", "https://alice.example/hook").json()["subscription"]["subscription_id"]
    carols = _create(hooks, carol, "carol", "https://carol.example/hook").json()["subscription"]["subscription_id"]
    for method, path in (
        ("POST", "/v1/parties/alice/webhooks"),
        ("GET", "/v1/parties/alice/webhooks"),
        ("GET", f"/v1/parties/alice/webhooks/{alices}"),
        ("DELETE", f"/v1/parties/alice/webhooks/{alices}"),
        ("GET", f"/v1/parties/alice/webhooks/{alices}/dead-letters"),
        ("POST", f"/v1/parties/alice/webhooks/{alices}/replays"),
        ("GET", "/v1/webhook-subscriptions"),
        ("POST", "/v1/webhook-subscriptions"),
        ("GET", f"/v1/webhook-subscriptions/{alices}"),
        ("DELETE", f"/v1/webhook-subscriptions/{alices}"),
    ):
        body = {"url": "https://carol.example/x", "message_id": "msg_" + "0" * 32} if method == "POST" else None
        r = hooks.client.request(method, path, json=body, headers=carol)
        assert r.status_code == 403, (method, path, r.status_code)
        assert r.json()["type"].endswith("/forbidden")
    # alice's id under carol's own path: not found, and nothing changes
    assert hooks.client.get(f"/v1/parties/carol/webhooks/{alices}", headers=carol).status_code == 404
    assert hooks.client.delete(f"/v1/parties/carol/webhooks/{alices}", headers=carol).status_code == 404
    assert [s["subscription_id"] for s in hooks.client.get("/v1/parties/alice/webhooks", headers=alice).json()] == [
        alices
    ]
    # the label manages alice: it may manage her subscriptions; an admin key sees every one
    assert hooks.client.get("/v1/parties/alice/webhooks", headers=hooks.key("party", "label")).status_code == 200
    everyone = hooks.client.get("/v1/webhook-subscriptions", headers=admin).json()
    assert {s["subscription_id"] for s in everyone} == {alices, carols}
    operator = _create(hooks, admin, None, "https://ops.example/hook").json()["subscription"]
    assert operator["owner"] == "operator"
    assert hooks.client.delete(f"/v1/webhook-subscriptions/{carols}", headers=admin).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "problem"),
    [
        ({"url": "ftp://alice.example/hook"}, 422, "invalid-input"),
        ({"url": "https://"}, 422, "invalid-input"),
        ({"url": "https://alice.example/a b"}, 422, "invalid-input"),
        ({"url": "http://alice.example:port/hook"}, 422, "refused"),
        ({"url": "https://alice.example/hook", "event_types": ["release.deleted"]}, 422, "invalid-input"),
        ({"url": "https://alice.example/hook", "event_types": []}, 422, "invalid-input"),
        ({"url": "https://alice.example/hook", "secret": "mine"}, 422, "invalid-input"),
    ],
)
def test_a_subscription_is_validated_as_the_cli_does(
    hooks: Api, body: dict[str, Any], status: int, problem: str
) -> None:
    r = hooks.client.post("/v1/parties/alice/webhooks", json=body, headers=hooks.key("party", "alice"))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.json()["type"].endswith(problem)


def test_unknown_parties_and_a_server_without_a_webhook_key_answer_problems(hooks: Api) -> None:
    admin = hooks.key("admin")
    r = _create(hooks, admin, "nobody", "https://x.example/hook")
    assert r.status_code == 404 and r.json()["type"].endswith("/not-found")
    r = hooks.client.get("/v1/webhook-subscriptions/not-a-uuid", headers=admin)
    assert r.status_code == 422
    del hooks.client.app.state.webhook_key  # type: ignore[attr-defined]
    r = _create(hooks, admin, "alice", "https://x.example/hook")
    assert r.status_code == 503 and r.json()["type"].endswith("/webhooks-not-configured"), r.text


def test_dead_letters_are_listed_and_replayed_through_the_api(hooks: Api, receiver: Receiver) -> None:
    alice = hooks.key("party", "alice")
    created = _create(hooks, alice, "alice", f"http://127.0.0.1:{receiver.port}/alice").json()
    sid = created["subscription"]["subscription_id"]
    receiver.secret["/alice"] = created["secret"]
    hooks.ledger.propose_split(
        "master", ISRC_A, {"alice": 500_000, "label": 500_000}, T0, "alice", "t", by_operator=True
    )
    receiver.fail.extend([hooks.ledger.head_position() - 1])  # the proposal (then alice's acceptance)
    WebhookDispatcher(hooks.ledger, KEY, max_attempts=1).run_once()
    [letter] = hooks.client.get(f"/v1/parties/alice/webhooks/{sid}/dead-letters", headers=alice).json()
    assert letter["reason"] == "HTTP 500" and letter["type"] == "split.proposed" and not letter["replay_requested"]
    path = f"/v1/parties/alice/webhooks/{sid}/replays"
    r = hooks.client.post(path, json={"message_id": "msg_" + "f" * 32}, headers=alice)
    assert r.status_code == 422 and r.json()["type"].endswith("/refused")
    r = hooks.client.post(path, json={"message_id": letter["message_id"]}, headers=alice)
    assert r.status_code == 201, r.text
    again = hooks.client.post(path, json={"message_id": letter["message_id"]}, headers=alice)
    assert again.status_code == 422 and "already requested" in again.json()["detail"]
    assert hooks.client.get(f"/v1/parties/alice/webhooks/{sid}/dead-letters", headers=alice).json()[0][
        "replay_requested"
    ]
    assert WebhookDispatcher(hooks.ledger, KEY).run_once()["delivered"] == 1
    assert hooks.client.get(f"/v1/parties/alice/webhooks/{sid}/dead-letters", headers=alice).json() == []
    assert [m["id"] for m in receiver.of("/alice")] == [letter["message_id"]] * 2


def test_a_party_subscription_made_through_the_api_gets_signed_deliveries_of_its_own_events(
    hooks: Api, receiver: Receiver
) -> None:
    admin, bob = hooks.key("admin"), hooks.key("party", "bob")
    created = _create(hooks, bob, "bob", f"http://127.0.0.1:{receiver.port}/bob").json()
    receiver.secret["/bob"] = created["secret"]  # the receiver verifies every signature with it
    operator = _create(hooks, admin, None, f"http://127.0.0.1:{receiver.port}/operator").json()
    receiver.secret["/operator"] = operator["secret"]
    ledger = hooks.ledger
    ledger.propose_split("master", ISRC_A, {"alice": 500_000, "label": 500_000}, T0, "alice", "t", by_operator=True)
    ledger.propose_split("master", ISRC_B, {"bob": 600_000, "label": 400_000}, T0, "bob", "t", by_operator=True)
    ledger.open_dispute("master", ISRC_A, "carol", 100_000, T0, "mine", "t", by_operator=True)
    dispatcher = WebhookDispatcher(ledger, KEY)
    dispatcher.run_once()
    dispatcher.close()
    bobs = receiver.of("/bob")
    assert [(m["type"], m["data"]["subject_key"]) for m in bobs] == [("split.proposed", ISRC_B)]
    assert "bob" in bobs[0]["data"]["shares"]
    assert [m["type"] for m in receiver.of("/operator")] == ["split.proposed", "split.proposed", "dispute.opened"]
    shown = hooks.client.get(f"/v1/parties/bob/webhooks/{created['subscription']['subscription_id']}", headers=bob)
    assert shown.json()["position"] > created["subscription"]["position"]  # recorded as the pass ended
