"""The published OpenAPI document (schemas/openapi.json) is exactly what the app serves."""

from __future__ import annotations

import json
from pathlib import Path

from cli.serve import openapi_document

COMMITTED = Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"


def test_the_committed_openapi_document_matches_the_app() -> None:
    assert COMMITTED.read_text() == openapi_document(), (
        "schemas/openapi.json differs from the app: run `royalty api openapi --out schemas/openapi.json` and commit it"
    )


# The only non-integer numbers the API publishes: durations in seconds, never money.
NOT_MONEY = {"/components/schemas/ProjectorLagPublic/properties/seconds/anyOf/0"}


def test_money_in_the_contract_is_never_a_float() -> None:
    document = json.loads(openapi_document())
    floats = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "number":
                floats.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(document, "")
    assert set(floats) <= NOT_MONEY, floats


def _operations(document: dict[str, object]) -> list[tuple[str, str, dict[str, object]]]:
    paths = document["paths"]
    assert isinstance(paths, dict)
    return [(method.upper(), path, op) for path, ops in paths.items() for method, op in ops.items()]


def test_every_error_an_operation_can_answer_is_documented_as_a_problem() -> None:
    document = json.loads(openapi_document())
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert {"instance", "errors", "retry_after_s", "min_position", "limit"} <= set(problem["properties"])
    assert problem["additionalProperties"] is True  # a problem may carry extensions of its own
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for method, path, op in _operations(document):
        errors = {int(s): r for s, r in op["responses"].items() if int(s) >= 400}  # type: ignore[attr-defined]
        assert errors, f"{method} {path} documents no error"
        for status, response in errors.items():
            assert response["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (
                method,
                path,
                status,
            )
        if path != "/v1/health" and path != "/v1/webhooks/stripe":
            assert {401} <= set(errors), f"{method} {path}"
        if method in ("POST", "PUT"):
            assert 409 in errors and "write-conflict" in errors[409]["description"], f"{method} {path}"
            assert "Retry-After" in errors[409]["headers"]


def test_what_each_kind_of_route_can_answer_is_documented() -> None:
    responses = {(m, p): set(op["responses"]) for m, p, op in _operations(json.loads(openapi_document()))}  # type: ignore[arg-type]
    assert responses[("PUT", "/v1/parties/{party_key}")] == {"200", "400", "401", "403", "404", "409", "413", "422"}
    assert responses[("GET", "/v1/parties/{party_key}/earnings")] == {"200", "401", "403", "404", "409", "422", "503"}
    assert responses[("GET", "/v1/keys")] == {"200", "401", "403"}
    assert responses[("GET", "/v1/health")] == {"200", "503"}
    assert responses[("POST", "/v1/deliveries")] >= {"401", "403", "413", "415", "422"}
    assert responses[("POST", "/v1/webhooks/stripe")] >= {"400", "413", "503"}
    assert "503" in responses[("POST", "/v1/usage/batches")]
    assert "409" in responses[("GET", "/v1/parties/{party_key}/statements/{period}")]  # as_of beyond the head


def test_every_route_retries_a_write_conflict() -> None:
    from api.app import build_app
    from api.conflicts import ConflictRetryRoute
    from api.openapi import api_routes

    routes = [route for context, route in api_routes(build_app()) if context.include_in_schema]
    assert len(routes) > 40
    assert all(isinstance(route, ConflictRetryRoute) for route in routes)
