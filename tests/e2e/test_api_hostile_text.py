"""Issue 15 findings 3 and 6 through the API: control characters and over-long texts are
refused at every way in, the same on SQLite and PostgreSQL, and no fragment of a raw listener
id is stored or answered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from tests.e2e.api_fixtures import ISRC_A, Api, seed_catalogue, set_money_rules
from tests.e2e.cli_runner import royalty


@pytest.fixture(autouse=True)
def listener_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROYALTY_LISTENER_SECRET", "api-test-listener-secret-0123456789")


def test_a_nul_in_a_party_name_is_a_422_and_nothing_is_written(api: Api) -> None:
    admin = api.key("admin")
    head = api.ledger.head_position()
    for name, where in (("Bad\u0000Name", "U+0000"), ("Tab\tName", "U+0009"), ("C1\u0085", "U+0085")):
        r = api.client.put("/v1/parties/p0", json={"name": name, "kinds": ["artist"]}, headers=admin)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        [error] = r.json()["errors"]
        assert error["field"] == "body.name" and where in error["reason"]
    r = api.client.put("/v1/parties/p0", json={"name": "x" * 501, "kinds": ["artist"]}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.name"
    assert api.ledger.head_position() == head
    longest = {"name": "x" * 500, "kinds": ["artist"]}
    assert api.client.put("/v1/parties/p0", json=longest, headers=admin).status_code == 200


def test_multi_line_texts_keep_newlines_and_refuse_other_controls(api: Api) -> None:
    admin = api.key("admin")
    seed_catalogue(api, admin)
    url = f"/v1/recordings/{ISRC_A}/takedowns"
    r = api.client.post(url, json={"reason": "line one\nline two\ttabbed"}, headers=admin)
    assert r.status_code in (200, 201), r.text
    r = api.client.post(url, json={"reason": "bell\u0007"}, headers=admin)
    assert r.status_code == 422 and "U+0007" in r.json()["errors"][0]["reason"]


def test_control_characters_in_the_path_or_query_are_a_422(api: Api) -> None:
    admin = api.key("admin")
    for url in ("/v1/parties/p%00", "/v1/parties/p0/earnings?territory=G%00", "/v1/parties?x%01=1"):
        r = api.client.get(url, headers=admin)
        assert r.status_code == 422, (url, r.text)
        assert r.json()["type"].endswith("/invalid-text") and "control character" in r.json()["detail"]


def test_usage_rows_with_control_characters_are_quarantined_with_their_reason(api: Api) -> None:
    """Finding 5's whole-file 500 on PostgreSQL: one NUL in a text field failed every row."""
    admin = api.key("admin")
    seed_catalogue(api, admin)
    set_money_rules(api)
    platform = api.key("platform")
    base = {"isrc": ISRC_A, "territory": "GB", "occurred_at": "2026-02-03T10:00:00Z", "seconds_played": 200}
    rows = [
        {**base, "play_id": "ok1", "listener_id": "l1"},
        {**base, "play_id": "bad\u0000id", "listener_id": "l1"},
        {**base, "play_id": "ok2", "listener_id": "secret\u0000listener"},
        {**base, "play_id": "ok3", "listener_id": "l1", "refund_of": "s\u0001"},
        {**base, "play_id": "ok4", "listener_id": "l1", "source": "radio\u009b"},
    ]
    ndjson = "".join(json.dumps(row) + "\n" for row in rows)
    r = api.client.post("/v1/usage/files", files={"file": ("plays.ndjson", ndjson)}, headers=platform)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    assert r.json()["quarantined"] == {
        "control_character_in_play_id": 1,
        "control_character_in_listener_id": 1,
        "control_character_in_refund_of": 1,
        "control_character_in_source": 1,
    }
    listed = api.client.get("/v1/usage/quarantine", headers=platform)
    assert listed.status_code == 200
    assert "secret" not in listed.text


def test_no_fragment_of_a_raw_listener_id_is_stored_or_answered(api: Api) -> None:
    """Finding 6: the detail kept up to 40 raw characters of a listener id that was a list,
    an object or over 128 characters, and GET /v1/usage/quarantine returned them."""
    admin = api.key("admin")
    seed_catalogue(api, admin)
    set_money_rules(api)
    platform = api.key("platform")
    base = {"isrc": ISRC_A, "territory": "GB", "occurred_at": "2026-02-03T10:00:00Z", "seconds_played": 200}
    rows = [
        {**base, "play_id": "l1", "listener_id": ["MARKERLIST-alice@example.org"]},
        {**base, "play_id": "l2", "listener_id": {"MARKEROBJ": "bob@example.org"}},
        {**base, "play_id": "l3", "listener_id": "MARKERLONG" + "y" * 200},
        # A field the ledger does not read may hold a raw id too: it is not kept.
        {**base, "play_id": "l4", "listener_id": "l4", "isrc": "GBAYE2699999", "listener": "MARKERALIAS"},
    ]
    ndjson = "".join(json.dumps(row) + "\n" for row in rows)
    r = api.client.post("/v1/usage/files", files={"file": ("plays.ndjson", ndjson)}, headers=platform)
    assert r.status_code == 200, r.text
    assert r.json()["quarantined"] == {"malformed": 2, "too_long_in_listener_id": 1, "unknown_isrc": 1}
    listed = api.client.get("/v1/usage/quarantine", headers=platform)
    assert listed.status_code == 200 and len(listed.json()) == 4
    [alias] = [q for q in listed.json() if q["usage_id"] == "l4"]
    assert alias["row"]["unknown_fields_dropped"] == 1 and "listener" not in alias["row"]
    details = sorted(q["detail"] for q in listed.json() if q["usage_id"] != "l4")
    assert details[0].startswith("listener_id: 210 characters, more than the 128 allowed")
    assert details[1].startswith("listener_id: a list of 1 item(s), not a text")
    assert details[2].startswith("listener_id: an object with 1 key(s), not a text")
    for marker in ("MARKER", "alice", "bob", "yyyy"):
        assert marker not in listed.text, marker
    # Nor anywhere in the store: every text column of every usage table.
    for table in ("usage_quarantine", "usage_rows"):
        with api.ledger.recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            cursor.execute(f"SELECT * FROM {table}")
            dump = repr(cursor.fetchall())
        for marker in ("MARKER", "alice", "bob", "yyyy"):
            assert marker not in dump, (table, marker)


def test_cli_arguments_with_control_characters_exit_non_zero_with_the_reason(
    sqlite_config: StoreConfig, tmp_path: Path
) -> None:
    ledger = RoyaltyLedger(sqlite_config)
    try:
        ledger.upsert_party("p0", "Zero", ["label"], "test")
        head = ledger.head_position()
    finally:
        ledger.close()
    result = royalty(sqlite_config, "parties", "verify", "p0", "--reason", "contract\x1b[2J")
    assert result.returncode == 1 and "U+001B" in result.stderr, result.stderr + result.stdout
    plays = tmp_path / "plays.csv"
    plays.write_text("play_id,isrc,listener_id,territory,occurred_at,seconds_played\n")
    env = {"ROYALTY_LISTENER_SECRET": "api-test-listener-secret-0123456789"}
    result = royalty(sqlite_config, "usage", "ingest", str(plays), "--source", "radio\x07", env=env)
    assert result.returncode == 1 and "source: control character U+0007" in result.stderr, result.stderr
    ledger = RoyaltyLedger(sqlite_config)
    try:
        assert ledger.head_position() == head
    finally:
        ledger.close()
