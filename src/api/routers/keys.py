"""API keys (admin only): issue one (its secret shown once), list them, revoke one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from api.auth import Principal, create_key, get_key, key_doc, list_keys, revoke_key
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, require
from api.positions import capture_writes
from api.schemas.keys import ApiKeyCreate, ApiKeyIssued, ApiKeyPublic, ApiKeyRevoke, ApiKeyRevoked

router = APIRouter(prefix="/v1/keys", tags=["keys"], route_class=ConflictRetryRoute)

Admin = Annotated[Principal, Depends(require("admin"))]
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]


@router.post("", response_model=ApiKeyIssued, status_code=201)
def issue_key(body: ApiKeyCreate, app: LedgerDep, principal: Admin) -> ApiKeyIssued:
    """Issue a key for a role (a party key names its party). Only its argon2 hash is stored."""
    with capture_writes() as written:
        issued = create_key(app, body.role, principal.actor, body.party_key, body.label)
    key = ApiKeyPublic.model_validate(key_doc(get_key(app, issued.key_id)))
    return ApiKeyIssued(position=written.position(app), changed=True, key=key, token=issued.token)


@router.get("", response_model=list[ApiKeyPublic])
def get_keys(app: LedgerDep, principal: Admin) -> list[ApiKeyPublic]:
    """Every key ever issued, revoked ones included; never a secret or a hash."""
    return [ApiKeyPublic.model_validate(doc) for doc in list_keys(app)]


@router.post("/{key_id}/revocation", response_model=ApiKeyRevoked)
def revoke(key_id: KeyId, body: ApiKeyRevoke, app: LedgerDep, principal: Admin, request: Request) -> ApiKeyRevoked:
    """Revoke a key; the next request made with it is refused (401). Revoked from the command
    line or another server process, it is refused within 2 seconds."""
    with capture_writes() as written:
        key = revoke_key(app, key_id, body.reason, principal.actor)
    request.app.state.authenticator.forget()
    return ApiKeyRevoked(position=written.position(app), changed=True, key=ApiKeyPublic.model_validate(key_doc(key)))
