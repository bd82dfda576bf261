"""A real HTTP receiver on loopback for the outbound webhook tests: it verifies every signature."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


@dataclass
class Receiver:
    """Keeps every request; answers 500 to the positions in `fail`, each once per entry."""

    port: int
    secret: dict[str, str] = field(default_factory=dict)  # path → subscription secret
    received: list[dict[str, Any]] = field(default_factory=list)
    fail: list[int] = field(default_factory=list)
    fail_first: set[str] = field(default_factory=set)  # paths whose next request gets a 500
    server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                payload = Webhook(receiver.secret[self.path]).verify(body, headers)  # raises if unsigned
                receiver.received.append({"path": self.path, "id": headers["webhook-id"], **payload})
                status = 204
                if payload["position"] in receiver.fail:
                    receiver.fail.remove(payload["position"])
                    status = 500
                elif self.path in receiver.fail_first:
                    receiver.fail_first.remove(self.path)
                    status = 500
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def of(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["path"] == path]
