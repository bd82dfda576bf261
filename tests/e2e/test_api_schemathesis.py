"""Property-based: schemathesis generates requests from the OpenAPI document; none may get a 5xx.

Bounded (a few examples per operation) so it stays well under a minute in `make test`. It runs
with an admin key (so requests reach the handlers, not just the auth check) against a small
seeded catalogue on a SQLite store, with the in-process projector following (so `min_position`
reads are answered, not the documented 503 of a read model that nobody feeds).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher, profiles
from hypothesis import HealthCheck, settings

from api import auth
from api.app import build_app, create_app
from api.deps import ApiSettings
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations
from tests.e2e.api_fixtures import Api, TestClient, seed_catalogue

# Requests are generated from the document the app publishes (no store needed for that) and
# sent to a store-backed app by the fixture below. (schemathesis' lazy `from_fixture` loader
# does not work with pytest 9: it reads a private attribute pytest no longer has.)
schema = schemathesis.openapi.from_dict(build_app().openapi())


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    patch = pytest.MonkeyPatch()
    patch.setattr(auth, "_HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
    patch.setenv("ROYALTY_LISTENER_SECRET", "fuzz-listener-secret-0123456789abcdef")
    patch.setenv("ROYALTY_STRIPE_WEBHOOK_SECRET", "whsec_fuzz0123456789")
    config = StoreConfig.from_url(str(Path(tmp_path_factory.mktemp("fuzz")) / "royalty.db"))
    apply_migrations(config)
    app = create_app(config, projector=True, settings=ApiSettings(read_wait_s=15))
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, app.state.ledger)
        admin = api.key("admin")
        seed_catalogue(api, admin)
        app.state.fuzz_headers = admin
        yield api
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
        out["files"] = kw["files"]
        if isinstance(kw.get("data"), dict):
            out["data"] = kw["data"]
    elif kw.get("data") is not None:
        data = kw["data"]
        out["data" if isinstance(data, dict) else "content"] = data
    return out


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_server_fail(case: schemathesis.Case, fuzz_client: Api) -> None:
    headers = fuzz_client.client.app.state.fuzz_headers  # type: ignore[attr-defined]
    response = fuzz_client.client.request(**_httpx_kwargs(case, headers))
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text
