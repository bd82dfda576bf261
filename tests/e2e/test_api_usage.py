"""Usage reporting through the API: JSON batches and files, duplicates, quarantine, limits."""

from __future__ import annotations

import pytest

from tests.e2e.api_fixtures import ISRC_A, ISRC_B, Api, seed_catalogue, set_money_rules


@pytest.fixture(autouse=True)
def listener_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROYALTY_LISTENER_SECRET", "api-test-listener-secret-0123456789")


def _plays() -> list[dict[str, object]]:
    base = {"listener_id": "listener-1", "territory": "GB", "occurred_at": "2026-02-03T10:00:00Z"}
    return [
        {**base, "play_id": "p1", "isrc": ISRC_A, "seconds_played": 200},
        {**base, "play_id": "p2", "isrc": ISRC_B, "seconds_played": 10},
        {**base, "play_id": "p3", "isrc": "GBAYE2699999", "seconds_played": 200},
    ]


def test_a_json_batch_is_accepted_deduplicated_and_quarantined_by_reason(api: Api) -> None:
    admin = api.key("admin")
    seed_catalogue(api, admin)
    set_money_rules(api)
    platform = api.key("platform")
    r = api.client.post("/v1/usage/batches", json={"rows": _plays()}, headers=platform)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["rows"], report["accepted"], report["duplicates"]) == (3, 2, 0)
    assert report["quarantined_total"] == 1 and len(report["quarantined"]) == 1
    assert report["position"] == api.ledger.head_position() and report["changed"] is True
    assert all(isinstance(v, int) for v in report["revenue_micros"].values())
    again = api.client.post("/v1/usage/batches", json={"rows": _plays()[:2]}, headers=platform)
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 2)
    listed = api.client.get("/v1/usage/quarantine", headers=platform).json()
    assert [q["usage_id"] for q in listed] == ["p3"]
    assert "listener-1" not in str(listed)


def test_files_upload_as_csv_and_ndjson(sqlite_api: Api) -> None:
    api = sqlite_api
    admin = api.key("admin")
    seed_catalogue(api, admin)
    set_money_rules(api)
    platform = api.key("platform")
    csv = (
        "play_id,isrc,listener_id,territory,occurred_at,seconds_played\n"
        f"c1,{ISRC_A},l1,DE,2026-02-03T10:00:00Z,60\n"
        f"c2,{ISRC_A},l1,XX,2026-02-03T10:01:00Z,60\n"
    )
    r = api.client.post("/v1/usage/files", files={"file": ("plays.csv", csv, "text/csv")}, headers=platform)
    assert r.status_code == 200, r.text
    assert (r.json()["accepted"], r.json()["quarantined_total"]) == (1, 1)
    ndjson = (
        f'{{"play_id": "n1", "isrc": "{ISRC_B}", "listener_id": "l2", "territory": "FR", '
        '"occurred_at": "2026-02-04T00:00:00Z", "seconds_played": 50}\n'
    )
    r = api.client.post("/v1/usage/files", files={"file": ("plays.ndjson", ndjson)}, headers=platform)
    assert r.status_code == 200 and r.json()["accepted"] == 1
    r = api.client.post("/v1/usage/files", files={"file": ("bad.parquet", b"PK")}, headers=platform)
    assert r.status_code == 422 and r.json()["detail"].startswith("bad.parquet: not a Parquet file")
    r = api.client.post("/v1/usage/files", files={"file": ("plays.xlsx", b"PK")}, headers=platform)
    assert r.status_code == 422 and "unknown format" in r.json()["detail"]


def test_usage_reporting_is_for_the_platform_and_limited(sqlite_api: Api) -> None:
    api = sqlite_api
    r = api.client.post("/v1/usage/batches", json={"rows": _plays()}, headers=api.key("accountant"))
    assert r.status_code == 403
    platform = api.key("platform")
    api.client.app.state.settings = type(api.client.app.state.settings)(max_batch_rows=2)  # type: ignore[attr-defined]
    r = api.client.post("/v1/usage/batches", json={"rows": _plays()}, headers=platform)
    assert r.status_code == 413 and r.json()["unit"] == "rows"
    floats = [{**_plays()[0], "amount_micros": 1.5}]
    r = api.client.post("/v1/usage/batches", json={"rows": floats}, headers=platform)
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("amount_micros")
