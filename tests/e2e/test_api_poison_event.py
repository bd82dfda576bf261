"""Issue 15 finding 3 through the API: a poison event in the log does not stop reads.

Before, the embedded projector failed its batch on every attempt (27 restarts in 24 s),
reads with `min_position` answered 503 for good and health showed nothing but the lag.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from api.app import create_app
from ledger.application import RoyaltyLedger
from ledger.store.config import StoreConfig
from tests.e2e.api_fixtures import Api, TestClient
from tests.e2e.cli_runner import royalty, royalty_json
from tests.integration.test_projector_poison import inject_nul_name, inject_undecodable_event


@pytest.fixture
def served(store_config: StoreConfig, cheap_key_hashing: None) -> Iterator[Api]:
    app = create_app(store_config, projector=True)  # a projector thread, as `royalty serve` runs
    with TestClient(app) as client:
        yield Api(client, app.state.ledger)


def test_reads_with_min_position_answer_past_a_poison_event_and_health_names_it(
    served: Api, store_config: StoreConfig
) -> None:
    api = served
    admin = api.key("admin")
    for key in ("p0", "p2"):
        r = api.client.put(f"/v1/parties/{key}", json={"name": "Zero", "kinds": ["artist"]}, headers=admin)
        assert r.status_code == 200
    poison = inject_undecodable_event(api.ledger, "p0")
    nul = inject_nul_name(api.ledger, "p2") if store_config.backend == "postgres" else None
    later = api.client.put("/v1/parties/p1", json={"name": "One", "kinds": ["label"]}, headers=admin).json()

    # Earnings are read from a read model: the read waits until it has folded `min_position`.
    r = api.client.get("/v1/parties/p1/earnings", params={"min_position": later["position"]}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["as_of"] >= later["position"]

    deadline = time.monotonic() + 20
    while (projector := api.client.get("/v1/health").json()["projector"])["behind"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert projector["behind"] == 0  # every read model reached the head
    # PostgreSQL cannot store the NUL; SQLite can, so there it is no poison.
    expected = [(nul, "catalogue")] if nul else []
    assert [(f["position"], f["model"]) for f in projector["failures"]] == [*expected, (poison, "catalogue")]
    assert projector["failed_events"] == len(expected) + 1
    assert projector["failures"][-1]["error"].startswith("MapperDeserialisationError")


def test_royalty_project_reports_the_poison_event_and_reaches_the_head(sqlite_config: StoreConfig) -> None:
    ledger = RoyaltyLedger(sqlite_config)
    try:
        ledger.upsert_party("p0", "Zero", ["artist"], "test")
        poison = inject_undecodable_event(ledger, "p0")
        ledger.upsert_party("p1", "One", ["label"], "test")
        head = ledger.head_position()
    finally:
        ledger.close()
    projected = royalty_json(sqlite_config, "project")
    assert projected["behind"] == 0 and projected["head"] == head
    assert projected["failed_events"] == 1
    [failure] = projected["failures"]
    assert (failure["position"], failure["model"]) == (poison, "catalogue")
    assert failure["error"].startswith("MapperDeserialisationError")
    listed = royalty_json(sqlite_config, "project", "failures")
    assert listed["failures"] == [failure]
    text = royalty(sqlite_config, "project")
    assert text.returncode == 0 and "1 event(s) a read model could not fold" in text.stdout
