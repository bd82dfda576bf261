"""`royalty webhooks` as an operator types it: add, list, remove, replay — the API's validation."""

from __future__ import annotations

from tests.e2e.cli_runner import royalty_here
from tests.e2e.test_cli_writes import (
    Run,
    cli,  # noqa: F401 - the fixture
)

KEY = {"ROYALTY_WEBHOOK_KEY": "cli-webhook-key-0123456789"}


def test_an_operator_adds_lists_and_removes_subscriptions(cli: Run, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv(*next(iter(KEY.items())))
    assert cli("parties", "create", "aria", "--name", "Aria", "--kind", "artist")[0] == 0
    code, added = cli("webhooks", "add", "https://aria.example/hook", "--party", "aria", "--type", "split.proposed")
    assert code == 0 and added["owner"] == "aria" and added["secret"].startswith("whsec_")
    code, ops = cli("webhooks", "add", "https://ops.example/hook")
    assert code == 0 and ops["owner"] == "operator" and len(ops["event_types"]) == 10
    code, listed = cli("webhooks", "list", "--party", "aria")
    assert [s["subscription_id"] for s in listed["subscriptions"]] == [added["subscription_id"]]
    assert "secret" not in listed["subscriptions"][0]
    assert cli("webhooks", "remove", added["subscription_id"])[0] == 0
    assert [s["owner"] for s in cli("webhooks", "list")[1]["subscriptions"]] == ["operator"]
    code, out = cli("webhooks", "remove", added["subscription_id"])
    assert code != 0 and "not found" in out["error"]


def test_bad_subscriptions_and_names_exit_non_zero_with_the_reason(cli: Run, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv(*next(iter(KEY.items())))
    for args, reason in (
        (("webhooks", "add", "ftp://x.example/hook"), "expected an http or https URL"),
        (("webhooks", "add", "https://"), "expected an http or https URL"),
        (("webhooks", "add", "https://x.example/hook", "--type", "release.deleted"), "release.deleted"),
        (("webhooks", "add", "https://x.example/hook", "--party", "nobody"), "nobody"),
        (("webhooks", "remove", "not-a-uuid"), "not a subscription id"),
        (("webhooks", "replay", "6f1c2f9e-8a4b-4c55-9d1e-0f2b3c4d5e6f", "msg_x"), "not found"),
    ):
        code, out = cli(*args)
        assert code != 0 and reason in out["error"], (args, out)


def test_without_a_webhook_key_adding_says_what_to_set(store_config) -> None:
    result = royalty_here(store_config, "webhooks", "add", "https://x.example/hook", env={"ROYALTY_WEBHOOK_KEY": ""})
    assert result.returncode != 0 and "ROYALTY_WEBHOOK_KEY" in result.stderr + result.stdout
