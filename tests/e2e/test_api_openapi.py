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
