"""Request limits: body sizes, enforced while the body streams in (a lying Content-Length cannot
pass), and no control character in a request's path or query parameters."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM, TYPE_BASE
from ledger.domain.text import text_problem

UPLOAD_PATHS = ("/v1/usage/files",)
UPLOAD_SUFFIXES = ("/audio",)  # POST /v1/recordings/{isrc}/audio


class _TooLarge(HTTPException):
    """An HTTPException so FastAPI's body parsing passes it on instead of answering 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is over the limit of {limit:,} bytes")


class BodySizeLimit:
    """413 problem+json for bodies over `max_body`; file uploads (multipart/form-data) may be
    up to `max_upload` (routes may hold a file to a tighter limit of their own)."""

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int) -> None:
        self.app, self.max_body, self.max_upload = app, max_body, max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        upload = path.startswith(UPLOAD_PATHS) or path.endswith(UPLOAD_SUFFIXES)
        limit = self.max_upload if upload else self.max_body
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
            await _reject(send, path, limit)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _reject(send, path, limit)


class TextInUrl:
    """422 problem+json when the path or a query parameter (name or value) holds a control
    character: keys, codes and filters are single-line texts (ledger.domain.text), and a NUL
    sent on to PostgreSQL would fail the request with a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = _url_problem(scope["path"], scope.get("query_string", b"").decode("latin-1"))
            if found is not None:
                field, reason = found
                await _send_problem(
                    send,
                    422,
                    {
                        "type": TYPE_BASE + "invalid-text",
                        "title": "Invalid text",
                        "status": 422,
                        "detail": f"{field}: {reason}",
                        "errors": [{"field": field, "reason": reason}],
                    },
                )
                return
        await self.app(scope, receive, send)


def _url_problem(path: str, query: str) -> tuple[str, str] | None:
    """(where, what) for the first control character in the path or the query; None if none."""
    if (found := text_problem(path, "url")) is not None:
        return "path", found[1]
    for name, value in parse_qsl(query, keep_blank_values=True, errors="surrogateescape"):
        if (found := text_problem(name, "url")) is not None:
            return "query", found[1]
        if (found := text_problem(value, "url")) is not None:
            return f"query.{name}", found[1]
    return None


async def _reject(send: Send, path: str, limit: int) -> None:
    body: dict[str, Any] = {
        "type": TYPE_BASE + "too-large",
        "title": "Payload too large",
        "status": 413,
        "detail": f"request body is over the limit of {limit:,} bytes",
        "instance": path,
        "limit": limit,
        "unit": "bytes",
    }
    await _send_problem(send, 413, body)


async def _send_problem(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
