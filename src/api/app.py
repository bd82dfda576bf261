"""The FastAPI application: `create_app(config)` wires the ledger, auth, errors, limits and routers."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api import errors, openapi
from api.auth import Authenticator
from api.dashboard import site as dashboard
from api.deps import ApiSettings
from api.limits import BodySizeLimit, TextInUrl
from api.positions import ApiLedger
from api.routers import (
    audit,
    browse,
    catalogue_import,
    disputes,
    earnings,
    health,
    keys,
    media,
    metrics,
    parties,
    pools,
    profiles,
    recordings,
    releases,
    reports,
    splits,
    statements,
    trails,
    usage,
    webhook_subscriptions,
    webhooks,
    works,
)
from api.timing import ServerTiming
from api.views import EmbeddedProjector, ReadSide
from ledger.application import Clock, system_clock
from ledger.store.config import StoreConfig

PROJECTOR_ENV = "ROYALTY_API_PROJECTOR"
ROUTERS = (
    health,
    metrics,
    keys,
    parties,
    profiles,
    works,
    browse,
    recordings,
    releases,
    splits,
    disputes,
    trails,
    usage,
    reports,
    earnings,
    statements,
    audit,
    webhooks,
    webhook_subscriptions,
    catalogue_import,
    media,
    pools,
)
DESCRIPTION = """\
The ways in and out of the royalty ledger. Authenticate with an API key
(`Authorization: Bearer rk_…`). Money is integer micro-units with an ISO 4217 currency.
Errors are RFC 9457 `application/problem+json`. Every write answers with its log
`position`; pass it back as `min_position` to read your own write.
"""


def build_app(lifespan: Any = None) -> FastAPI:
    """Routes, schemas and error handlers without a store (enough for the OpenAPI document)."""
    # /docs and /redoc load Swagger UI's and ReDoc's scripts, styles and favicon from this
    # server (the fastapi-offline package's copies under /static-offline-docs), never from a
    # CDN: they work offline, and no third party learns of a visit. Swagger UI's validator
    # badge (validator.swagger.io) is off for the same reason.
    app = FastAPIOffline(
        title="royalty-ledger",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        swagger_ui_parameters={"validatorUrl": None},
    )
    errors.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
    openapi.install(app)
    return app


def create_app(
    config: StoreConfig | None = None,
    *,
    clock: Clock = system_clock,
    settings: ApiSettings | None = None,
    projector: bool | None = None,
) -> FastAPI:
    """The served app. `projector` (default: ROYALTY_API_PROJECTOR=1) runs one in-process."""
    ledger = ApiLedger(config or StoreConfig.from_env(), clock=clock)
    limits = settings or ApiSettings()
    read_side = ReadSide(ledger, pool_size=limits.threads)
    if projector is None:
        projector = os.environ.get(PROJECTOR_ENV) == "1"
    embedded = EmbeddedProjector(ledger) if projector else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Sync routes run in this many threads; each holds at most one view connection.
        to_thread.current_default_thread_limiter().total_tokens = limits.threads
        if embedded:
            embedded.start()
        yield
        if embedded:
            embedded.stop()
        read_side.close()
        ledger.close()

    app = build_app(lifespan)
    app.state.ledger = ledger
    app.state.settings = limits
    app.state.authenticator = Authenticator(ledger)
    dashboard.install(app, ledger, read_side, app.state.authenticator.scopes)
    app.state.read_side = read_side
    app.add_middleware(BodySizeLimit, max_body=limits.max_body_bytes, max_upload=limits.max_upload_bytes)
    app.add_middleware(TextInUrl)
    app.add_middleware(ServerTiming)
    return app
