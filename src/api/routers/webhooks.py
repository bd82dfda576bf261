"""Webhooks: Stripe events in, verified by signature (the Stripe-Signature header), never by API key."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep
from api.errors import problem
from ledger.payments.stripe_adapter import StripeNotConfigured, StripeSettings, WebhookRejected, verify_webhook
from ledger.payments.webhooks import MalformedEvent, WebhookNotRecorded, handle_stripe_event

log = logging.getLogger("api.webhooks")
router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], route_class=ConflictRetryRoute)


class WebhookHandled(BaseModel):
    event_id: str
    event_type: str
    outcome: str  # accepted | duplicate | quarantined | ignored
    usage_id: str | None = None
    detail: str = ""
    position: int | None = None


def _settings(request: Request) -> StripeSettings:
    configured = getattr(request.app.state, "stripe_settings", None)
    return configured if isinstance(configured, StripeSettings) else StripeSettings.from_env()


@router.post(
    "/stripe",
    response_model=WebhookHandled,
    responses={
        400: {"description": "`webhook-rejected` (the signature) or `webhook-malformed` (not the documented shape)"},
        413: {"description": "`too-large`: the body is over its limit"},
        503: {"description": "Not recorded (other writes kept landing first): deliver it again"},
    },
)
async def stripe_webhook(
    request: Request,
    app: LedgerDep,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookHandled | JSONResponse:
    """A Stripe event. `payment_intent.succeeded` records a sale, `charge.refunded` a refund;
    `customer.subscription.*` links a subscription to a pool, `invoice.paid` is a contribution to
    it and `charge.refunded` of its charge a refund of one (docs/pools.md).

    Unsigned, stale (over 5 minutes) or mismatched signatures answer 400 and record nothing;
    so does a signed event of a handled type whose `created` is not an integer or whose
    `data.object` or metadata is not an object.
    A redelivered event answers 200 with outcome `duplicate` and records nothing new.
    An event whose usage could not be written answers 503 with Retry-After and records
    nothing, so Stripe delivers it again.
    """
    payload = await request.body()
    try:
        event = verify_webhook(payload, stripe_signature, _settings(request))
    except WebhookRejected as exc:
        return problem(400, "webhook-rejected", "Webhook rejected", str(exc), request)
    except StripeNotConfigured as exc:
        return problem(503, "webhook-not-configured", "Webhooks not configured", str(exc), request)
    try:
        result = await run_in_threadpool(handle_stripe_event, app, event)
    except MalformedEvent as exc:
        log.warning("stripe webhook refused: %s", exc)
        return problem(400, "webhook-malformed", "Webhook event malformed", str(exc), request)
    except WebhookNotRecorded as exc:
        return problem(503, "webhook-not-recorded", "Webhook not recorded", str(exc), request, {"Retry-After": "1"})
    return WebhookHandled(
        event_id=result.event_id,
        event_type=result.event_type,
        outcome=result.outcome,
        usage_id=result.usage_id,
        detail=result.detail,
        position=result.position,
    )
