"""The API's webhook event types are the ledger's, one list (the API's is a Literal for OpenAPI)."""

from typing import get_args

from api.schemas.webhooks import EventType
from ledger.domain.webhook_subscription import EVENT_TYPES


def test_the_api_offers_exactly_the_ledgers_event_types() -> None:
    assert get_args(EventType) == EVENT_TYPES
