"""Prometheus metrics at /metrics, read from the store at each scrape (so every process agrees).

No key needed, like /v1/health: only counts and times, never a party, an amount or an id.
Usage counts are COUNT(*) over the insert-only tables (milliseconds at millions of rows on
SQLite; an index-only scan on PostgreSQL); scrape every 15 s or slower.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from api.conflicts import ConflictRetryRoute
from api.views import ReadSide
from ledger.application import RoyaltyLedger
from ledger.domain.operation_run import OperationRun
from ledger.domain.period import Period
from ledger.domain.period_close import PeriodClose
from ledger.domain.statement_delivery import StatementDelivery
from ledger.domain.webhook_subscription import WebhookSubscription
from ledger.usage.store import UsageStore

router = APIRouter(tags=["health"], route_class=ConflictRetryRoute)


def _count(app: RoyaltyLedger, table: str) -> int:
    sql = f"SELECT COUNT(*) FROM {table}"
    return int(UsageStore(app).query(sql, sql)[0][0])


def _events(app: RoyaltyLedger, event_class: type) -> int:
    return len(list(app.read_log(topics=app.topics_of(event_class))))


def _last(app: RoyaltyLedger, event_class: type, want: Any = None) -> Any:
    found = None
    for notification in app.read_log(topics=app.topics_of(event_class)):
        event = app.decode(notification)
        if want is None or want(event):
            found = (notification, event)
    return found


class StoreCollector:
    def __init__(self, app: RoyaltyLedger, read_side: ReadSide) -> None:
        self.app, self.read_side = app, read_side

    def collect(self) -> Iterator[Metric]:
        app, lag = self.app, self.read_side.lag()
        yield GaugeMetricFamily("royalty_log_head_position", "Position of the last event in the log.", lag.head)
        yield GaugeMetricFamily("royalty_usage_rows", "Usage rows accepted (all time).", _count(app, "usage_rows"))
        yield GaugeMetricFamily(
            "royalty_usage_quarantined_rows", "Usage rows quarantined (all time).", _count(app, "usage_quarantine")
        )
        yield GaugeMetricFamily(
            "royalty_projector_lag_positions", "Positions the slowest read model is behind.", lag.behind
        )
        yield GaugeMetricFamily(
            "royalty_projector_lag_seconds", "Age of the oldest event not yet folded.", lag.seconds or 0.0
        )
        yield GaugeMetricFamily(
            "royalty_projector_failed_events", "Events a read model recorded and skipped.", lag.failed_events
        )
        yield from self._audit()
        yield from self._close()
        yield from self._deliveries()
        yield from self._webhooks()

    def _audit(self) -> Iterator[Metric]:
        app = self.app
        started = app.read_log(topics=app.topics_of(OperationRun.Started))  # type: ignore[attr-defined]
        audits = {n.originator_id for n in started if app.decode(n).job == "audit"}
        last = _last(app, OperationRun.Completed)  # type: ignore[attr-defined]
        completed = (
            [
                app.decode(n)
                for n in app.read_log(topics=app.topics_of(OperationRun.Completed))  # type: ignore[attr-defined]
                if n.originator_id in audits
            ]
            if last is not None
            else []
        )
        audit = completed[-1] if completed else None
        ok = GaugeMetricFamily(
            "royalty_last_audit_ok", "1: the last nightly audit verified; 0: it did not; -1: none yet."
        )
        ok.add_metric([], -1 if audit is None else int(bool(audit.outcome.get("ok"))))
        yield ok
        at = GaugeMetricFamily("royalty_last_audit_timestamp_seconds", "When the last nightly audit finished.")
        at.add_metric([], 0 if audit is None else audit.finished_at.timestamp())
        yield at

    def _close(self) -> Iterator[Metric]:
        last = _last(self.app, PeriodClose.PeriodClosed)  # type: ignore[attr-defined]
        end = GaugeMetricFamily(
            "royalty_last_closed_period_end_timestamp_seconds", "End of the last closed month (0: none closed)."
        )
        end.add_metric([], 0 if last is None else Period.parse(last[1].period).end.timestamp())
        yield end
        at = GaugeMetricFamily("royalty_last_close_timestamp_seconds", "When the last month was closed.")
        at.add_metric([], 0 if last is None else last[1].timestamp.timestamp())
        yield at

    def _deliveries(self) -> Iterator[Metric]:
        failed = _events(self.app, StatementDelivery.DeliveryFailed)  # type: ignore[attr-defined]
        done = _events(self.app, StatementDelivery.Delivered)  # type: ignore[attr-defined]
        yield GaugeMetricFamily("royalty_statement_deliveries", "Statements delivered by email (all time).", done)
        yield GaugeMetricFamily(
            "royalty_statement_delivery_failures", "Failed statement delivery attempts (all time).", failed
        )

    def _webhooks(self) -> Iterator[Metric]:
        from ledger.webhook_topics import queue_depth

        app = self.app
        subs = [app.repository.get(i) for i in dict.fromkeys(app.aggregate_ids_with(WebhookSubscription.Created))]
        active = [s for s in subs if s.active]
        yield GaugeMetricFamily(
            "royalty_webhook_queue_depth",
            "Log events of a subscribed type after each active subscription's position, summed.",
            sum(queue_depth(app, s) for s in active),
        )
        yield GaugeMetricFamily(
            "royalty_webhook_dead_letters",
            "Messages in the dead-letter lists of active subscriptions (waiting for a replay).",
            sum(len(s.dead_letters) for s in active),
        )
        yield GaugeMetricFamily(
            "royalty_webhook_dead_lettered",
            "Messages set aside after their last failed attempt (all time, all subscriptions).",
            _events(app, WebhookSubscription.DeadLettered),  # type: ignore[attr-defined]
        )


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text exposition format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(request.app.state.ledger, request.app.state.read_side))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
