"""A local Stripe Transfers endpoint (stdlib http.server on loopback), because localstripe has none.

It implements what the stripe library calls for Connect transfers: POST /v1/transfers (with
Idempotency-Key semantics: the same key and parameters replay the first response, the same key
with other parameters is an idempotency_error), GET /v1/transfers/{id} and GET /v1/transfers
(newest first, `limit` / `starting_after` pagination, `transfer_group` and `destination`
filters). Bearer-key auth like Stripe's. Destinations in `declined` answer "No such destination".
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class TransfersState:
    api_key: str
    transfers: list[dict[str, Any]] = field(default_factory=list)  # creation order
    idempotency: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    declined: set[str] = field(default_factory=set)
    create_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self,
        amount: int,
        currency: str,
        destination: str,
        group: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        transfer = {
            "id": "tr_" + secrets.token_hex(8),
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": group,
            "metadata": metadata or {},
            "reversed": False,
            "created": int(time.time()),
            "livemode": False,
        }
        self.transfers.append(transfer)
        return transfer

    def reverse(self, transfer_id: str, amount: int) -> None:
        for t in self.transfers:
            if t["id"] == transfer_id:
                t["amount_reversed"] += amount
                t["reversed"] = t["amount_reversed"] >= t["amount"]


def _form(body: str) -> dict[str, Any]:
    """Stripe's form encoding: metadata[key]=value nests one level."""
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        if "[" in key and key.endswith("]"):
            outer, inner = key[:-1].split("[", 1)
            params.setdefault(outer, {})[inner] = value
        else:
            params[key] = value
    return params


def _error(status: int, kind: str, message: str, code: str | None = None) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": kind, "message": message, "code": code}}


class _Handler(BaseHTTPRequestHandler):
    state: TransfersState

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, document: dict[str, Any], replayed: bool = False) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", "req_" + secrets.token_hex(6))
        if replayed:
            self.send_header("Idempotent-Replayed", "true")
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization", "") == f"Bearer {self.state.api_key}":
            return True
        self._send(*_error(401, "invalid_request_error", "Invalid API Key provided"))
        return False

    def do_POST(self) -> None:
        if not self._authorised():
            return
        if urlsplit(self.path).path != "/v1/transfers":
            self._send(*_error(404, "invalid_request_error", "Unrecognized request URL"))
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        key = self.headers.get("Idempotency-Key")
        with self.state.lock:
            self.state.create_requests += 1
            if key and key in self.state.idempotency:
                first_body, status, document = self.state.idempotency[key]
                if first_body != body:
                    self._send(
                        *_error(
                            400,
                            "idempotency_error",
                            "Keys for idempotent requests can only be used with the same parameters",
                        )
                    )
                else:
                    self._send(status, document, replayed=True)
                return
            status, document = self._create(_form(body))
            if key:
                self.state.idempotency[key] = (body, status, document)
        self._send(status, document)

    def _create(self, p: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        amount, destination = p.get("amount", ""), str(p.get("destination", ""))
        if not amount.isdigit() or int(amount) <= 0 or not p.get("currency"):
            return _error(400, "invalid_request_error", "amount and currency are required", "parameter_missing")
        if not destination.startswith("acct_") or destination in self.state.declined:
            return _error(400, "invalid_request_error", f"No such destination: '{destination}'", "resource_missing")
        return 200, self.state.add(int(amount), p["currency"], destination, p.get("transfer_group"), p.get("metadata"))

    def do_GET(self) -> None:
        if not self._authorised():
            return
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        with self.state.lock:
            if url.path.startswith("/v1/transfers/"):
                found = [t for t in self.state.transfers if t["id"] == url.path.rsplit("/", 1)[1]]
                if found:
                    self._send(200, found[0])
                else:
                    self._send(*_error(404, "invalid_request_error", "No such transfer", "resource_missing"))
                return
            if url.path != "/v1/transfers":
                self._send(*_error(404, "invalid_request_error", "Unrecognized request URL"))
                return
            self._send(200, self._page(query))

    def _page(self, query: dict[str, str]) -> dict[str, Any]:
        rows = [
            t
            for t in reversed(self.state.transfers)
            if query.get("transfer_group") in (None, t["transfer_group"])
            and query.get("destination") in (None, t["destination"])
        ]
        if "starting_after" in query:
            ids = [t["id"] for t in rows]
            rows = rows[ids.index(query["starting_after"]) + 1 :] if query["starting_after"] in ids else []
        limit = max(1, min(100, int(query.get("limit", "10"))))
        return {"object": "list", "url": "/v1/transfers", "data": rows[:limit], "has_more": len(rows) > limit}


@contextmanager
def running_transfers_server(api_key: str) -> Iterator[tuple[str, TransfersState]]:
    """Serve on 127.0.0.1 and a free port in a daemon thread; yields (base URL, state)."""
    state = TransfersState(api_key)
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
