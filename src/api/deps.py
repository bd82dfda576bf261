"""Dependency aliases for routes: the ledger app, the calling principal, role and scope checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.auth import Authenticator, Forbidden, Principal
from api.positions import ApiLedger
from api.schemas.common import Key
from api.views import ReadSide
from ledger.application import NotFound

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer rk_…`")


@dataclass(frozen=True)
class ApiSettings:
    """Limits and waits; the defaults suit one loopback server."""

    max_body_bytes: int = 8 * 1024 * 1024
    max_upload_bytes: int = 256 * 1024 * 1024
    max_batch_rows: int = 100_000
    read_wait_s: float = 2.0
    threads: int = 16


# The dependencies below that only read memory are `async def`: FastAPI runs every plain `def`
# dependency in a worker thread of its own, and a request should not hop threads to read an
# attribute. Store reads still run in worker threads (run_in_threadpool).


async def get_ledger(request: Request) -> ApiLedger:
    app: ApiLedger = request.app.state.ledger
    return app


async def get_read_side(request: Request) -> ReadSide:
    read_side: ReadSide = request.app.state.read_side
    return read_side


async def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    token = credentials.credentials if credentials else None
    recent = authenticator.recent(token)
    if recent is not None:
        return recent
    return await run_in_threadpool(authenticator.authenticate, token)


LedgerDep = Annotated[ApiLedger, Depends(get_ledger)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
ReadSideDep = Annotated[ReadSide, Depends(get_read_side)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only the named roles (403 otherwise)."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"role {principal.role} may not do this; needs {' or '.join(roles)}")
        return principal

    return check


def scoped_party(*roles: str) -> Callable[[Principal, str, ApiLedger], Awaitable[str]]:
    """A dependency for `/parties/{party_key}/…`: the roles named, and party keys in scope.

    A party key outside its scope gets 403 before the body is even read.
    """

    async def check(principal: PrincipalDep, party_key: Annotated[Key, Path()], app: LedgerDep) -> str:
        if principal.role not in (*roles, "party"):
            raise Forbidden(f"role {principal.role} may not do this; needs {' or '.join(roles)}")
        if not principal.may_act_for(party_key):
            raise Forbidden(f"this key acts for {principal.party_key} and the parties it manages, not for {party_key}")
        if not principal.is_party:  # a party key's scope holds registered parties only
            await run_in_threadpool(app.require_parties, [party_key])
        return party_key

    return check


def hide_unless(visible: bool, what: str) -> None:
    """Answer 404 for things a scoped key may not know exist."""
    if not visible:
        raise NotFound(f"{what}: not found")
