"""Property-based: schemathesis generates requests from the OpenAPI document, and every answer
must keep to it — no 5xx, a documented status, the documented content type, a body that matches
the documented schema (problem+json for every error), the documented headers.

Every operation runs with an admin key (requests reach the handlers, not just the auth check)
and with a party key (scope checks, hidden things), on SQLite and on PostgreSQL, against a
small seeded catalogue with the in-process projector following (so `min_position` reads are
answered, not the documented 503 of a read model that nobody feeds).

Bounded for CI: ROYALTY_FUZZ_EXAMPLES examples per operation, key and backend (default 6).
A bigger run: `ROYALTY_FUZZ_EXAMPLES=200 make test-fuzz` (or the same variable with pytest).
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import schemathesis
from argon2 import PasswordHasher, profiles
from hypothesis import HealthCheck, settings
from psycopg import sql
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import auth
from api.app import build_app, create_app
from api.deps import ApiSettings
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, pg_conninfo
from tests.conftest import PG_ADMIN
from tests.e2e.api_fixtures import Api, TestClient, seed_catalogue

EXAMPLES = int(os.environ.get("ROYALTY_FUZZ_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
SENT: Counter[str] = Counter()  # requests per backend, reported when its run ends

# Requests are generated from the document the app publishes (no store needed for that) and
# sent to a store-backed app by the fixture below. (schemathesis' lazy `from_fixture` loader
# does not work with pytest 9: it reads a private attribute pytest no longer has.)
schema = schemathesis.openapi.from_dict(build_app().openapi())


def _pg_database(template: str) -> tuple[StoreConfig, str]:
    admin = StoreConfig.from_url(PG_ADMIN)
    name = f"royalty_fuzz_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_conninfo(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}"), name


def _drop(name: str) -> None:
    with psycopg.connect(pg_conninfo(StoreConfig.from_url(PG_ADMIN)), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzz_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreConfig]:
    if request.param == "sqlite":
        config = StoreConfig.from_url(str(Path(tmp_path_factory.mktemp("fuzz")) / "royalty.db"))
        apply_migrations(config)
        yield config
        return
    config, name = _pg_database(request.getfixturevalue("pg_template"))
    try:
        yield config
    finally:
        _drop(name)


@pytest.fixture(scope="module")
def fuzz_client(fuzz_store: StoreConfig) -> Iterator[Api]:
    patch = pytest.MonkeyPatch()
    patch.setattr(auth, "_HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
    patch.setenv("ROYALTY_LISTENER_SECRET", "fuzz-listener-secret-0123456789abcdef")
    patch.setenv("ROYALTY_STRIPE_WEBHOOK_SECRET", "whsec_fuzz0123456789")
    patch.setenv("ROYALTY_WEBHOOK_KEY", "fuzz-outbound-webhook-key-0123")
    app = create_app(fuzz_store, projector=True, settings=ApiSettings(read_wait_s=15))
    started = time.monotonic()
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, app.state.ledger)
        admin = api.key("admin")
        seed_catalogue(api, admin)
        app.state.fuzz_headers = {"admin": admin, "party": api.key("party", "alice")}
        yield api
    backend = fuzz_store.backend
    print(f"\nschemathesis on {backend}: {SENT[backend]} requests in {time.monotonic() - started:.1f} s")
    patch.undo()


def _httpx_kwargs(case: schemathesis.Case, headers: dict[str, str]) -> dict[str, Any]:
    """schemathesis serialises for `requests`; the TestClient speaks httpx."""
    kw = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    out: dict[str, Any] = {
        "method": kw["method"],
        "url": kw["url"],
        "headers": dict(kw["headers"]),
        "params": kw.get("params"),
    }
    if "json" in kw:
        out["json"] = kw["json"]
    if kw.get("files"):
        out["files"] = [(name, _as_text(part)) for name, part in kw["files"]]
        if isinstance(kw.get("data"), dict):
            out["data"] = kw["data"]
    elif kw.get("data") is not None:
        data = kw["data"]
        out["data" if isinstance(data, dict) else "content"] = data
    return out


def _as_text(part: tuple[Any, ...]) -> tuple[Any, ...]:
    """A multipart field whose generated value is a number: sent as its text, as a form would."""
    filename, content, *rest = part
    return (filename, content if isinstance(content, str | bytes) else str(content), *rest)


@pytest.mark.parametrize("role", ["admin", "party"])
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_answer_keeps_to_the_published_document(case: schemathesis.Case, fuzz_client: Api, role: str) -> None:
    headers = fuzz_client.client.app.state.fuzz_headers[role]  # type: ignore[attr-defined]
    response = fuzz_client.client.request(**_httpx_kwargs(case, headers))
    SENT[fuzz_client.ledger.config.backend] += 1
    response.request.read()  # a multipart body is a stream; the checks read what was sent
    case.validate_response(response, checks=CHECKS)
