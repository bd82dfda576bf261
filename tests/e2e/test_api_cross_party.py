"""A party key can never read or change another party's data: every route, walked automatically.

Routes are enumerated from the app, so a route added later is covered without editing this
test. Path parameters name the victim's things (alice's party, recording, work, release, split,
dispute); the intruder is carol, a party with her own key and nothing to do with alice.
"""

from __future__ import annotations

import re

from tests.e2e.api_fixtures import ISRC_A, UPC_A, Api, seed_catalogue
from tests.e2e.test_api_content import PNG

# Routes that take no API key: health reveals nothing about any party; the Stripe webhook is
# authenticated by Stripe's signature and answers 400 to anything unsigned.
PUBLIC = {("GET", "/v1/health"), ("POST", "/v1/webhooks/stripe")}
# Lists answer 200 with the caller's own scope; they must not mention the victim.
SCOPED_LISTS = {
    ("GET", "/v1/parties"),
    ("GET", "/v1/disputes"),
    ("GET", "/v1/releases"),
    ("GET", "/v1/recordings"),
    ("GET", "/v1/works"),
    ("GET", "/v1/catalogue/parties"),
    ("GET", "/v1/stats"),
}


def _victim_params(api: Api, admin: dict[str, str]) -> dict[str, str]:
    r = api.client.post(
        "/v1/parties/alice/disputes",
        json={
            "right": "master",
            "subject_key": ISRC_A,
            "claimed_ppm": 100_000,
            "effective_from": "2026-01-01T00:00:00Z",
            "statement": "mine",
            "respondent": "label",
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    key_id = api.client.get("/v1/keys", headers=admin).json()[0]["key_id"]
    api.client.app.state.webhook_key = b"cross-party-webhook-key-0123"  # type: ignore[attr-defined]
    hook = api.client.post("/v1/parties/alice/webhooks", json={"url": "https://alice.example/hook"}, headers=admin)
    assert hook.status_code == 201, hook.text
    image = api.client.post(
        "/v1/parties/alice/profile/images", files={"file": ("a.png", PNG, "image/png")}, headers=admin
    )
    assert image.status_code == 201, image.text
    return {
        "party_key": "alice",
        "isrc": ISRC_A,
        "upc": UPC_A,
        "work_key": "song-a",
        "right": "master",
        "subject_key": ISRC_A,
        "version": "1",
        "key_id": key_id,
        "dispute_id": r.json()["dispute"]["dispute_id"],
        "period": "2026-01",
        "batch_id": "0" * 32,
        "format": "json",
        "subscription_id": hook.json()["subscription"]["subscription_id"],
        "sha256": image.json()["profile"]["images"][0]["sha256"],
    }


def _walk(api: Api) -> list[tuple[str, str]]:
    """Every operation of the app, from the OpenAPI document FastAPI derives from its routes
    (FastAPI ≥ 0.16x nests included routers, so `app.routes` no longer lists them flat)."""
    paths = api.client.app.openapi()["paths"]  # type: ignore[attr-defined]
    calls = [(method.upper(), path) for path, ops in paths.items() for method in ops]
    assert len(calls) >= 25, "the walk found too few routes to be the whole app"
    return calls


def _call(api: Api, method: str, template: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
    names = re.findall(r"{(\w+)(?::\w+)?}", template)
    missing = [n for n in names if n not in params]
    assert not missing, f"{method} {template}: add a victim value for {missing} to this test"
    path = re.sub(r"{(\w+)(?::\w+)?}", lambda m: params[m.group(1)], template)
    body = None if method in ("GET", "DELETE") else {}
    r = api.client.request(method, path, json=body, headers=headers)
    return r.status_code, r.text


def test_every_route_refuses_another_partys_key(sqlite_api: Api) -> None:
    api = sqlite_api
    admin = api.key("admin")
    seed_catalogue(api, admin)
    params = _victim_params(api, admin)
    intruder, owner, manager = (api.key("party", p) for p in ("carol", "alice", "label"))
    open_to_owner = 0
    # deletions last (the calls before them need the thing); whoever deletes first removes it, so
    # there the manager goes first and the owner's call must not be refused for its role
    for method, template in sorted(_walk(api), key=lambda call: call[0] == "DELETE"):
        if (method, template) in PUBLIC:
            continue
        status, text = _call(api, method, template, params, intruder)
        if (method, template) in SCOPED_LISTS:
            assert status == 200 and "alice" not in text and ISRC_A not in text
            continue
        assert status in (403, 404), f"{method} {template}: carol's key got {status}"
        if method == "DELETE":
            manager_status = _call(api, method, template, params, manager)[0]
            owner_status = _call(api, method, template, params, owner)[0]
            assert owner_status != 403 if manager_status not in (403, 404) else owner_status in (403, 404)
            continue
        if _call(api, method, template, params, owner)[0] not in (403, 404):
            open_to_owner += 1
            manager_status = _call(api, method, template, params, manager)[0]
            assert manager_status not in (403, 404), f"{method} {template}: label refused"
    assert open_to_owner >= 12, "the walk should reach routes alice's own key may use"


def test_a_party_key_lists_only_its_own_scope(sqlite_api: Api) -> None:
    api = sqlite_api
    admin = api.key("admin")
    seed_catalogue(api, admin)
    listed = api.client.get("/v1/parties", headers=api.key("party", "label")).json()
    assert [p["key"] for p in listed] == ["alice", "bob", "label"]
    listed = api.client.get("/v1/parties", headers=api.key("party", "carol")).json()
    assert [p["key"] for p in listed] == ["carol"]
