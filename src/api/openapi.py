"""The OpenAPI document: every status a route can answer, each error as RFC 9457 problem+json.

FastAPI documents a route's success and a generic 422; the errors come from one place
(api.errors), so they are documented from one place too: what each route can answer follows
from what it is — authenticated, scoped, naming things in its path or body, writing, reading a
read model, uploading — plus the statuses a route declares itself (`responses=`). The fuzz
test (tests/e2e/test_api_schemathesis.py) holds every answer to this document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from api.errors import PROBLEM, TYPE_BASE

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
RETRY_AFTER = {"description": "Seconds to wait before sending the request again.", "schema": {"type": "integer"}}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
READ_MODEL_PARAMS = {  # routes answered from the projector's read models
    "earnings",
    "balance",
    "stats",
    "stats_rollup",
    "list_releases",
    "list_recordings",
    "list_works",
    "search_parties",
}
# Query parameters that name a thing (an unknown one is a 404, not an empty answer).
NAMING_QUERY = {"stats_rollup": {"isrc", "upc", "party", "artist"}, "queue": {"source"}, "quarantine": {"source"}}


class ProblemFieldError(BaseModel):
    field: str = Field(description="Where: `body.shares`, `query.min_position`, an identifier's kind…")
    reason: str
    value: str | None = None


class Problem(BaseModel):
    """An error, as RFC 9457 `application/problem+json`. `type` names the problem (its last path
    segment is the slug the docs list); the fields below `instance` are extensions some problems
    carry."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[TYPE_BASE + "invalid-input"])
    title: str
    status: int
    detail: str
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[ProblemFieldError] | None = Field(default=None, description="422: each field and why.")
    limit: int | None = Field(default=None, description="413: the limit exceeded, in `unit`.")
    unit: str | None = None
    min_position: int | None = Field(default=None, description="409 position-ahead, 503 projector-behind.")
    head: int | None = None
    reached: int | None = None
    lag_positions: int | None = None
    retry_after_s: int | None = Field(default=None, description="409 write-conflict: seconds before retrying.")
    attempts: int | None = Field(default=None, description="409 write-conflict: times the write was tried.")
    report: dict[str, Any] | None = Field(default=None, description="422 delivery-refused: the validation report.")


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _params(dependant: Dependant, where: str) -> set[str]:
    """Names of the `where` ("path_params", "query_params", …) of a route and its dependencies."""
    names = {p.name for p in getattr(dependant, where)}
    for sub in dependant.dependencies:
        names |= _params(sub, where)
    return names


def _named(calls: list[Callable[..., Any]], *names: str) -> bool:
    return any(getattr(c, "__qualname__", "") in names for c in calls)


def statuses(route: APIRoute) -> dict[int, list[str]]:
    """Status → the reasons this route may answer it (besides its success)."""
    calls = list(_calls(route.dependant))
    path, query = _params(route.dependant, "path_params"), _params(route.dependant, "query_params")
    methods = route.methods or set()
    has_body = route.body_field is not None
    names_things = bool(path) or has_body or bool(query & NAMING_QUERY.get(route.name, set()))
    out: dict[int, list[str]] = {}

    def add(status: int, reason: str) -> None:
        out.setdefault(status, []).append(reason)

    if has_body:
        add(400, "`http-400`: a body that cannot be parsed (malformed multipart or JSON too deep)")
        add(413, "`too-large`: the body (or a batch) is over its limit")
    if _named(calls, "get_principal"):
        add(401, "`unauthenticated`: no key, or an unknown, malformed or revoked one")
    if _named(calls, "require.<locals>.check", "scoped_party.<locals>.check"):
        add(403, "`forbidden`: the role may not do this, or a party key acts outside its scope")
    if names_things and _named(calls, "get_principal"):
        add(404, "`not-found`: something named in the path or body is unknown (or hidden from this key)")
    if methods & WRITE_METHODS and _named(calls, "get_ledger"):
        add(409, "`write-conflict`: another request changed the same record at the same moment (`Retry-After`)")
    if query & {"min_position", "as_of"}:
        add(409, "`position-ahead`: the position asked for is beyond the head of the log")
    if path or query or _params(route.dependant, "header_params") or has_body:
        add(422, "`invalid-input` (with `errors`), or the ledger refuses: `invalid-identifier`, `invalid-shares`, …")
    if "min_position" in query and route.name in READ_MODEL_PARAMS:
        add(503, "`projector-behind`: the read model did not reach `min_position` in time (`Retry-After`)")
    return out


def api_routes(app: FastAPI) -> Iterator[tuple[RouteContext, APIRoute]]:
    """Every API route as served (its context holds the full path), with its route object."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context, context.original_route


def _response(declared_responses: dict[Any, Any], status: int, reasons: list[str]) -> dict[str, Any]:
    declared = declared_responses.get(status) or declared_responses.get(str(status)) or {}
    lines = ([declared["description"]] if declared.get("description") else []) + reasons
    response: dict[str, Any] = {
        "description": "; ".join(lines) or "An error",
        "content": {PROBLEM: {"schema": PROBLEM_REF}},
    }
    if status in (409, 503):
        response["headers"] = {"Retry-After": RETRY_AFTER}
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}
    return response


def document_problems(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    """`document` with every route's error statuses, each a Problem, in place of FastAPI's 422."""
    for context, route in api_routes(app):
        if not context.include_in_schema:
            continue
        declared: dict[Any, Any] = context.responses
        found = statuses(route)
        for status in declared:
            if int(status) >= 400:
                found.setdefault(int(status), [])
        for method in context.methods or ():
            responses = document["paths"][context.path_format][method.lower()]["responses"]
            for status, reasons in sorted(found.items()):
                responses[str(status)] = _response(declared, status, reasons)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(Problem.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs", {}))
    schemas["Problem"] = {k: v for k, v in Problem.model_json_schema().items() if k != "$defs"}
    _retarget(schemas["Problem"])
    return document


def _retarget(node: Any) -> None:
    """pydantic refers to nested models as #/$defs/…; the document keeps them in components."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            node["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
        for value in node.values():
            _retarget(value)
    elif isinstance(node, list):
        for value in node:
            _retarget(value)


def install(app: FastAPI) -> None:
    """Serve the completed document (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = document_problems(app, document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
