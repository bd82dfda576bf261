"""Hostile bytes get a clear answer, never a 500 or a traceback (issue 15, finding 5).

A usage CSV naming a column twice, an NDJSON line nested 5 000 deep, a corrupt Parquet file and
signed Stripe events without the documented shape — through the API and the CLI.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ledger.store.config import StoreConfig
from ledger.usage.readers import MAX_DEPTH
from tests.e2e.api_fixtures import ISRC_A, Api, seed_catalogue, set_money_rules
from tests.e2e.cli_runner import royalty
from tests.peers.localstripe import signed

SECRET = "bad-input-listener-secret-0123456789"  # noqa: S105 - a test secret
WEBHOOK_SECRET = "whsec_bad_input_0123456789"  # noqa: S105 - a test secret
PLAY = {"isrc": ISRC_A, "listener_id": "l1", "territory": "GB", "occurred_at": "2026-02-03T10:00:00Z"}


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROYALTY_LISTENER_SECRET", SECRET)
    monkeypatch.setenv("ROYALTY_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)


@pytest.fixture
def platform(sqlite_api: Api) -> dict[str, str]:
    seed_catalogue(sqlite_api, sqlite_api.key("admin"))
    set_money_rules(sqlite_api)
    return sqlite_api.key("platform")


def _upload(api: Api, headers: dict[str, str], name: str, content: bytes) -> Any:
    return api.client.post("/v1/usage/files", files={"file": (name, content)}, headers=headers)


def _corrupt_parquet(path: Path) -> Path:
    rows = 4_000
    table = pa.table(
        {
            "play_id": [f"q{i}" for i in range(rows)],
            "isrc": [ISRC_A] * rows,
            "listener_id": [f"listener-{i}" for i in range(rows)],
            "territory": ["GB"] * rows,
            "occurred_at": ["2026-02-03T10:00:00Z"] * rows,
            "seconds_played": [60] * rows,
        }
    )
    pq.write_table(table, path, row_group_size=1_000, compression="snappy")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 400] = bytes(b ^ 0x5A for b in data[middle : middle + 400])
    path.write_bytes(bytes(data))
    return path


# --- a CSV header naming a column twice -------------------------------------------------------


def test_a_usage_csv_naming_a_column_twice_is_refused_naming_it(sqlite_api: Api, platform: dict[str, str]) -> None:
    csv = "play_id,isrc,listener_id,territory,occurred_at,seconds_played,isrc\nd1,X,l,GB,2026-02-03T10:00:00Z,60,Y\n"
    r = _upload(sqlite_api, platform, "plays.csv", csv.encode())
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/unreadable-file")
    assert "'isrc' more than once" in r.json()["detail"] and "plays.csv" in r.json()["detail"]


def test_the_cli_names_the_duplicated_column_and_exits_non_zero(sqlite_config: StoreConfig, tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("play_id,kind,play_id,occurred_at\n1,stream,2,2026-01-01T00:00:00Z\n")
    done = royalty(sqlite_config, "usage", "ingest", str(path), env={"ROYALTY_LISTENER_SECRET": SECRET})
    assert done.returncode == 1
    assert "'play_id' more than once" in done.stderr and "Traceback" not in done.stderr


# --- NDJSON nested too deep ---------------------------------------------------------------------


def test_one_ndjson_line_nested_5000_deep_is_quarantined_and_the_rest_accepted(
    sqlite_api: Api, platform: dict[str, str]
) -> None:
    lines = [
        json.dumps({**PLAY, "play_id": "n1", "seconds_played": 60}),
        "[" * 5_000 + "]" * 5_000,
        json.dumps(
            {**PLAY, "play_id": "n2", "seconds_played": 60, "listener_id": [[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]}
        ),
        json.dumps({**PLAY, "play_id": "n3", "seconds_played": 60}),
    ]
    r = _upload(sqlite_api, platform, "plays.ndjson", "\n".join(lines).encode())
    assert r.status_code == 200, r.text
    assert (r.json()["rows"], r.json()["accepted"], r.json()["quarantined_total"]) == (4, 2, 2)
    held = sqlite_api.client.get("/v1/usage/quarantine", headers=platform)
    assert held.status_code == 200, held.text
    reasons = sorted((q["reason"], q["detail"]) for q in held.json())
    too_deep = f"not a usage row: JSON nested deeper than {MAX_DEPTH} levels"
    assert [reason for reason, _ in reasons] == ["malformed", "malformed"]
    assert [detail.split(" (")[0] for _, detail in reasons] == [too_deep, too_deep]
    assert [detail.rsplit(" ", 1)[1] for _, detail in reasons] == ["2)", "3)"]
    assert all(set(q["row"]) == {"raw_length", "raw_sha256", "source"} for q in held.json())


# --- a corrupt Parquet file ---------------------------------------------------------------------


def test_a_corrupt_parquet_file_is_a_clear_cli_error_not_a_traceback(
    sqlite_config: StoreConfig, tmp_path: Path
) -> None:
    env = {"ROYALTY_LISTENER_SECRET": SECRET}
    broken = _corrupt_parquet(tmp_path / "plays.parquet")
    done = royalty(sqlite_config, "usage", "ingest", str(broken), "--batch-size", "1000", env=env)
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    assert "plays.parquet: corrupt Parquet data after row" in done.stderr.replace("\n", " ")
    truncated = tmp_path / "cut.parquet"
    truncated.write_bytes(broken.read_bytes()[-3000:])
    done = royalty(sqlite_config, "usage", "ingest", str(truncated), env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cut.parquet: not a Parquet file" in done.stderr.replace("\n", " ")


def test_a_corrupt_parquet_upload_answers_422(sqlite_api: Api, platform: dict[str, str], tmp_path: Path) -> None:
    broken = _corrupt_parquet(tmp_path / "plays.parquet").read_bytes()
    for content in (broken, broken[-3000:]):
        r = _upload(sqlite_api, platform, "plays.parquet", content)
        assert r.status_code == 422, r.text
        assert r.json()["type"].endswith("/unreadable-file") and "plays.parquet" in r.json()["detail"]
        assert str(tmp_path) not in r.text and "royalty-upload-" not in r.text


# --- signed Stripe events without the documented shape --------------------------------------------

INTENT = {"id": "pi_1", "object": "payment_intent", "amount_received": 1299, "currency": "eur", "metadata": {}}
MALFORMED = {
    "created missing": ({"created": None}, "created is missing"),
    "created a string": ({"created": "1767225600"}, "created is a str"),
    "created a float": ({"created": 1767225600.5}, "created is a float"),
    "created a boolean": ({"created": True}, "created is a bool"),
    "created beyond year 9999": ({"created": 10**15}, "out of range"),
    "data not an object": ({"data": ["x"]}, "data.object must be an object"),
    "data.object a list": ({"data": {"object": [INTENT]}}, "data.object must be an object"),
    "data.object a string": ({"data": {"object": "pi_1"}}, "data.object must be an object"),
    "object id missing": ({"data": {"object": {**INTENT, "id": None}}}, "data.object.id must be a string"),
    "metadata a list": ({"data": {"object": {**INTENT, "metadata": ["isrc"]}}}, "metadata must be an object"),
    "metadata a string": ({"data": {"object": {**INTENT, "metadata": "x"}}}, "metadata must be an object"),
}


@pytest.mark.parametrize("event_type", ["payment_intent.succeeded", "charge.refunded"])
@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_signed_stripe_event_without_its_documented_shape_answers_400_and_records_nothing(
    sqlite_api: Api, case: str, event_type: str
) -> None:
    change, reason = MALFORMED[case]
    event = {"id": "evt_bad_1", "object": "event", "type": event_type, "created": 1767225600}
    event["data"] = {"object": INTENT}
    event.update(change)
    event = {k: v for k, v in event.items() if v is not None}
    payload, signature = signed(event, WEBHOOK_SECRET)
    head = sqlite_api.ledger.head_position()
    r = sqlite_api.client.post(
        "/v1/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/webhook-malformed")
    assert reason in r.json()["detail"] and "evt_bad_1" in r.json()["detail"]
    assert sqlite_api.ledger.head_position() == head


def test_a_signed_stripe_payload_nested_too_deep_answers_400(sqlite_api: Api) -> None:
    payload = b'{"id": "evt_deep", "data": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"
    t = int(time.time())
    v1 = hmac.new(WEBHOOK_SECRET.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    r = sqlite_api.client.post("/v1/webhooks/stripe", content=payload, headers={"Stripe-Signature": f"t={t},v1={v1}"})
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("/webhook-rejected") and "nested too deep" in r.json()["detail"]
