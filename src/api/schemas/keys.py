"""API key payloads: the secret appears once, in the answer to its creation."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Key, Label, Reason, Strict, WriteResult

Role = Literal["admin", "distributor", "platform", "party", "accountant", "auditor", "dispute_handler"]


class ApiKeyCreate(Strict):
    role: Role
    party_key: Key | None = None
    label: Label = ""


class ApiKeyPublic(BaseModel):
    key_id: str
    role: str
    party_key: str | None
    label: str
    created_at: datetime
    revoked: bool
    revoked_reason: str | None


class ApiKeyIssued(WriteResult):
    key: ApiKeyPublic
    token: str = Field(description="The secret, shown this once: `Authorization: Bearer <token>`.")


class ApiKeyRevoke(Strict):
    reason: Reason


class ApiKeyRevoked(WriteResult):
    key: ApiKeyPublic
