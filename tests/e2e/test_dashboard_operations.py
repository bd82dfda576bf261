"""Disputes and the audit status in the dashboard over HTTP (issue 19): a party opens a dispute
(pending without standing), an admin admits and resolves it; the operators' page shows the last
audit verification and runs one, recorded with the user as actor."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from api.app import create_app
from api.users import create_user
from ledger.domain.dispute import Dispute
from ledger.domain.operation_run import OperationRun
from ledger.store.config import StoreConfig
from projections.db import ViewDB
from tests.e2e.api_fixtures import ISRC_A, Api, TestClient, seed_catalogue, set_money_rules
from tests.e2e.dashboard_fixtures import PASSWORD
from tests.e2e.test_dashboard_http import _csrf, login


@pytest.fixture
def site(sqlite_config: StoreConfig, cheap_key_hashing: None) -> Iterator[Api]:
    app = create_app(sqlite_config)
    with TestClient(app) as client:
        api = Api(client, app.state.ledger)
        seed_catalogue(api, api.key("admin"))
        set_money_rules(api)
        create_user(api.ledger, "carol-user", "party", "carol", PASSWORD, "test")
        create_user(api.ledger, "alice-user", "party", "alice", PASSWORD, "test")
        create_user(api.ledger, "operator", "admin", None, PASSWORD, "test")
        yield api


def _token(c: TestClient, path: str) -> str:
    r = c.get(path)
    assert r.status_code == 200, r.text
    return _csrf(r.text)


def _dispute(api: Api) -> Dispute:
    (ident,) = api.ledger.aggregate_ids_with(Dispute.Opened)  # type: ignore[attr-defined]
    return api.ledger.get_dispute(ident)


def test_a_party_opens_a_dispute_and_an_admin_admits_and_resolves_it(site: Api) -> None:
    c = site.client
    assert login(c, "carol-user") == 303
    token = _token(c, "/disputes")
    form = {
        "csrf_token": token,
        "party": "carol",
        "right": "master",
        "subject_key": ISRC_A,
        "claimed": "10",
        "effective_from": "2026-01-01",
        "statement": "I played on it",
    }
    assert c.post("/disputes/open", data={**form, "party": "alice"}).status_code == 404  # not carol's party
    assert c.post("/disputes/open", data={**form, "claimed": "ten"}).status_code == 422
    r = c.post("/disputes/open", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    dispute = _dispute(site)
    assert dispute.status == "pending" and dispute.claimed_ppm == 100_000
    assert (
        c.post(
            f"/disputes/{dispute.id}/decision", data={"csrf_token": token, "action": "admit", "reason": "x"}
        ).status_code
        == 404
    )
    c.post("/logout", data={"csrf_token": token})
    assert login(c, "operator") == 303
    token = _token(c, "/disputes")
    assert (
        c.post(
            f"/disputes/{dispute.id}/decision", data={"csrf_token": "forged", "action": "admit", "reason": "x"}
        ).status_code
        == 403
    )
    r = c.post(
        f"/disputes/{dispute.id}/decision",
        data={"csrf_token": token, "action": "admit", "reason": "session player"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert _dispute(site).status == "open"
    r = c.post(
        f"/disputes/{dispute.id}/decision",
        data={"csrf_token": token, "action": "resolve", "outcome": "rejected", "reason": "no contract"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    resolved = _dispute(site)
    assert resolved.status == "resolved" and resolved.outcome == "rejected"
    trail = c.get(f"/recordings/{ISRC_A}").text
    assert "user:operator" in trail


def test_the_operators_page_shows_and_runs_the_audit_verification(site: Api) -> None:
    c = site.client
    assert login(c, "alice-user") == 303
    token = _token(c, "/")
    assert c.post("/operations/audit", data={"csrf_token": token}).status_code == 404  # not an operator
    c.post("/logout", data={"csrf_token": token})
    assert login(c, "operator") == 303
    page = c.get("/operations").text
    assert "none recorded yet" in page
    token = _csrf(page)
    assert c.post("/operations/audit", data={"csrf_token": "forged"}).status_code == 403
    r = c.post("/operations/audit", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and "OK" in r.headers["location"]
    page = c.get("/operations").text
    status = page[page.index('id="audit-status"') :]
    assert ">OK<" in status and "user:operator" in status
    head_hash = re.search(r"chain hash at that head</th><td><code>([0-9a-f]{64})</code>", status)
    assert head_hash, status[:2000]
    runs = [site.ledger.decode(n) for n in site.ledger.read_log(topics=site.ledger.topics_of(OperationRun.Completed))]
    assert runs[-1].outcome["ok"] is True and runs[-1].outcome["chain_hash"] == head_hash.group(1)
    assert runs[-1].actor == "user:operator"


def test_the_login_rate_limit_holds_across_server_processes(sqlite_config: StoreConfig, site: Api) -> None:
    """Two apps on one store stand for two workers: failures counted by one stop logins at the
    other, and the table keeps no address or username, only hashes."""
    second = create_app(sqlite_config)
    with TestClient(second) as other:
        statuses = [login(site.client if n % 2 else other, "alice-user", "wrong password!!") for n in range(5)]
        assert statuses == [401] * 5
        assert login(other, "alice-user") == 429 and login(site.client, "alice-user") == 429
    db = ViewDB(sqlite_config)
    try:
        rows = db.execute("SELECT key_hash FROM login_failures")
    finally:
        db.close()
    assert rows and all(len(h) == 64 and "alice" not in h and "testclient" not in h for (h,) in rows)
