"""Content control in the dashboard over HTTP (issue 19): profile, press images, a release's
details, tracks and prices — the API's checks, the user as actor, CSRF on every form, and 404
for another party's things. (The browser tests drive the same forms in chromium.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.app import create_app
from api.users import create_user
from ledger.store.config import StoreConfig
from tests.e2e.api_fixtures import ISRC_A, ISRC_B, UPC_A, Api, TestClient, seed_catalogue, set_money_rules
from tests.e2e.dashboard_fixtures import PASSWORD, USERS
from tests.e2e.test_api_content import PNG
from tests.e2e.test_dashboard_http import _csrf, login


@pytest.fixture
def site(
    sqlite_config: StoreConfig, cheap_key_hashing: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    monkeypatch.setenv("ROYALTY_MEDIA_BLOB_DIR", str(tmp_path / "blobs"))
    app = create_app(sqlite_config)
    with TestClient(app) as client:
        api = Api(client, app.state.ledger)
        seed_catalogue(api, api.key("admin"))
        set_money_rules(api)
        for username, party in USERS.items():
            create_user(api.ledger, username, "party", party, PASSWORD, "test")
        yield api


def _form(client: TestClient, path: str) -> str:
    r = client.get(path)
    assert r.status_code == 200, r.text
    return _csrf(r.text)


def test_an_artist_edits_its_profile_and_adds_a_press_image(site: Api) -> None:
    c = site.client
    assert login(c, "alice-user") == 303
    token = _form(c, "/profile")
    r = c.post(
        "/profile",
        data={
            "csrf_token": token,
            "party": "alice",
            "biography": "Songs from Lisbon.",
            "links": "Site https://alice.example/\nhttps://b.example/x",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    party = site.ledger.get_party("alice")
    assert party.profile["biography"] == "Songs from Lisbon."
    assert party.profile["links"] == [
        {"label": "Site", "url": "https://alice.example/"},
        {"label": "https://b.example/x", "url": "https://b.example/x"},
    ]
    r = c.post(
        "/profile/images",
        data={"csrf_token": token, "party": "alice", "caption": "On stage"},
        files={"image": ("a.jpg", PNG, "image/jpeg")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    (image,) = site.ledger.get_party("alice").profile["images"]
    page = c.get("/profile").text
    assert "Songs from Lisbon." in page and f"/profile/images/alice/{image['sha256']}" in page
    got = c.get(f"/profile/images/alice/{image['sha256']}")
    assert got.status_code == 200 and got.content == PNG and got.headers["content-type"] == "image/png"
    bad = c.post("/profile", data={"csrf_token": token, "party": "alice", "links": "javascript:alert(1)"})
    assert bad.status_code == 422 and "http and https" in bad.text
    assert c.post("/profile", data={"csrf_token": "forged", "party": "alice", "biography": "x"}).status_code == 403
    assert site.ledger.get_party("alice").profile["biography"] == "Songs from Lisbon."


def test_another_artist_gets_404_for_alices_profile_image_release_forms_and_tracks(site: Api) -> None:
    site.ledger.update_profile("alice", "test", biography="private draft")
    c = site.client
    assert login(c, "bob-user") == 303
    token = _form(c, "/profile")
    assert c.get("/profile?party=alice").status_code == 404
    assert c.post("/profile", data={"csrf_token": token, "party": "alice", "biography": "hacked"}).status_code == 404
    assert c.get("/profile/images/alice/" + "0" * 64).status_code == 404
    # bob is on the release (ISRC_B) but does not label it, nor hold ISRC_A's master
    assert c.post(f"/releases/{UPC_A}/prices", data={"csrf_token": token, "minimums": "EUR 0.01"}).status_code == 404
    assert c.post(f"/releases/{UPC_A}/details", data={"csrf_token": token, "title": "Bob's"}).status_code == 404
    r = c.post(f"/releases/{UPC_A}/tracks/{ISRC_A}", data={"csrf_token": token, "title": "x", "display_artist": "x"})
    assert r.status_code == 404
    assert site.ledger.get_party("alice").profile["biography"] == "private draft"
    assert site.ledger.get_recording(ISRC_A).title == "Track alice"
    assert site.ledger.release_prices(UPC_A)["minimums"] == {}


def test_a_label_edits_a_release_a_track_and_its_prices(site: Api) -> None:
    c = site.client
    assert login(c, "label-user") == 303
    token = _form(c, f"/releases/{UPC_A}")
    r = c.post(
        f"/releases/{UPC_A}/details",
        data={"csrf_token": token, "title": "Night Songs", "release_date": "2026-01-05"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    r = c.post(
        f"/releases/{UPC_A}/tracks/{ISRC_B}",
        data={
            "csrf_token": token,
            "title": "B-side",
            "display_artist": "Bob",
            "credits": "main_artist bob\nmixer alice",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert site.ledger.get_recording(ISRC_B).credits == [
        {"role": "main_artist", "party": "bob"},
        {"role": "mixer", "party": "alice"},
    ]
    bad = c.post(
        f"/releases/{UPC_A}/tracks/{ISRC_B}",
        data={"csrf_token": token, "title": "B", "display_artist": "Bob", "credits": "drummer bob"},
    )
    assert bad.status_code == 422 and "drummer" in bad.text
    r = c.post(
        f"/releases/{UPC_A}/prices",
        data={"csrf_token": token, "minimums": "EUR 5.00", "territory_minimums": "GB EUR 3.50", "reason": "spring"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert site.ledger.release_prices(UPC_A)["minimums"] == {"EUR": 5_000_000}
    assert site.ledger.release_prices(UPC_A)["territory_minimums"] == {"GB": {"EUR": 3_500_000}}
    assert site.ledger.pricing_history()[-1]["actor"] == "user:label-user/label"
    page = c.get(f"/releases/{UPC_A}").text
    assert "Night Songs" in page and "EUR 5.000000" in page and "B-side" in page
    for bad_prices in ("EUR -1", "EUR lots", "QQQ 1.00"):
        assert (
            c.post(f"/releases/{UPC_A}/prices", data={"csrf_token": token, "minimums": bad_prices}).status_code == 422
        )
    assert site.ledger.release_prices(UPC_A)["minimums"] == {"EUR": 5_000_000}
