"""Outbound webhook subscriptions: a party manages its own, an admin key any and the operator-wide ones.

A party key sees and manages only its own party's (and the parties it manages') subscriptions;
another party's answers 403 in the path, and a subscription of another owner under one's own
path is not found. The signing secret is derived from ROYALTY_WEBHOOK_KEY and shown once.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from api.auth import Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, PrincipalDep, require, scoped_party
from api.errors import problem
from api.positions import capture_writes
from api.schemas.webhooks import (
    WebhookDeadLetter,
    WebhookReplayCreate,
    WebhookReplayRequested,
    WebhookSubscriptionCancelled,
    WebhookSubscriptionCreate,
    WebhookSubscriptionCreated,
    WebhookSubscriptionPublic,
)
from ledger.application import RoyaltyLedger
from ledger.domain.webhook_subscription import OPERATOR, WebhookSubscription
from ledger.webhook_subscriptions import (
    WebhooksNotConfigured,
    cancel,
    get_subscription,
    list_subscriptions,
    request_replay,
    subscribe,
    subscription_secret,
    webhook_key,
)

router = APIRouter(tags=["webhook subscriptions"], route_class=ConflictRetryRoute)

Owner = Annotated[str, Depends(scoped_party("admin"))]
Admin = Annotated[Principal, Depends(require("admin"))]
SubscriptionId = Annotated[UUID, Path(description="The subscription's id (`subscription_id`).")]
NOT_CONFIGURED: dict[int | str, dict[str, Any]] = {
    503: {"description": "`webhooks-not-configured`: ROYALTY_WEBHOOK_KEY is not set on the server"}
}
PARTY = "/v1/parties/{party_key}/webhooks"
OPERATOR_WIDE = "/v1/webhook-subscriptions"


def public(sub: WebhookSubscription) -> WebhookSubscriptionPublic:
    return WebhookSubscriptionPublic(
        subscription_id=str(sub.id),
        owner=sub.owner,
        url=sub.url,
        event_types=list(sub.event_types),
        position=sub.position,
        dead_letters=len(sub.dead_letters),
    )


def _key(request: Request) -> bytes:
    configured = getattr(request.app.state, "webhook_key", None)
    return configured if isinstance(configured, bytes) else webhook_key()


def _create(
    app: RoyaltyLedger, owner: str, body: WebhookSubscriptionCreate, principal: Principal, request: Request
) -> WebhookSubscriptionCreated | JSONResponse:
    try:
        key = _key(request)
    except WebhooksNotConfigured as exc:
        return problem(503, "webhooks-not-configured", "Webhooks not configured", str(exc), request)
    types: list[str] | None = list(body.event_types) if body.event_types else None
    with capture_writes() as written:
        sub = subscribe(app, owner, body.url, types, principal.actor)
    return WebhookSubscriptionCreated(
        position=written.position(app),
        changed=True,
        subscription=public(sub),
        secret=subscription_secret(key, sub.id),
    )


def _dead_letters(sub: WebhookSubscription) -> list[WebhookDeadLetter]:
    return [
        WebhookDeadLetter(message_id=m, replay_requested=m in sub.replays, **letter)
        for m, letter in sorted(sub.dead_letters.items(), key=lambda item: item[1]["position"])
    ]


def _cancel(app: RoyaltyLedger, sid: UUID, principal: Principal, owner: str | None) -> WebhookSubscriptionCancelled:
    with capture_writes() as written:
        sub = cancel(app, sid, principal.actor, owner)
    return WebhookSubscriptionCancelled(position=written.position(app), changed=True, subscription=public(sub))


def _replay(
    app: RoyaltyLedger, sid: UUID, body: WebhookReplayCreate, principal: Principal, owner: str | None
) -> WebhookReplayRequested:
    with capture_writes() as written:
        request_replay(app, sid, body.message_id, principal.actor, owner)
    return WebhookReplayRequested(
        position=written.position(app), changed=True, subscription_id=str(sid), message_id=body.message_id
    )


# --- a party's own ------------------------------------------------------------------------------


@router.post(PARTY, response_model=WebhookSubscriptionCreated, status_code=201, responses=NOT_CONFIGURED)
def create_party_webhook(
    party_key: Owner, body: WebhookSubscriptionCreate, app: LedgerDep, principal: PrincipalDep, request: Request
) -> WebhookSubscriptionCreated | JSONResponse:
    """Subscribe a URL to `party_key`'s events from now on: only the events that concern it (a
    release it labels or delivered, a split it holds or is asked to accept, a dispute it is a side
    of, its statement, its payout). The answer holds the signing secret, shown this once."""
    return _create(app, party_key, body, principal, request)


@router.get(PARTY, response_model=list[WebhookSubscriptionPublic])
def list_party_webhooks(party_key: Owner, app: LedgerDep) -> list[WebhookSubscriptionPublic]:
    """`party_key`'s active subscriptions, oldest first."""
    return [public(s) for s in list_subscriptions(app, party_key)]


@router.get(PARTY + "/{subscription_id}", response_model=WebhookSubscriptionPublic)
def show_party_webhook(party_key: Owner, subscription_id: SubscriptionId, app: LedgerDep) -> WebhookSubscriptionPublic:
    """One of `party_key`'s subscriptions (never its secret)."""
    return public(get_subscription(app, subscription_id, party_key))


@router.delete(PARTY + "/{subscription_id}", response_model=WebhookSubscriptionCancelled)
def delete_party_webhook(
    party_key: Owner, subscription_id: SubscriptionId, app: LedgerDep, principal: PrincipalDep
) -> WebhookSubscriptionCancelled:
    """Cancel one of `party_key`'s subscriptions: nothing more is sent to it."""
    return _cancel(app, subscription_id, principal, party_key)


@router.get(PARTY + "/{subscription_id}/dead-letters", response_model=list[WebhookDeadLetter])
def party_dead_letters(party_key: Owner, subscription_id: SubscriptionId, app: LedgerDep) -> list[WebhookDeadLetter]:
    """Messages set aside after their last failed attempt, in log order."""
    return _dead_letters(get_subscription(app, subscription_id, party_key))


@router.post(PARTY + "/{subscription_id}/replays", response_model=WebhookReplayRequested, status_code=201)
def replay_party_webhook(
    party_key: Owner,
    subscription_id: SubscriptionId,
    body: WebhookReplayCreate,
    app: LedgerDep,
    principal: PrincipalDep,
) -> WebhookReplayRequested:
    """Send a dead letter again, with its own message id, on the dispatcher's next pass."""
    return _replay(app, subscription_id, body, principal, party_key)


# --- operator-wide (admin keys): every subscription, and those that see every party's events ---


@router.post(OPERATOR_WIDE, response_model=WebhookSubscriptionCreated, status_code=201, responses=NOT_CONFIGURED)
def create_operator_webhook(
    body: WebhookSubscriptionCreate, app: LedgerDep, principal: Admin, request: Request
) -> WebhookSubscriptionCreated | JSONResponse:
    """Subscribe a URL to every party's events from now on (owner `operator`). The answer holds
    the signing secret, shown this once."""
    return _create(app, OPERATOR, body, principal, request)


@router.get(OPERATOR_WIDE, response_model=list[WebhookSubscriptionPublic])
def list_webhooks(app: LedgerDep, principal: Admin) -> list[WebhookSubscriptionPublic]:
    """Every active subscription, the operator's and every party's, oldest first."""
    return [public(s) for s in list_subscriptions(app)]


@router.get(OPERATOR_WIDE + "/{subscription_id}", response_model=WebhookSubscriptionPublic)
def show_webhook(subscription_id: SubscriptionId, app: LedgerDep, principal: Admin) -> WebhookSubscriptionPublic:
    """Any subscription (never its secret)."""
    return public(get_subscription(app, subscription_id))


@router.delete(OPERATOR_WIDE + "/{subscription_id}", response_model=WebhookSubscriptionCancelled)
def delete_webhook(subscription_id: SubscriptionId, app: LedgerDep, principal: Admin) -> WebhookSubscriptionCancelled:
    """Cancel any subscription: nothing more is sent to it."""
    return _cancel(app, subscription_id, principal, None)


@router.get(OPERATOR_WIDE + "/{subscription_id}/dead-letters", response_model=list[WebhookDeadLetter])
def dead_letters(subscription_id: SubscriptionId, app: LedgerDep, principal: Admin) -> list[WebhookDeadLetter]:
    """Messages set aside after their last failed attempt, in log order."""
    return _dead_letters(get_subscription(app, subscription_id))


@router.post(OPERATOR_WIDE + "/{subscription_id}/replays", response_model=WebhookReplayRequested, status_code=201)
def replay_webhook(
    subscription_id: SubscriptionId, body: WebhookReplayCreate, app: LedgerDep, principal: Admin
) -> WebhookReplayRequested:
    """Send a dead letter again, with its own message id, on the dispatcher's next pass."""
    return _replay(app, subscription_id, body, principal, None)
