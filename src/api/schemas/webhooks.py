"""Outbound webhook subscription payloads: the signing secret appears once, in the answer to its creation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.schemas.common import Strict, WriteResult

EventType = Literal[
    "release.delivered",
    "release.updated",
    "release.taken_down",
    "split.proposed",
    "split.activated",
    "dispute.opened",
    "dispute.resolved",
    "sale.recorded",
    "statement.issued",
    "payout.sent",
]
WebhookUrl = Annotated[
    str,
    Field(
        min_length=8,
        max_length=2000,
        pattern=r"^https?://[^\s/?#]+\S*$",
        description="Where to POST: an http or https URL with a host.",
        examples=["https://example.org/hooks/royalty"],
    ),
]
MessageId = Annotated[str, Field(pattern=r"^msg_[0-9a-f]{32}$", description="A dead letter's `webhook-id`.")]


class WebhookSubscriptionCreate(Strict):
    url: WebhookUrl
    event_types: list[EventType] | None = Field(
        default=None, min_length=1, description="The types to send; all of them when left out."
    )


class WebhookDeadLetter(BaseModel):
    message_id: str
    position: int = Field(description="The log position of the event the message carries.")
    type: str
    reason: str = Field(description="The last attempt's failure: `HTTP 500`, `ConnectionRefusedError: …`")
    attempts: int
    replay_requested: bool


class WebhookSubscriptionPublic(BaseModel):
    subscription_id: str
    owner: str = Field(description="A party key, or `operator` for an operator-wide subscription.")
    url: str
    event_types: list[str]
    position: int = Field(description="The log position delivered up to, as last recorded.")
    dead_letters: int = Field(description="Messages set aside after their last failed attempt.")


class WebhookSubscriptionCreated(WriteResult):
    subscription: WebhookSubscriptionPublic
    secret: str = Field(
        description="The signing secret (`whsec_…`), shown this once: verify `webhook-signature` with it."
    )


class WebhookSubscriptionCancelled(WriteResult):
    subscription: WebhookSubscriptionPublic


class WebhookReplayCreate(Strict):
    message_id: MessageId


class WebhookReplayRequested(WriteResult):
    subscription_id: str
    message_id: str
