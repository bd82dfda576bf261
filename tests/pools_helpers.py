"""Shared set-up for pool tests: plays with their listener's HMAC, straight into usage_rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ledger.royalties import to_us
from ledger.store.config import StoreConfig
from ledger.usage.listener import SECRET_ENV, ListenerHasher
from tests.accounting_fixtures import insert_usage_rows

SECRET = "pools-test-listener-secret-0123456789"  # noqa: S105 - a test key
HASH = ListenerHasher(SECRET.encode())


@pytest.fixture
def listener_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    yield


def T(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def insert_plays(config: StoreConfig, position: int, plays: list[tuple[str, str, datetime]], start: int = 0) -> None:
    """Counted streams (listener id, ISRC, when), 1 µ gross each, recorded at `position`."""
    rows = [
        (
            position,
            "pool-test",
            "pool-test",
            f"p{start + i}",
            0,
            "stream",
            to_us(at),
            isrc,
            None,
            HASH(listener),
            "DE",
            60,
            "EUR",
            1,
            "fixed_rate",
            1,
            None,
            True,
            "sha",
            None,
        )
        for i, (listener, isrc, at) in enumerate(plays)
    ]
    insert_usage_rows(config, rows)


def payment(
    cid: str, pool: str, listener: str | None, amount: str, at: str = "2026-01-03T10:00:00Z", **more: str
) -> dict[str, str]:
    row = {"contribution_id": cid, "pool": pool, "occurred_at": at, "amount": amount, "currency": "EUR", **more}
    if listener is not None:
        row["listener"] = listener
    return row
