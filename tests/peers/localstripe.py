"""localstripe (a stateful local Stripe emulator) as a subprocess on loopback, and signed webhooks.

localstripe's own launcher binds every interface; this starts its aiohttp app on 127.0.0.1 only,
from scratch. Webhook payloads are signed for real, the way Stripe does:
`Stripe-Signature: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LAUNCH = (
    "import sys; from aiohttp import web; from localstripe.server import app; "
    "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None, access_log=None)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_localstripe(timeout_s: float = 15.0) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"localstripe did not start: {err[-2000:]}") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def signed(event: dict[str, Any], secret: str, at: int | None = None) -> tuple[bytes, str]:
    """(payload, Stripe-Signature header) for an event, signed with the endpoint secret."""
    payload = json.dumps(event, indent=2, sort_keys=True).encode()
    t = int(time.time()) if at is None else at
    v1 = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={t},v1={v1}"


def event_of(event_type: str, obj: Any, created: int | None = None) -> dict[str, Any]:
    """A Stripe event around an object as localstripe returned it (a StripeObject or a dict)."""
    data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    # The same object state gives the same event id, so posting it twice is a redelivery.
    state = json.dumps([event_type, data], sort_keys=True, default=str)
    return {
        "id": "evt_" + hashlib.sha256(state.encode()).hexdigest()[:24],
        "object": "event",
        "api_version": "2024-06-20",
        "type": event_type,
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "data": {"object": data},
        "pending_webhooks": 1,
        "request": {"id": None},
    }
