"""The foundation through the CLI, as an operator types it, on SQLite and PostgreSQL."""

import json

from tests.e2e.cli_runner import royalty, royalty_json
from tests.integration.store_tools import tamper_event_state


def test_init_twice_is_harmless(store_config, tmp_path):
    first = royalty(store_config, "init", "--json", cwd=tmp_path)
    second = royalty(store_config, "init", "--json", cwd=tmp_path)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert json.loads(second.stdout)["applied"] == []


def test_demo_builds_a_catalogue_that_the_cli_shows_and_audit_verifies_then_names_an_altered_position(
    store_config, tmp_path
):
    # One demo run serves both halves: the demo is the slowest command there is (~40 s here).
    result = royalty(store_config, "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    releases = royalty_json(store_config, "catalogue", "show", cwd=tmp_path)["releases"]
    assert len(releases) >= 10
    assert sum(len(r["tracks"]) for r in releases) >= 50
    recording = royalty_json(store_config, "catalogue", "show", releases[0]["tracks"][0], cwd=tmp_path)
    assert recording["splits"]["master"]["version"] == 2  # the mid-month change is in force now
    history = royalty_json(store_config, "splits", "history", releases[0]["tracks"][0], cwd=tmp_path)
    first, second = history["versions"]
    assert second["acceptances"] and second["activation"]["position"] > first["activation"]["position"]
    assert royalty_json(store_config, "audit", "verify", cwd=tmp_path)["ok"] is True

    tamper_event_state(store_config, 2, b"Night Owl", b"Night 0wl")
    result = royalty(store_config, "audit", "verify", "--json", cwd=tmp_path)
    assert result.returncode == 1
    assert json.loads(result.stdout)["chain"]["first_mismatch"]["position"] == 2
    text = royalty(store_config, "audit", "verify", cwd=tmp_path)
    assert text.returncode == 1 and "position 2" in text.stdout


def test_bad_input_gets_a_clear_error_and_a_non_zero_exit(store_config, tmp_path):
    assert royalty(store_config, "init", cwd=tmp_path).returncode == 0
    result = royalty(store_config, "catalogue", "show", "036000291453", "--json", cwd=tmp_path)
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"] == "UPC 036000291453: check digit should be 2"
