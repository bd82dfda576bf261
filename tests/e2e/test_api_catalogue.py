"""The API through TestClient on both stores: delivery, positions, actors, errors, keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from api.app import create_app
from api.auth import get_key
from ledger.domain.party import Party
from ledger.store.config import StoreConfig
from tests.e2e.api_fixtures import ISRC_A, UPC_A, Api, TestClient, seed_catalogue


def test_deliveries_answer_with_positions_and_record_the_key_as_actor(api: Api) -> None:
    admin = api.key("admin")
    r = api.client.put("/v1/parties/alice", json={"name": "Alice", "kinds": ["artist"]}, headers=admin)
    assert r.status_code == 200
    body = r.json()
    assert body["changed"] is True and body["position"] == api.ledger.head_position()
    again = api.client.put("/v1/parties/alice", json={"name": "Alice", "kinds": ["artist"]}, headers=admin).json()
    assert again == {**body, "changed": False}
    [notification] = [n for n in api.ledger.read_log(topics=api.ledger.topics_of(Party.Registered))]  # type: ignore[attr-defined]
    assert notification.id == body["position"]
    key_id = admin["Authorization"].split("_")[1]
    assert api.ledger.decode(notification).actor == f"apikey:{key_id}/admin"


def test_a_delivered_release_reads_back_with_splits_in_force(api: Api) -> None:
    admin = api.key("admin")
    seed_catalogue(api, admin)
    position = api.ledger.head_position()
    rel = api.client.get(f"/v1/releases/{UPC_A}", params={"min_position": position}, headers=admin)
    assert rel.status_code == 200
    assert rel.json()["track_isrcs"] == [ISRC_A, "GBAYE2600002"]
    rec = api.client.get(f"/v1/recordings/{ISRC_A}", headers=admin).json()
    assert rec["splits_in_force"]["master"]["shares"] == {"alice": 700_000, "label": 300_000}
    assert rec["splits_in_force"]["publishing"] is None


def test_bad_input_is_a_problem_with_field_level_reasons(sqlite_api: Api) -> None:
    api = sqlite_api
    admin = api.key("admin")
    r = api.client.put(
        "/v1/recordings/QQAYE2600001", json={"title": "T", "display_artist": "A", "duration_ms": 0}, headers=admin
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == 422 and problem["type"].endswith("/invalid-input")
    fields = {e["field"] for e in problem["errors"]}
    assert "path.isrc" in fields and "body.duration_ms" in fields
    assert any("unknown country" in e["reason"] for e in problem["errors"])


def test_shares_must_sum_to_a_million(sqlite_api: Api) -> None:
    api = sqlite_api
    admin = api.key("admin")
    seed_catalogue(api, admin)
    r = api.client.post(
        f"/v1/splits/master/{ISRC_A}/versions",
        json={
            "shares": {"alice": 500_000, "label": 499_999},
            "effective_from": "2026-02-01T00:00:00Z",
            "reason": "fix",
        },
        headers=admin,
    )
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["field"] == "body.shares" and "off by -1" in error["reason"]


def test_non_utc_times_and_unknown_things_are_refused(sqlite_api: Api) -> None:
    api = sqlite_api
    admin = api.key("admin")
    seed_catalogue(api, admin)
    r = api.client.post(
        f"/v1/recordings/{ISRC_A}/takedowns",
        json={"reason": "x", "effective_at": "2026-02-01T00:00:00+02:00"},
        headers=admin,
    )
    assert r.status_code == 422 and "not UTC" in r.json()["detail"]
    assert api.client.get("/v1/recordings/GBAYE2600010", headers=admin).status_code == 404
    r = api.client.put(
        "/v1/works/w", json={"title": "W", "writers": [{"party": "nobody", "role": "composer"}]}, headers=admin
    )
    assert r.status_code == 404 and "nobody" in r.json()["detail"]


def test_keys_authenticate_authorise_and_revoke(sqlite_api: Api) -> None:
    api = sqlite_api
    admin = api.key("admin")
    assert api.client.get("/v1/parties").status_code == 401
    bad = {"Authorization": admin["Authorization"][:-2] + "zz"}
    assert api.client.get("/v1/parties", headers=bad).status_code == 401
    platform = api.key("platform")
    r = api.client.put("/v1/parties/x", json={"name": "X", "kinds": ["artist"]}, headers=platform)
    assert r.status_code == 403 and r.json()["title"] == "Forbidden"
    issued = api.client.post("/v1/keys", json={"role": "auditor", "label": "ext"}, headers=admin)
    assert issued.status_code == 201
    token, key_id = issued.json()["token"], issued.json()["key"]["key_id"]
    auditor = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/v1/parties", headers=auditor).status_code == 200
    stored = get_key(api.ledger, key_id)
    assert token.split("_", 2)[2] not in stored.secret_hash and stored.secret_hash.startswith("$argon2")
    listed = api.client.get("/v1/keys", headers=admin).json()
    assert all("token" not in k and "secret_hash" not in k for k in listed)
    r = api.client.post(f"/v1/keys/{key_id}/revocation", json={"reason": "left"}, headers=admin)
    assert r.status_code == 200 and r.json()["key"]["revoked"] is True
    assert api.client.get("/v1/parties", headers=auditor).status_code == 401


def test_oversized_bodies_get_413(sqlite_api: Api) -> None:
    api = sqlite_api
    admin = api.key("admin")
    huge = {"name": "x" * (9 * 1024 * 1024), "kinds": ["artist"]}
    r = api.client.put("/v1/parties/big", json=huge, headers=admin)
    assert r.status_code == 413 and r.json()["status"] == 413


def test_min_position_beyond_the_head_is_409(sqlite_api: Api) -> None:
    api = sqlite_api
    admin = api.key("admin")
    r = api.client.get("/v1/parties", params={"min_position": 10_000}, headers=admin)
    assert r.status_code == 409 and r.json()["head"] == api.ledger.head_position()


def test_a_streamed_body_over_the_limit_gets_413_without_a_content_length(sqlite_api: Api) -> None:
    api = sqlite_api
    admin = api.key("admin")

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(9):
            yield b"x" * (1024 * 1024)
        yield b'", "kinds": ["artist"]}'

    r = api.client.put("/v1/parties/big", content=chunks(), headers={**admin, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert api.client.get("/v1/parties/big", headers=admin).status_code == 404


def test_health_answers_503_when_the_store_does_not(tmp_path: Path, cheap_key_hashing: None) -> None:
    app = create_app(StoreConfig.from_url(str(tmp_path / "never-initialised.db")))
    with TestClient(app) as client:
        r = client.get("/v1/health")
    assert r.status_code == 503 and r.json()["type"].endswith("/store-unavailable")
