"""Smoke: a real `royalty serve` process on a free loopback port, called over HTTP with httpx."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from ledger.store.config import StoreConfig
from tests.e2e.cli_runner import ROYALTY, royalty, royalty_json


@pytest.fixture
def server(sqlite_config: StoreConfig) -> Iterator[str]:
    """`royalty serve --port 0`: the address it prints on start is where it answers."""
    env = {**os.environ, "ROYALTY_DATABASE_URL": sqlite_config.describe()}
    process = subprocess.Popen(
        [ROYALTY, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        first = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        assert found and int(found[1]) > 0, first + process.stderr.read()
        url = found[0]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
            assert process.poll() is None, process.communicate()[1]
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


def test_serve_on_a_taken_port_says_so_in_one_line(sqlite_config: StoreConfig) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        result = royalty(sqlite_config, "serve", "--port", str(port), timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    taken = f"error: port {port} on 127.0.0.1 is already in use: stop what holds it or pass --port"
    assert result.stderr.strip() == taken


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
