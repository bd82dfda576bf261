"""Content control through the API (issue 19): a party's profile (biography, links, press images),
a release's and a track's details, a release's minimum prices — each an event with its actor, each
refused outside the caller's parties."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from ledger.domain.party import Party
from ledger.domain.pricing import PricingSchedule
from tests.e2e.api_fixtures import ISRC_A, ISRC_B, UPC_A, Api, seed_catalogue, set_money_rules

# The smallest valid PNG (1×1, transparent).
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")


@pytest.fixture(autouse=True)
def blob_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROYALTY_MEDIA_BLOB_DIR", str(tmp_path / "blobs"))
    monkeypatch.setenv("ROYALTY_LISTENER_SECRET", "api-test-listener-secret-0123456789")


def _seeded(api: Api) -> None:
    seed_catalogue(api, api.key("admin"))
    set_money_rules(api)


def _events(api: Api, topic_suffix: str) -> list[dict[str, object]]:
    out = []
    for n in api.ledger.recorder.select_notifications(1, 10_000):
        if n.topic.endswith(topic_suffix):
            out.append(api.ledger.mapper.to_domain_event(n).__dict__)
    return out


def test_a_party_edits_its_own_profile_and_uploads_a_press_image(api: Api) -> None:
    _seeded(api)
    alice = api.key("party", "alice")
    r = api.client.put(
        "/v1/parties/alice/profile",
        json={
            "biography": "Alice writes songs.\nIn Lisbon.",
            "links": [{"label": "Site", "url": "https://alice.example/"}],
        },
        headers=alice,
    )
    assert r.status_code == 200, r.text
    assert r.json()["changed"] is True
    assert r.json()["profile"]["links"] == [{"label": "Site", "url": "https://alice.example/"}]
    r = api.client.post(
        "/v1/parties/alice/profile/images",
        files={"file": ("press.txt", PNG, "text/plain")},  # the bytes decide, not the name or header
        data={"caption": "Live at the co-op"},
        headers=alice,
    )
    assert r.status_code == 201, r.text
    (image,) = r.json()["profile"]["images"]
    assert image["content_type"] == "image/png" and image["caption"] == "Live at the co-op"
    got = api.client.get(image["url"], headers=alice)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png" and got.headers["x-content-type-options"] == "nosniff"
    profile = api.client.get("/v1/parties/alice/profile", headers=alice).json()
    assert profile["biography"] == "Alice writes songs.\nIn Lisbon." and len(profile["images"]) == 1
    updates = _events(api, "Party.ProfileUpdated")
    assert [e["actor"] for e in updates] == [updates[0]["actor"]] * 2
    assert "party" in str(updates[0]["actor"])
    r = api.client.delete(f"/v1/parties/alice/profile/images/{image['sha256']}", headers=alice)
    assert r.status_code == 200 and r.json()["profile"]["images"] == []
    assert api.client.get(image["url"], headers=alice).status_code == 404


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "ftp://files.example/x",
        "https://user:secret@example.org/",
        "data:text/html,hi",
        "https:///nohost",
        "//example.org/",
    ],
)
def test_only_http_and_https_links_with_a_host_are_kept(sqlite_api: Api, link: str) -> None:
    api = sqlite_api
    _seeded(api)
    r = api.client.put("/v1/parties/alice/profile", json={"links": [{"url": link}]}, headers=api.key("party", "alice"))
    assert r.status_code == 422, r.text
    assert api.ledger.get_party("alice").profile["links"] == []


def test_what_is_not_an_image_is_refused_by_its_bytes(sqlite_api: Api) -> None:
    api = sqlite_api
    _seeded(api)
    alice = api.key("party", "alice")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    r = api.client.post("/v1/parties/alice/profile/images", files={"file": ("x.png", svg, "image/png")}, headers=alice)
    assert r.status_code == 422 and "not an image" in r.json()["detail"]
    big = PNG + b"\0" * (5 * 1024 * 1024)
    r = api.client.post("/v1/parties/alice/profile/images", files={"file": ("x.png", big, "image/png")}, headers=alice)
    assert r.status_code == 413
    assert api.ledger.get_party("alice").profile["images"] == []


def test_a_party_cannot_touch_another_partys_profile_release_track_or_prices(sqlite_api: Api) -> None:
    api = sqlite_api
    _seeded(api)
    bob = api.key("party", "bob")
    assert api.client.put("/v1/parties/alice/profile", json={"biography": "x"}, headers=bob).status_code == 403
    assert api.client.get("/v1/parties/alice/profile", headers=bob).status_code == 403
    # alice sees the release (she is on it) but does not label it: no edits, no prices.
    alice = api.key("party", "alice")
    assert api.client.patch(f"/v1/releases/{UPC_A}", json={"title": "Mine"}, headers=alice).status_code == 403
    r = api.client.put(f"/v1/releases/{UPC_A}/prices", json={"minimums": {"EUR": 1}}, headers=alice)
    assert r.status_code == 403
    # bob holds ISRC_B's master, not ISRC_A's.
    assert api.client.patch(f"/v1/recordings/{ISRC_A}", json={"title": "Mine"}, headers=bob).status_code in (403, 404)
    assert api.ledger.get_recording(ISRC_A).title == "Track alice"
    assert api.ledger.find_release(UPC_A).title != "Mine"


def test_a_label_edits_its_release_and_a_track_and_a_master_holder_its_track(api: Api) -> None:
    _seeded(api)
    label = api.key("party", "label")
    r = api.client.patch(f"/v1/releases/{UPC_A}", json={"title": "Second Light"}, headers=label)
    assert r.status_code == 200 and r.json()["release"]["title"] == "Second Light"
    credits = [{"party": "bob", "role": "main_artist"}, {"party": "alice", "role": "producer"}]
    r = api.client.patch(
        f"/v1/recordings/{ISRC_B}", json={"display_artist": "Bob & Alice", "credits": credits}, headers=label
    )
    assert r.status_code == 200, r.text
    rec = api.ledger.get_recording(ISRC_B)
    assert (rec.display_artist, rec.credits, rec.duration_ms) == ("Bob & Alice", credits, 180_000)
    r = api.client.patch(
        f"/v1/recordings/{ISRC_A}", json={"title": "Track A (2026)"}, headers=api.key("party", "alice")
    )
    assert r.status_code == 200 and api.ledger.get_recording(ISRC_A).title == "Track A (2026)"
    bad = [{"party": "alice", "role": "tambourine"}]
    r = api.client.patch(f"/v1/recordings/{ISRC_A}", json={"credits": bad}, headers=label)
    assert r.status_code == 422 and "tambourine" in r.text
    r = api.client.patch(
        f"/v1/recordings/{ISRC_A}", json={"credits": [{"party": "nobody", "role": "mixer"}]}, headers=label
    )
    assert r.status_code in (404, 422)


def test_a_label_sets_its_release_minimums_and_sales_below_them_are_quarantined(api: Api) -> None:
    _seeded(api)
    label = api.key("party", "label")
    body = {"minimums": {"EUR": 5_000_000}, "territory_minimums": {"GB": {"EUR": 3_000_000}}, "reason": "new prices"}
    r = api.client.put(f"/v1/releases/{UPC_A}/prices", json=body, headers=label)
    assert r.status_code == 200, r.text
    assert r.json()["prices"]["minimums"] == {"EUR": 5_000_000}
    assert r.json()["prices"]["territory_minimums"] == {"GB": {"EUR": 3_000_000}}
    schedule = api.ledger.repository.get(api.ledger._pricing_schedule().id)
    assert isinstance(schedule, PricingSchedule) and schedule.versions[-1]["actor"].endswith("/label")
    again = api.client.put(f"/v1/releases/{UPC_A}/prices", json=body, headers=label)
    assert again.json()["changed"] is False
    sale = {
        "kind": "purchase",
        "upc": UPC_A,
        "currency": "EUR",
        "occurred_at": "2026-02-01T10:00:00Z",
        "listener_id": "l1",
    }
    rows = [
        {**sale, "sale_id": "s-gb", "territory": "GB", "amount": "4.00"},  # ≥ 3 in GB
        {**sale, "sale_id": "s-de", "territory": "DE", "amount": "4.00"},  # < 5 elsewhere
    ]
    r = api.client.post("/v1/usage/batches", json={"rows": rows}, headers=api.key("platform"))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    held = api.client.get("/v1/usage/quarantine", headers=api.key("admin")).json()
    assert [q["reason"] for q in held] == ["below_minimum_price"]
    bad = api.client.put(f"/v1/releases/{UPC_A}/prices", json={"minimums": {"EUR": -1}}, headers=label)
    assert bad.status_code == 422
    bad = api.client.put(f"/v1/releases/{UPC_A}/prices", json={"minimums": {"XYZ": 1}}, headers=label)
    assert bad.status_code == 422
    assert isinstance(api.ledger.get_party("label"), Party)
