"""The dashboard over HTTP (no browser): login, CSRF, rate limiting, logout, scope isolation,
statement downloads, accepting a proposal, and nothing loaded from another host."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from api.app import create_app
from api.deps import ApiSettings
from ledger.store.config import StoreConfig
from tests.e2e.api_fixtures import ISRC_A, ISRC_B, Api, TestClient
from tests.e2e.dashboard_fixtures import PASSWORD, report_plays, seed_dashboard, wait_projected


@pytest.fixture(autouse=True)
def listener_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROYALTY_LISTENER_SECRET", "dashboard-test-listener-secret-0123456789")


@pytest.fixture
def site(sqlite_config: StoreConfig, cheap_key_hashing: None) -> Iterator[Api]:
    app = create_app(sqlite_config, projector=True, settings=ApiSettings(read_wait_s=20))
    with TestClient(app) as client:
        api = Api(client, app.state.ledger)
        now = api.ledger.clock()
        seed_dashboard(api, now)
        wait_projected(api.ledger, report_plays(api, now, first=100, count=2))
        yield api


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> int:
    form = client.get("/login")
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": _csrf(form.text)},
        follow_redirects=False,
    )
    return r.status_code


def test_pages_need_a_login_and_the_login_form_needs_its_csrf_token(site: Api) -> None:
    assert site.client.get("/", follow_redirects=False).headers["location"] == "/login"
    site.client.get("/login")
    r = site.client.post("/login", data={"username": "alice-user", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403
    assert login(site.client, "alice-user") == 303
    cookie = next(c for c in site.client.cookies.jar if c.name == "royalty_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/"


def test_the_session_cookie_is_secure_behind_tls(site: Api) -> None:
    form = site.client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in form.headers["set-cookie"]
    token = _csrf(form.text)
    site.client.cookies.set("royalty_login_csrf", token)  # a Secure cookie is not sent back over http
    r = site.client.post(
        "/login",
        data={"username": "alice-user", "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-Proto": "https"},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"]
    assert "__Host-royalty_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie


def test_failed_logins_are_rate_limited(site: Api) -> None:
    statuses = [login(site.client, "alice-user", "wrong password!!") for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    assert login(site.client, "alice-user") == 429  # even the right password waits


def test_overview_shows_this_months_earnings_charts_with_tables_and_nothing_from_elsewhere(site: Api) -> None:
    assert login(site.client, "alice-user") == 303
    page = site.client.get("/")
    assert page.status_code == 200
    assert "This month" in page.text and 'id="live-month"' in page.text and " EUR" in page.text
    assert page.text.count("<svg") >= 3 and page.text.count("<table") >= 5
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for url in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert url.startswith(("/", "#", "data:")), url
    assert "listener-" not in page.text
    for by in ("week", "month", "year"):
        assert site.client.get("/", params={"by": by}).status_code == 200


def test_a_party_user_cannot_reach_another_partys_pages(site: Api) -> None:
    assert login(site.client, "bob-user") == 303
    assert site.client.get("/", params={"party": "alice"}).status_code == 404
    assert site.client.get(f"/recordings/{ISRC_A}").status_code == 404
    assert site.client.get(f"/recordings/{ISRC_B}").status_code == 200
    month = site.ledger.clock().strftime("%Y-%m")
    assert site.client.get(f"/statements/{month}.pdf", params={"party": "alice"}).status_code == 404
    assert site.client.get("/live", params={"party": "alice"}).status_code == 404
    catalogue = site.client.get("/catalogue").text
    assert ISRC_B in catalogue and ISRC_A not in catalogue


def test_statement_downloads(site: Api) -> None:
    assert login(site.client, "alice-user") == 303
    month = site.ledger.clock().strftime("%Y-%m")
    assert f"/statements/{month}.pdf" in site.client.get("/statements").text
    pdf = site.client.get(f"/statements/{month}.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert site.client.get(f"/statements/{month}.csv").status_code == 200
    assert site.client.get(f"/statements/{month}.dsr").status_code == 200


def test_the_label_accepts_a_proposal_with_the_csrf_token_and_logout_ends_the_session(site: Api) -> None:
    assert login(site.client, "label-user") == 303
    page = site.client.get("/splits").text
    assert "new deal" in page
    form = {"party": "label", "right": "master", "subject_key": ISRC_A, "version": "2", "decision": "accept"}
    assert site.client.post("/splits/decision", data=form | {"csrf_token": "forged"}).status_code == 403
    done = site.client.post("/splits/decision", data=form | {"csrf_token": _csrf(page)}, follow_redirects=False)
    assert done.status_code == 303, done.text
    history = site.ledger.find_split("master", ISRC_A)
    assert history is not None and history.get_version(2)["status"] == "active"
    assert "user:label-user/label" in str(history.get_version(2)["accepted_by"])
    token = _csrf(site.client.get("/splits").text)
    old = dict(site.client.cookies)
    assert site.client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    site.client.cookies.update(old)  # replaying the old cookie does not bring the session back
    assert site.client.get("/", follow_redirects=False).status_code == 303


def test_person_page_lists_credits_by_role(site: Api) -> None:
    assert login(site.client, "label-user") == 303
    page = site.client.get("/people/alice")
    assert page.status_code == 200 and "main_artist" in page.text and "composer" in page.text
    assert site.client.get("/people/nobody").status_code == 404


def test_a_reload_after_new_plays_shows_them_and_every_answer_says_its_server_time(site: Api) -> None:
    assert login(site.client, "alice-user") == 303
    first = site.client.get("/")
    assert re.fullmatch(r"app;dur=\d+\.\d", first.headers["server-timing"])
    month = re.search(r'id="live-month">([^<]+)<', first.text)
    assert month
    assert site.client.get("/").text == first.text  # the same positions: the same page
    wait_projected(site.ledger, report_plays(site, site.ledger.clock(), first=300, count=3))
    again = re.search(r'id="live-month">([^<]+)<', site.client.get("/").text)
    assert again and again.group(1) != month.group(1)


def test_disputes_page_and_operations_only_for_operators(site: Api) -> None:
    assert login(site.client, "alice-user") == 303
    assert "no disputes" in site.client.get("/disputes").text
    assert site.client.get("/operations").status_code == 404
    site.client.cookies.clear()
    assert login(site.client, "operator") == 303
    page = site.client.get("/operations")
    assert page.status_code == 200 and "Review queue" in page.text and "Quarantine" in page.text
    assert site.client.get("/", params={"party": "alice"}).status_code == 200


def test_the_label_takes_its_release_down_and_back_up_an_artist_cannot(site: Api) -> None:
    from tests.e2e.api_fixtures import UPC_A

    assert login(site.client, "bob-user") == 303
    page = site.client.get(f"/releases/{UPC_A}")
    assert page.status_code == 200 and "Take down" not in page.text  # bob is on it, does not label it
    site.client.cookies.clear()
    assert login(site.client, "label-user") == 303
    page = site.client.get(f"/releases/{UPC_A}").text
    form = {"csrf_token": _csrf(page), "territories": "DE, FR", "reason": "rights expired", "action": "take-down"}
    bad = site.client.post(f"/releases/{UPC_A}/availability", data=form | {"territories": "XX"})
    assert bad.status_code == 422
    done = site.client.post(f"/releases/{UPC_A}/availability", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    history = site.ledger.get_release(UPC_A).availability
    assert history[-1]["action"] == "takedown" and history[-1]["territories"] == ["DE", "FR"]
    assert history[-1]["actor"] == "user:label-user/label"
    back = site.client.post(f"/releases/{UPC_A}/availability", data=form | {"action": "reinstate"})
    assert back.status_code == 200 and "reinstatement" in back.text


def test_operator_decides_a_review_with_the_csrf_token(site: Api) -> None:
    assert login(site.client, "operator") == 303
    token = _csrf(site.client.get("/operations").text)
    r = site.client.post(
        "/operations/review", data={"upc": "5012345678900", "decision": "approved", "csrf_token": token}
    )
    assert r.status_code == 422 and "review" in r.text  # the release is live, not in review
    forged = site.client.post("/operations/quarantine-retry", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    done = site.client.post("/operations/quarantine-retry", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
