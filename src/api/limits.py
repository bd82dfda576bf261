"""Request size limits, enforced while the body streams in (a lying Content-Length cannot pass)."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM, TYPE_BASE

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
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
