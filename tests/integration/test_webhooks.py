"""Outbound webhooks against a real HTTP receiver on loopback: signed per Standard Webhooks,
at-least-once from the log, nothing lost while the receiver is down, a repeat carries the same
message id, a party sees only its own events, a poison message is dead-lettered and replayed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.webhook_subscription import EVENT_TYPES, OPERATOR, WebhookSubscription
from ledger.store.config import StoreConfig
from operations.webhooks import WebhookDispatcher, subscription_secret
from tests.payments_helpers import payments_catalogue
from tests.peers.smtp import free_port
from tests.peers.webhooks import Receiver
from tests.usage_helpers import ISRCS

KEY = b"test-webhook-key-0123456789"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(free_port())  # not started: the receiver is down until a test starts it
    yield made
    made.stop()


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config, clock=Clock(datetime(2026, 4, 1, tzinfo=UTC)))
    payments_catalogue(ledger)  # aria 60 % / lbl 40 % of the master of ISRCS[0]
    ledger.upsert_party("carol", "Carol", ["artist"], "test")
    yield ledger
    ledger.close()


def _subscribe(app: RoyaltyLedger, receiver: Receiver, owner: str) -> WebhookSubscription:
    sub = WebhookSubscription(
        owner=owner, url=f"http://127.0.0.1:{receiver.port}/{owner}", event_types=list(EVENT_TYPES), actor="t"
    )
    app.save(sub)
    receiver.secret[f"/{owner}"] = subscription_secret(KEY, sub.id)
    return sub


def test_nothing_is_lost_while_the_receiver_is_down_and_repeats_keep_their_id(
    app: RoyaltyLedger, receiver: Receiver
) -> None:
    for_aria, for_operator = _subscribe(app, receiver, "aria"), _subscribe(app, receiver, OPERATOR)
    before_split = app.head_position()
    app.propose_split("master", ISRCS[0], {"aria": 500_000, "lbl": 500_000}, T0, "aria", "t", by_operator=True)
    app.open_dispute("master", ISRCS[1], "carol", 100_000, T0, "mine", "t", by_operator=True)  # not aria's business
    last_event = app.head_position()
    clock = Clock()
    dispatcher = WebhookDispatcher(app, KEY, clock=clock)

    assert dispatcher.run_once() == {"delivered": 0, "failed": 2, "dead_lettered": 0}  # connection refused
    assert app.repository.get(for_aria.id).position <= before_split  # not past the undelivered message
    receiver.start()
    receiver.fail_first.add("/aria")  # aria's first message: 500 once, then accepted
    assert dispatcher.run_once()["delivered"] == 0  # both still backing off (1 s)
    clock.now += timedelta(seconds=1)
    dispatcher.run_once()
    clock.now += timedelta(seconds=2)
    dispatcher.run_once()
    assert dispatcher.run_once()["delivered"] == 0  # all caught up: nothing is sent twice

    aria = receiver.of("/aria")
    # the initial split (version 1, set when the catalogue was delivered), then aria's proposal
    assert [(m["type"], m["data"]["version"]) for m in aria] == [
        ("split.proposed", 1),
        ("split.proposed", 1),  # the repeat after the 500
        ("split.activated", 1),
        ("split.proposed", 2),
    ] and all("aria" in m["data"]["shares"] for m in aria)
    assert aria[0]["id"] == aria[1]["id"] and aria[0]["position"] == aria[1]["position"]  # the repeat
    operator = receiver.of("/operator")
    assert [m["type"] for m in operator] == [
        "release.delivered",
        "release.delivered",
        "split.proposed",
        "split.activated",
        "split.proposed",
        "dispute.opened",
    ]
    assert len({m["id"] for m in operator}) == 6 and not {m["id"] for m in operator} & {m["id"] for m in aria}
    # past every event it was sent, and past the rest of the log it has read (up to the head then)
    assert app.repository.get(for_operator.id).position >= last_event
    assert app.repository.get(for_aria.id).position >= last_event


def test_a_poison_message_is_dead_lettered_the_rest_flow_and_a_replay_delivers_it(
    app: RoyaltyLedger, receiver: Receiver
) -> None:
    sub = _subscribe(app, receiver, OPERATOR)
    app.open_dispute("master", ISRCS[1], "carol", 100_000, T0, "first", "t", by_operator=True)
    poison = app.head_position()
    app.open_dispute("master", ISRCS[1], "lbl", 100_000, T0, "second", "t", by_operator=True)
    last_event = app.head_position()
    receiver.start()
    receiver.fail.extend([poison, poison])
    clock = Clock()
    dispatcher = WebhookDispatcher(app, KEY, clock=clock, max_attempts=2)
    # the messages after the poison one are delivered meanwhile, and not sent again on its retries
    assert dispatcher.run_once() == {"delivered": 5, "failed": 1, "dead_lettered": 0}
    clock.now += timedelta(seconds=1)
    assert dispatcher.run_once() == {"delivered": 0, "failed": 1, "dead_lettered": 1}
    assert [m["position"] for m in receiver.received].count(last_event) == 1
    saved = app.repository.get(sub.id)
    [(mid, letter)] = saved.dead_letters.items()
    assert letter["position"] == poison and letter["reason"] == "HTTP 500" and saved.position >= last_event
    saved.request_replay(mid, "operator")
    app.save(saved)
    assert dispatcher.run_once()["delivered"] == 1
    assert app.repository.get(sub.id).dead_letters == {}
    ids = [m["id"] for m in receiver.received if m["position"] == poison]
    assert ids == [mid, mid, mid]  # two failed tries and the replay: one message id
    assert json.loads(json.dumps(receiver.received[-1]["data"]))["claimed_ppm"] == 100_000


def test_positions_are_recorded_in_batches_and_a_restart_resends_with_the_same_ids(
    app: RoyaltyLedger, receiver: Receiver
) -> None:
    sub = _subscribe(app, receiver, OPERATOR)
    receiver.start()
    app.open_dispute("master", ISRCS[1], "carol", 100_000, T0, "first", "t", by_operator=True)
    first = WebhookDispatcher(app, KEY, record_every_s=3600)
    assert first.run_once(flush=False)["delivered"] == 5
    assert app.repository.get(sub.id).position == 0  # delivered, not yet recorded: then the process dies
    second = WebhookDispatcher(app, KEY)
    assert second.run_once()["delivered"] == 5  # at least once: all of them again…
    ids = [m["id"] for m in receiver.received]
    assert ids[:5] == ids[5:] and len(set(ids)) == 5  # …with the same ids
    recorded = app.repository.get(sub.id).position
    assert recorded == app.head_position() - 1  # recorded as the pass ended (its own Advanced after it)

    app.open_dispute("master", ISRCS[1], "lbl", 100_000, T0, "second", "t", by_operator=True)
    stop = threading.Event()
    live = WebhookDispatcher(app, KEY, record_every_s=3600)
    loop = threading.Thread(target=live.run_forever, args=(0.01, stop))
    loop.start()
    deadline = time.monotonic() + 30
    while len(receiver.received) < 11 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    loop.join(timeout=10)
    assert app.repository.get(sub.id).position == recorded  # not recorded while running (every hour)…
    live.close()
    assert app.repository.get(sub.id).position > recorded  # …but when it stops
    assert [m["type"] for m in receiver.received[10:]] == ["dispute.opened"]


def test_a_first_message_dead_lettered_at_once_does_not_skip_the_ones_after_it(
    app: RoyaltyLedger, receiver: Receiver
) -> None:
    sub = _subscribe(app, receiver, OPERATOR)
    app.open_dispute("master", ISRCS[1], "carol", 100_000, T0, "first", "t", by_operator=True)
    app.open_dispute("master", ISRCS[1], "lbl", 100_000, T0, "second", "t", by_operator=True)
    last_event = app.head_position()
    receiver.start()
    receiver.fail_first.add("/operator")  # the subscription's first message fails, once
    counts = WebhookDispatcher(app, KEY, max_attempts=1).run_once()
    assert counts == {"delivered": 5, "failed": 1, "dead_lettered": 1}
    delivered = sorted(m["position"] for m in receiver.received[1:])
    [letter] = app.repository.get(sub.id).dead_letters.values()
    assert letter["position"] not in delivered and len(delivered) == 5
    assert app.repository.get(sub.id).position >= last_event
