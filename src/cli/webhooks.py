"""`royalty webhooks`: subscribe a URL to the log's events, list, dead letters, replay, dispatch."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import typer

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.application import NotFound
from ledger.domain.party import DomainError
from ledger.domain.webhook_subscription import EVENT_TYPES, OPERATOR, WebhookSubscription
from operations.logs import configure_json_logs
from operations.webhooks import WebhookDispatcher, WebhooksNotConfigured, subscription_secret, webhook_key

app = typer.Typer(help="Outbound webhooks, signed as Standard Webhooks describes.", no_args_is_help=True)
TYPES = typer.Option(None, "--type", help=f"Event type (repeat); default all: {', '.join(EVENT_TYPES)}.")


def _key(as_json: bool) -> bytes:
    try:
        return webhook_key()
    except WebhooksNotConfigured as exc:
        fail(str(exc), as_json)


def _doc(sub: WebhookSubscription) -> dict[str, Any]:
    return {
        "subscription_id": str(sub.id),
        "owner": sub.owner,
        "url": sub.url,
        "event_types": sub.event_types,
        "position": sub.position,
        "active": sub.active,
        "dead_letters": [{"message_id": m, **d} for m, d in sub.dead_letters.items()],
    }


@app.command("add")
def add(
    url: str = typer.Argument(..., help="Where to POST (http or https)."),
    party: str = typer.Option(None, "--party", help="A party's subscription sees only that party's events."),
    types: list[str] = TYPES,
    as_json: bool = JSON_OPTION,
) -> None:
    """Subscribe a URL; prints its signing secret (derived from ROYALTY_WEBHOOK_KEY, never stored)."""
    key, app_ = _key(as_json), ledger()
    try:
        if party:
            app_.require_parties([party])
        sub = WebhookSubscription(
            owner=party or OPERATOR, url=url, event_types=list(types or EVENT_TYPES), actor=actor()
        )
    except (DomainError, NotFound) as exc:
        fail(str(exc), as_json)
    sub.advance(position=app_.head_position(), delivered=0)  # from now on, not the whole history
    app_.save(sub)
    doc = {"ok": True, **_doc(sub), "secret": subscription_secret(key, sub.id)}
    report(doc, as_json, lambda: console.print(f"subscription {sub.id}\nsecret {doc['secret']}", highlight=False))


def _subscription(text: str, as_json: bool) -> WebhookSubscription:
    try:
        found: WebhookSubscription = ledger().repository.get(UUID(text))
    except Exception:
        fail(f"no webhook subscription {text}", as_json)
    return found


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Every subscription with its position and dead letters."""
    docs = [_doc(s) for s in WebhookDispatcher(ledger(), b"").subscriptions()]
    rows = [(d["subscription_id"], d["owner"], d["url"], d["position"], len(d["dead_letters"])) for d in docs]
    report(
        {"subscriptions": docs},
        as_json,
        lambda: console.print(table("webhooks", ["id", "owner", "url", "position", "dead letters"], rows)),
    )


@app.command("replay")
def replay(
    subscription_id: str = typer.Argument(...),
    message_id: str = typer.Argument(..., help="A dead letter's message id (see `webhooks list`)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send a dead-lettered message again (with its own message id) on the dispatcher's next pass."""
    sub = _subscription(subscription_id, as_json)
    try:
        sub.request_replay(message_id, actor())
    except DomainError as exc:
        fail(str(exc), as_json)
    ledger().save(sub)
    report({"ok": True, "message_id": message_id}, as_json, lambda: console.print(f"{message_id}: replay requested"))


@app.command("dispatch")
def dispatch(
    once: bool = typer.Option(False, "--once", help="One pass, then exit."),
    poll_seconds: float = typer.Option(0.05, "--poll-seconds", help="How often an idle dispatcher reads the head."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Deliver new events to every subscription (at least once, in log order, with backoff)."""
    dispatcher = WebhookDispatcher(ledger(), _key(as_json))
    if once:
        counts = dispatcher.run_once()
        dispatcher.close()
        report(counts, as_json, lambda: console.print(counts))
        return
    configure_json_logs()
    try:
        dispatcher.run_forever(poll_seconds)
    finally:
        dispatcher.close()
