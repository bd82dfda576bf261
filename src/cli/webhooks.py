"""`royalty webhooks`: subscribe a URL to the log's events, list, remove, dead letters, replay, dispatch."""

from __future__ import annotations

import signal
import threading
from typing import Any
from uuid import UUID

import typer

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.application import NotFound
from ledger.domain.party import DomainError
from ledger.domain.webhook_subscription import EVENT_TYPES, OPERATOR, WebhookSubscription
from ledger.webhook_subscriptions import (
    WebhooksNotConfigured,
    cancel,
    list_subscriptions,
    request_replay,
    subscribe,
    subscription_secret,
    webhook_key,
)
from operations.logs import configure_json_logs
from operations.webhooks import WebhookDispatcher

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
        "dead_letters": [
            {"message_id": m, **d, "replay_requested": m in sub.replays} for m, d in sub.dead_letters.items()
        ],
    }


def _id(text: str, as_json: bool) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        fail(f"webhook subscription {text!r}: not a subscription id (a UUID; see `webhooks list`)", as_json)


@app.command("add")
def add(
    url: str = typer.Argument(..., help="Where to POST (http or https)."),
    party: str = typer.Option(None, "--party", help="A party's subscription sees only that party's events."),
    types: list[str] = TYPES,
    as_json: bool = JSON_OPTION,
) -> None:
    """Subscribe a URL from now on; prints its signing secret (derived from ROYALTY_WEBHOOK_KEY, never stored)."""
    key, app_ = _key(as_json), ledger()
    try:
        sub = subscribe(app_, party or OPERATOR, url, list(types or EVENT_TYPES), actor())
    except (DomainError, NotFound) as exc:
        fail(str(exc), as_json)
    doc = {"ok": True, **_doc(sub), "secret": subscription_secret(key, sub.id)}
    report(doc, as_json, lambda: console.print(f"subscription {sub.id}\nsecret {doc['secret']}", highlight=False))


@app.command("list")
def list_(
    party: str = typer.Option(None, "--party", help="Only this party's subscriptions."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every active subscription with its position and dead letters."""
    docs = [_doc(s) for s in list_subscriptions(ledger(), party)]
    rows = [(d["subscription_id"], d["owner"], d["url"], d["position"], len(d["dead_letters"])) for d in docs]
    report(
        {"subscriptions": docs},
        as_json,
        lambda: console.print(table("webhooks", ["id", "owner", "url", "position", "dead letters"], rows)),
    )


@app.command("remove")
def remove(subscription_id: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """Cancel a subscription: nothing more is sent to it."""
    try:
        sub = cancel(ledger(), _id(subscription_id, as_json), actor())
    except (DomainError, NotFound) as exc:
        fail(str(exc), as_json)
    report({"ok": True, **_doc(sub)}, as_json, lambda: console.print(f"subscription {sub.id}: removed"))


@app.command("replay")
def replay(
    subscription_id: str = typer.Argument(...),
    message_id: str = typer.Argument(..., help="A dead letter's message id (see `webhooks list`)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send a dead-lettered message again (with its own message id) on the dispatcher's next pass."""
    try:
        request_replay(ledger(), _id(subscription_id, as_json), message_id, actor())
    except (DomainError, NotFound) as exc:
        fail(str(exc), as_json)
    report({"ok": True, "message_id": message_id}, as_json, lambda: console.print(f"{message_id}: replay requested"))


@app.command("dispatch")
def dispatch(
    once: bool = typer.Option(False, "--once", help="One pass, then exit."),
    poll_seconds: float = typer.Option(0.05, "--poll-seconds", help="How often an idle dispatcher reads the head."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Deliver new events to every subscription (at least once, with backoff)."""
    dispatcher = WebhookDispatcher(ledger(), _key(as_json))
    if once:
        counts = dispatcher.run_once()
        dispatcher.close()
        report(counts, as_json, lambda: console.print(counts))
        return
    configure_json_logs()
    stop = threading.Event()  # SIGTERM (systemd, `royalty run`) ends the loop; the positions are recorded
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        dispatcher.run_forever(poll_seconds, stop)
    finally:
        dispatcher.close()
