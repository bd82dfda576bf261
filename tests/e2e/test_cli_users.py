"""`royalty users` as an operator types it: create (password from the environment, never an
argument), list without hashes, refuse duplicates, short passwords and unknown parties."""

from __future__ import annotations

from ledger.application import RoyaltyLedger
from tests.e2e.cli_runner import royalty, royalty_json


def test_users_create_list_and_refusals(sqlite_config):
    app = RoyaltyLedger(sqlite_config)
    try:
        app.upsert_party("aria", "Aria", ["artist"], "test")
    finally:
        app.close()
    password = {"ROYALTY_USER_PASSWORD": "a long enough password"}
    made = royalty_json(sqlite_config, "users", "create", "aria", "--party", "aria", env=password)
    assert made["username"] == "aria" and made["party_key"] == "aria"
    listed = royalty_json(sqlite_config, "users", "list")
    assert [u["username"] for u in listed["users"]] == ["aria"]
    assert "argon2" not in str(listed) and "password" not in str(listed)
    for args, env, needle in (
        (("aria", "--party", "aria"), password, "exists already"),
        (("bob", "--party", "aria"), {"ROYALTY_USER_PASSWORD": "short"}, "12 characters"),
        (("carol", "--party", "nobody"), password, "unknown party"),
    ):
        result = royalty(sqlite_config, "users", "create", *args, env=env)
        assert result.returncode != 0 and needle in result.stderr, (args, result.stderr)
    assert royalty_json(sqlite_config, "users", "disable", "aria")["disabled"] is True
