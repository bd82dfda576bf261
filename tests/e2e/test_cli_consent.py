"""Consent and standing from the command line: an operator admits or refuses pending disputes;
a first split version waits for a delivering party, which may refuse it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from ledger.application import RoyaltyLedger
from ledger.royalties import read_rights_history
from tests.e2e.cli_runner import royalty_here

ISRC = "USRC17607839"
FEB = datetime(2026, 2, 1, tzinfo=UTC)


def _pending_disputes(config) -> list[str]:
    app = RoyaltyLedger(config)
    for key in ("ann", "lbl", "eve"):
        app.upsert_party(key, key.title(), ["artist"], "t")
    app.upsert_recording(ISRC, "Moth", "Ann", 1000, "t")
    app.set_split("master", ISRC, {"ann": 600_000, "lbl": 400_000}, datetime(2026, 1, 1, tzinfo=UTC), "t", "v1")
    ids = [
        str(app.open_dispute("master", ISRC, "eve", ppm, FEB, "mine", "apikey:x/party/eve", by_operator=False).id)
        for ppm in (100_000, 200_000)
    ]
    app.close()
    return ids


def _json(config, *args: str) -> dict:
    result = royalty_here(config, *args, "--json", env={"ROYALTY_ACTOR": "cli:test-operator"})
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_an_operator_admits_and_refuses_pending_disputes(sqlite_config):
    assert royalty_here(sqlite_config, "init").returncode == 0
    first, second = _pending_disputes(sqlite_config)
    listed = _json(sqlite_config, "disputes", "list", "--status", "pending")["disputes"]
    assert [(d["dispute_id"], d["status"], d["standing"]) for d in listed] == [
        (first, "pending", None),
        (second, "pending", None),
    ]
    admitted = _json(sqlite_config, "disputes", "admit", first, "--reason", "contract on file")["dispute"]
    assert (admitted["status"], admitted["standing"], admitted["decision_note"]) == (
        "open",
        "operator",
        "contract on file",
    )
    refused = _json(sqlite_config, "disputes", "refuse", second, "--reason", "no link to the recording")["dispute"]
    assert refused["status"] == "refused"
    shown = royalty_here(sqlite_config, "disputes", "show", second)
    assert shown.returncode == 0 and "refused (no standing: moves no money)" in shown.stdout
    app = RoyaltyLedger(sqlite_config)
    try:
        assert [d.dispute_id for d in read_rights_history(app).disputes[("master", ISRC)]] == [first]
    finally:
        app.close()
    trail = _json(sqlite_config, "trail", ISRC)
    decisions = [(e["event"], e["actor"]) for e in trail["entries"] if e["subject"].startswith("dispute")]
    assert decisions == [
        ("Opened", "apikey:x/party/eve"),
        ("Opened", "apikey:x/party/eve"),
        ("Admitted", "cli:test-operator"),
        ("Refused", "cli:test-operator"),
    ]
    text = royalty_here(sqlite_config, "trail", ISRC, env={"COLUMNS": "300", "ROYALTY_ACTOR": "cli:test-operator"})
    assert "Admitted" in text.stdout and "reason=contract on file" in text.stdout
    assert royalty_here(sqlite_config, "trail", "GBAYE2699999").returncode == 1  # no such recording
    again = royalty_here(sqlite_config, "disputes", "admit", second, "--reason", "x", "--json")
    problem = json.loads(again.stdout)
    assert again.returncode == 1 and "refused, not pending" in problem["error"] and problem["status"] == 422
    unknown = royalty_here(sqlite_config, "disputes", "admit", "0" * 32, "--reason", "x")
    assert unknown.returncode == 1 and "not found" in unknown.stderr
    assert royalty_here(sqlite_config, "disputes", "refuse", "nope", "--reason", "x").returncode == 1
    assert royalty_here(sqlite_config, "disputes", "list", "--status", "closed").returncode == 1


def test_a_first_version_proposed_by_the_operator_waits_for_the_delivering_party(sqlite_config):
    assert royalty_here(sqlite_config, "init").returncode == 0
    app = RoyaltyLedger(sqlite_config)
    for key in ("ann", "lbl", "eve"):
        app.upsert_party(key, key.title(), ["artist"], "t")
    app.upsert_recording(ISRC, "Moth", "Ann", 1000, "t")
    app.deliver_release("5012345678900", "Moth", [ISRC], date(2026, 1, 1), "t", label_key="lbl")
    app.close()
    proposed = _json(
        sqlite_config,
        "splits",
        "propose",
        ISRC,
        "--as",
        "eve",
        "--share",
        "eve=1000000",
        "--from",
        "2026-01-01T00:00:00Z",
    )
    assert (proposed["version"], proposed["status"]) == (1, "proposed")  # eve's own acceptance is not enough
    history = royalty_here(sqlite_config, "splits", "history", ISRC, env={"COLUMNS": "300"})
    assert "not active; a first version: needs one of lbl or an operator" in history.stdout
    refused = _json(sqlite_config, "splits", "refuse", ISRC, "--version", "1", "--as", "lbl", "--reason", "no deal")
    assert refused["status"] == "refused"
    [version] = _json(sqlite_config, "splits", "history", ISRC)["versions"]
    assert (version["refusal"]["party"], version["refusal"]["reason"], version["status"]) == (
        "lbl",
        "no deal",
        "refused",
    )
    late = royalty_here(sqlite_config, "splits", "accept", ISRC, "--version", "1", "--as", "lbl", "--json")
    assert late.returncode == 1 and "refused, not awaiting acceptance" in json.loads(late.stdout)["error"]
