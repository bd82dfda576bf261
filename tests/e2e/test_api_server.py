"""Smoke: a real `royalty serve` process on a free loopback port, called over HTTP with httpx."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from ledger.store.config import StoreConfig
from tests.e2e.cli_runner import ROYALTY, royalty_json


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(sqlite_config: StoreConfig) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "ROYALTY_DATABASE_URL": sqlite_config.describe()}
    process = subprocess.Popen(
        [ROYALTY, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
            assert process.poll() is None, process.communicate()[1].decode()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()


def test_serve_answers_over_loopback(server: str, sqlite_config: StoreConfig) -> None:
    key = royalty_json(sqlite_config, "keys", "create", "--role", "admin", "--label", "smoke")
    headers = {"Authorization": f"Bearer {key['token']}"}
    with httpx.Client(base_url=server, headers=headers, timeout=10) as client:
        health = client.get("/v1/health").json()
        assert health["status"] == "ok" and health["store"] == "sqlite"
        r = client.put("/v1/parties/smoke", json={"name": "Smoke", "kinds": ["artist"]})
        assert r.status_code == 200 and r.json()["changed"] is True
        position = r.json()["position"]
        r = client.get("/v1/parties/smoke", params={"min_position": position})
        assert r.status_code == 200 and r.json()["name"] == "Smoke"
        r = client.get("/v1/parties/smoke", headers={"Authorization": "Bearer rk_nope"})
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
    listed = royalty_json(sqlite_config, "keys", "list")
    assert [k["key_id"] for k in listed["keys"]] == [key["key_id"]]
    assert "token" not in listed["keys"][0]
    assert ROYALTY
