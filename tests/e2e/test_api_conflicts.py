"""Concurrent writes to one record answer 200 or 409 with a retry hint — never a 500.

The real-server test sends the requests over loopback to a uvicorn server (its worker threads
really race for the record) on SQLite and PostgreSQL; the TestClient tests pin down the
retry rule itself with a command that conflicts on purpose.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
from collections import Counter
from typing import Any

import httpx
import pytest
from eventsourcing.persistence import IntegrityError

from api.app import create_app
from api.auth import create_key
from api.conflicts import ATTEMPTS
from api.positions import ApiLedger
from api.routers import usage as usage_router
from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from tests.e2e.api_fixtures import Api
from tests.e2e.live_server import live_server

WRITERS, REQUESTS = 16, 64


def _put(url: str, token: str, i: int) -> httpx.Response:
    # One connection per request: every request is its own race, as with independent clients.
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        return client.put("/v1/parties/contested", json={"name": f"Name {i}", "kinds": ["artist"]})


def test_concurrent_writes_to_one_record_never_answer_a_server_error(
    store_config: StoreConfig, cheap_key_hashing: None, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(store_config)
    token = create_key(app.state.ledger, "admin", "test").token
    with live_server(app) as url, concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        assert httpx.get(f"{url}/v1/parties", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        answers = list(pool.map(_put, itertools.repeat(url), itertools.repeat(token), range(REQUESTS)))
    statuses = Counter(r.status_code for r in answers)
    assert set(statuses) <= {200, 409}, (statuses, [r.text for r in answers if r.status_code >= 500][:3])
    for r in answers:
        if r.status_code == 409:
            assert r.headers["content-type"] == "application/problem+json"
            assert r.headers["retry-after"] == "1"
            body = r.json()
            assert body["type"].endswith("/write-conflict") and body["retry_after_s"] == 1
            assert body["attempts"] == ATTEMPTS
        else:
            assert r.json()["changed"] is True  # every name differs: each success is one event
    reader = RoyaltyLedger(store_config)
    try:
        # Exactly one recorded event per 200: no success was lost, no 409 wrote anything.
        assert reader.get_party("contested").version == statuses[200]
    finally:
        reader.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def _conflicting(times: int) -> tuple[list[int], Any]:
    calls: list[int] = []
    original = ApiLedger.upsert_party

    def upsert_party(self: ApiLedger, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= times:
            raise IntegrityError("UNIQUE constraint failed: stored_events.originator_id, originator_version")
        return original(self, *args, **kwargs)

    return calls, upsert_party


def test_a_conflicting_write_is_decided_again_on_fresh_state(sqlite_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    calls, upsert = _conflicting(times=2)
    monkeypatch.setattr(ApiLedger, "upsert_party", upsert)
    r = sqlite_api.client.put(
        "/v1/parties/p1", json={"name": "P", "kinds": ["artist"]}, headers=sqlite_api.key("admin")
    )
    assert r.status_code == 200, r.text
    assert r.json()["changed"] is True and len(calls) == 3


def test_a_write_that_keeps_losing_the_race_answers_409_with_a_retry_hint(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls, upsert = _conflicting(times=100)
    monkeypatch.setattr(ApiLedger, "upsert_party", upsert)
    r = sqlite_api.client.put(
        "/v1/parties/p1", json={"name": "P", "kinds": ["artist"]}, headers=sqlite_api.key("admin")
    )
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.headers["retry-after"] == "1"
    body = r.json()
    assert body["type"] == "https://royalty-ledger.example/problems/write-conflict"
    assert body["retry_after_s"] == 1 and body["attempts"] == ATTEMPTS == len(calls)
    assert body["instance"] == "/v1/parties/p1"


def test_an_upload_is_not_replayed_its_stream_is_spent(sqlite_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def ingest_files(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        raise IntegrityError("UNIQUE constraint failed")

    monkeypatch.setattr(usage_router, "ingest_files", ingest_files)
    r = sqlite_api.client.post(
        "/v1/usage/files", files={"file": ("plays.csv", b"play_id\n1\n")}, headers=sqlite_api.key("admin")
    )
    assert r.status_code == 409, r.text
    assert r.json()["attempts"] == 1 and len(calls) == 1
