"""Every write of the API from the command line: same validation, same errors, same answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import context
from cli.main import app as royalty_app
from ledger.store.config import StoreConfig
from tests.e2e.api_fixtures import Api, seed_catalogue
from tests.e2e.cli_runner import royalty, royalty_json

CATALOGUE_CSV = Path(__file__).resolve().parents[2] / "docs" / "examples" / "catalogue.csv"
ISRC = "GBTDW2500001"  # in docs/examples/catalogue.csv: oskar-lind 30 %, tidewater-records 70 %
UPC = "5012345678962"

Run = Callable[..., tuple[int, Any]]


@pytest.fixture
def cli(store_config: StoreConfig, monkeypatch: pytest.MonkeyPatch) -> Run:
    """`royalty …` in this process (a subprocess costs seconds here); returns (exit code, JSON)."""
    monkeypatch.setenv("ROYALTY_DATABASE_URL", store_config.describe())
    monkeypatch.setenv("ROYALTY_ACTOR", "ops:test")
    context.ledger.cache_clear()
    runner = CliRunner()

    def run(*args: str) -> tuple[int, Any]:
        result = runner.invoke(royalty_app, [*args, "--json"])
        return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None

    yield run
    context.ledger.cache_clear()


def ok(result: tuple[int, Any]) -> Any:
    code, doc = result
    assert code == 0 and doc["ok"] is True, doc
    return doc


def test_a_csv_catalogue_goes_into_a_fresh_store_from_the_cli_alone(sqlite_config, tmp_path):
    refused = royalty(sqlite_config, "catalogue", "import", str(CATALOGUE_CSV), "--sender", "nld", "--json")
    assert refused.returncode == 1 and "nld is not registered with a DPID" in refused.stdout
    created = royalty_json(
        sqlite_config, "parties", "create", "nld", "--name", "Northern Lights", "--kind", "distributor",
        "--dpid", "PADPIDA2014120301",
    )  # fmt: skip
    assert created["party"]["identifiers"] == {"dpid": "PADPIDA2014120301"} and created["position"] >= 1
    imported = royalty_json(sqlite_config, "catalogue", "import", str(CATALOGUE_CSV), "--sender", "nld")
    assert imported["counts"]["accepted"] == 2 and imported["ok"] is True
    shown = royalty_json(sqlite_config, "catalogue", "show", UPC)
    assert shown["delivered_by"] == "nld" and len(shown["tracks"]) == 3


def test_parties_are_created_updated_and_refused_as_the_api_refuses_them(cli):
    created = ok(
        cli("parties", "create", "aria", "--name", "Aria Lune", "--kind", "artist", "--isni", "0000000121032683")
    )
    assert created["changed"] is True and created["party"]["identifiers"] == {"isni": "0000000121032683"}
    updated = ok(cli("parties", "update", "aria", "--name", "Aria Lune (band)", "--kind", "artist", "--kind", "writer"))
    assert updated["party"]["name"] == "Aria Lune (band)" and updated["party"]["kinds"] == ["artist", "writer"]
    assert updated["party"]["identifiers"] == {"isni": "0000000121032683"}  # kept: not given
    assert updated["position"] > created["position"]
    same = ok(cli("parties", "update", "aria", "--name", "Aria Lune (band)"))
    assert same["changed"] is False
    code, again = cli("parties", "create", "aria", "--name", "Other", "--kind", "artist")
    assert code == 1 and again["type"] == "refused" and "already registered" in again["error"]
    code, bad_isni = cli("parties", "create", "bob", "--name", "Bob", "--kind", "artist", "--isni", "0000000121032684")
    assert code == 1 and bad_isni["type"] == "invalid-identifier"
    code, missing = cli("parties", "update", "nobody", "--name", "X")
    assert code == 1 and missing["type"] == "not-found"
    code, slash = cli("parties", "create", "a/b", "--name", "X", "--kind", "artist")
    assert code == 1 and slash["type"] == "invalid-input" and "party_key" in slash["error"]


def _catalogue(cli: Run, store_config: StoreConfig) -> None:
    ok(cli("parties", "create", "nld", "--name", "NLD", "--kind", "distributor", "--dpid", "PADPIDA2014120301"))
    assert cli("catalogue", "import", str(CATALOGUE_CSV), "--sender", "nld")[0] == 0
    ok(cli("parties", "create", "mara", "--name", "Mara Quinn", "--kind", "artist"))


def test_splits_are_proposed_accepted_and_activated_with_the_operator_as_actor(cli, store_config):
    _catalogue(cli, store_config)
    shares = ["--share", "oskar-lind=400000", "--share", "tidewater-records=600000"]
    proposed = ok(cli("splits", "propose", ISRC, "--as", "oskar-lind", *shares, "--from", "2026-01-01T00:00:00Z"))
    assert (proposed["version"], proposed["status"]) == (2, "proposed")
    accepted = ok(cli("splits", "accept", ISRC, "--version", "2", "--as", "tidewater-records"))
    assert accepted["status"] == "active" and accepted["position"] > proposed["position"]
    solo = ["--share", "oskar-lind=1000000", "--from", "2026-06-01T00:00:00Z"]
    third = ok(cli("splits", "propose", ISRC, "--as", "oskar-lind", *solo))
    activated = ok(cli("splits", "activate", ISRC, "--version", str(third["version"]), "--reason", "court order"))
    assert activated["status"] == "active"
    history = cli("splits", "history", ISRC)[1]["versions"]
    assert [a["party"] for a in history[1]["acceptances"]] == ["oskar-lind", "tidewater-records"]
    assert (
        history[2]["activation"]["actor"] == "ops:test" and history[2]["activation"]["override_reason"] == "court order"
    )


def test_disputes_are_opened_listed_and_resolved_with_corrected_shares(cli, store_config):
    _catalogue(cli, store_config)
    opened = ok(
        cli("disputes", "open", ISRC, "--claimant", "mara", "--claimed-ppm", "100000", "--from", "2026-01-01T00:00:00Z",
            "--statement", "I co-produced it")
    )  # fmt: skip
    dispute_id = opened["dispute"]["dispute_id"]
    assert opened["dispute"]["status"] == "open" and opened["dispute"]["escrow_account"].endswith(dispute_id)
    assert [d["dispute_id"] for d in ok_list(cli("disputes", "list", "--status", "open"))] == [dispute_id]
    resolved = ok(
        cli("disputes", "resolve", dispute_id, "--outcome", "partial", "--awarded-ppm", "50000", "--note", "half",
            "--share", "oskar-lind=250000", "--share", "tidewater-records=700000", "--share", "mara=50000")
    )  # fmt: skip
    assert (resolved["dispute"]["status"], resolved["dispute"]["awarded_ppm"]) == ("resolved", 50_000)
    versions = cli("splits", "history", ISRC)[1]["versions"]
    assert versions[-1]["shares"]["mara"] == 50_000 and versions[-1]["kind"] == "dispute_resolution"
    code, twice = cli("disputes", "resolve", dispute_id, "--outcome", "upheld", "--note", "again")
    assert code == 1 and twice["type"] == "refused" and "already resolved" in twice["error"]
    code, not_an_id = cli("disputes", "show", "42")
    assert code == 1 and not_an_id["type"] == "invalid-input"


def ok_list(result: tuple[int, Any]) -> list[dict[str, Any]]:
    code, doc = result
    assert code == 0, doc
    return doc["disputes"]  # type: ignore[no-any-return]


def test_takedown_and_reinstatement_of_a_release_and_a_recording(cli, store_config):
    _catalogue(cli, store_config)
    down = ok(cli("catalogue", "takedown", UPC, "--territory", "DE", "--reason", "licence lapsed"))
    assert down["availability"][-1]["action"] == "takedown" and down["availability"][-1]["territories"] == ["DE"]
    back = ok(cli("catalogue", "reinstate", UPC, "--territory", "DE", "--reason", "renewed"))
    assert back["availability"][-1]["action"] == "reinstatement"
    rec = ok(cli("catalogue", "takedown", ISRC, "--reason", "sample not cleared", "--at", "2026-02-01T00:00:00Z"))
    assert rec["availability"][-1]["territories"] == ["WW"]
    code, naive = cli("catalogue", "takedown", ISRC, "--reason", "x", "--at", "2026-02-01T00:00:00")
    assert code == 1 and naive["type"] == "invalid-input" and "effective_at" in naive["error"]
    code, territory = cli("catalogue", "takedown", UPC, "--territory", "XX", "--reason", "x")
    assert code == 1 and "territories" in territory["error"]


@pytest.mark.parametrize(
    ("args", "path", "body"),
    [
        (
            ["splits", "propose", "GBAYE2600001", "--as", "alice", "--share", "alice=600000", "--share", "bob=300000",
             "--from", "2026-01-01T00:00:00Z"],
            "/v1/parties/alice/split-proposals",
            {"right": "master", "subject_key": "GBAYE2600001", "shares": {"alice": 600_000, "bob": 300_000},
             "effective_from": "2026-01-01T00:00:00Z"},
        ),
        (
            ["splits", "propose", "GBAYE2600001", "--as", "alice", "--share", "alice=1000000",
             "--from", "2026-01-01T00:00:00+02:00"],
            "/v1/parties/alice/split-proposals",
            {"right": "master", "subject_key": "GBAYE2600001", "shares": {"alice": 1_000_000},
             "effective_from": "2026-01-01T00:00:00+02:00"},
        ),
        (
            ["disputes", "open", "GBAYE2600009", "--claimant", "carol", "--claimed-ppm", "100000",
             "--from", "2026-01-01T00:00:00Z", "--statement", "mine"],
            "/v1/parties/carol/disputes",
            {"right": "master", "subject_key": "GBAYE2600009", "claimed_ppm": 100_000,
             "effective_from": "2026-01-01T00:00:00Z", "statement": "mine"},
        ),
    ],
)  # fmt: skip
def test_the_cli_refuses_with_the_problem_the_api_answers(
    sqlite_api: Api, sqlite_config, monkeypatch, args, path, body
):
    admin = sqlite_api.key("admin")
    seed_catalogue(sqlite_api, admin)
    answer = sqlite_api.client.post(path, json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    monkeypatch.setenv("ROYALTY_DATABASE_URL", sqlite_config.describe())
    context.ledger.cache_clear()
    result = CliRunner().invoke(royalty_app, [*args, "--json"])
    context.ledger.cache_clear()
    doc = json.loads(result.stdout)
    assert result.exit_code == 1 and doc["type"] == problem["type"].rsplit("/", 1)[1] and doc["status"] == 422
    reasons = [e["reason"] for e in problem.get("errors", [])] or [problem["detail"]]
    assert any(r in doc["error"] for r in reasons), (doc, problem)
