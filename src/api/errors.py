"""The one place errors become HTTP answers: RFC 9457 problem+json, never a 200 with an error."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import Forbidden, Unauthenticated
from api.conflicts import RETRY_AFTER_S, WriteConflict
from api.positions import PositionAhead, PositionNotReached
from ledger.application import NotFound
from ledger.domain.identifiers import InvalidIdentifier
from ledger.domain.party import DomainError
from ledger.domain.period import InvalidTime
from ledger.domain.shares import InvalidShares
from ledger.domain.text import InvalidText
from ledger.rights import NoStanding
from ledger.usage.listener import ListenerSecretMissing
from ledger.usage.readers import UnreadableFile
from projections.statements.close import CloseConflict

PROBLEM = "application/problem+json"
TYPE_BASE = "https://royalty-ledger.example/problems/"
log = logging.getLogger("api")


class PayloadTooLarge(Exception):
    """A request body, upload or batch over its configured limit (413)."""

    def __init__(self, what: str, limit: int, unit: str = "bytes") -> None:
        self.limit, self.unit = limit, unit
        super().__init__(f"{what} is over the limit of {limit:,} {unit}")


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def field_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Pydantic's errors as {field, reason}: the API's 422 body and the CLI's message alike."""
    out = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        reason = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        out.append({"field": ".".join(loc), "reason": reason})
    return out


def field_detail(errors: list[dict[str, str]]) -> str:
    return "; ".join(f"{e['field']}: {e['reason']}" if e["field"] else e["reason"] for e in errors[:5])


# The ledger's own errors, answered alike by every way in (HTTP here, exit codes in the CLI):
# (status, problem type, title), found by the most specific class of the error.
PROBLEMS: dict[type[Exception], tuple[int, str, str]] = {
    NotFound: (404, "not-found", "Not found"),
    InvalidIdentifier: (422, "invalid-identifier", "Invalid identifier"),
    InvalidShares: (422, "invalid-shares", "Invalid shares"),
    InvalidTime: (422, "invalid-time", "Invalid time"),
    NoStanding: (403, "no-standing", "No standing"),
    DomainError: (422, "refused", "Refused by the ledger"),
    Forbidden: (403, "forbidden", "Forbidden"),
}


def problem_of(exc: BaseException) -> tuple[int, str, str] | None:
    """(status, problem type, title) of one of the ledger's errors; None for anything else."""
    for cls in type(exc).__mro__:
        if cls in PROBLEMS:
            return PROBLEMS[cls]
    return None


_HTTP = {
    404: ("not-found", "Not found"),
    405: ("http-405", "Method not allowed"),
    413: ("too-large", "Payload too large"),  # a streamed body over the limit (api.limits)
}


def _conflict(request: Request, detail: str, attempts: int) -> JSONResponse:
    return problem(
        409,
        "write-conflict",
        "Concurrent write to the same record",
        detail,
        request,
        headers={"Retry-After": str(RETRY_AFTER_S)},
        retry_after_s=RETRY_AFTER_S,
        attempts=attempts,
    )


def install(app: FastAPI) -> None:
    """Register every handler on the app."""

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(exc.errors())
        detail = field_detail(errors)
        return problem(422, "invalid-input", "Invalid input", detail, request, errors=errors)

    @app.exception_handler(NotFound)
    def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem(*PROBLEMS[NotFound], str(exc), request)

    @app.exception_handler(InvalidIdentifier)
    def bad_identifier(request: Request, exc: InvalidIdentifier) -> JSONResponse:
        errors = [{"field": exc.kind, "value": exc.value, "reason": exc.reason}]
        return problem(*PROBLEMS[InvalidIdentifier], str(exc), request, errors=errors)

    @app.exception_handler(InvalidShares)
    def bad_shares(request: Request, exc: InvalidShares) -> JSONResponse:
        errors = [{"field": "shares", "reason": str(exc)}]
        return problem(*PROBLEMS[InvalidShares], str(exc), request, errors=errors)

    @app.exception_handler(InvalidTime)
    def bad_time(request: Request, exc: InvalidTime) -> JSONResponse:
        return problem(*PROBLEMS[InvalidTime], str(exc), request)

    @app.exception_handler(CloseConflict)
    def close_conflict(request: Request, exc: CloseConflict) -> JSONResponse:
        return problem(409, "close-conflict", "Conflicts with the closes recorded", str(exc), request)

    @app.exception_handler(InvalidText)
    def bad_text(request: Request, exc: InvalidText) -> JSONResponse:
        errors = [{"field": exc.field, "reason": str(exc).removeprefix(f"{exc.field}: "), "code": exc.reason}]
        return problem(422, "invalid-text", "Invalid text", str(exc), request, errors=errors)

    @app.exception_handler(NoStanding)
    def no_standing(request: Request, exc: NoStanding) -> JSONResponse:
        return problem(*PROBLEMS[NoStanding], str(exc), request)

    @app.exception_handler(DomainError)
    def refused(request: Request, exc: DomainError) -> JSONResponse:
        return problem(*PROBLEMS[DomainError], str(exc), request)

    @app.exception_handler(UnreadableFile)
    def unreadable(request: Request, exc: UnreadableFile) -> JSONResponse:
        return problem(422, "unreadable-file", "Unreadable file", str(exc), request)

    @app.exception_handler(ListenerSecretMissing)
    def not_configured(request: Request, exc: ListenerSecretMissing) -> JSONResponse:
        return problem(503, "usage-not-configured", "Usage reporting not configured", str(exc), request)

    @app.exception_handler(Unauthenticated)
    def unauthenticated(request: Request, exc: Unauthenticated) -> JSONResponse:
        return problem(
            401, "unauthenticated", "Unauthenticated", str(exc), request, headers={"WWW-Authenticate": "Bearer"}
        )

    @app.exception_handler(Forbidden)
    def forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        return problem(*PROBLEMS[Forbidden], str(exc), request)

    @app.exception_handler(PayloadTooLarge)
    def too_large(request: Request, exc: PayloadTooLarge) -> JSONResponse:
        return problem(413, "too-large", "Payload too large", str(exc), request, limit=exc.limit, unit=exc.unit)

    @app.exception_handler(PositionAhead)
    def ahead(request: Request, exc: PositionAhead) -> JSONResponse:
        return problem(
            409, "position-ahead", "Position not in the log", str(exc), request, min_position=exc.wanted, head=exc.head
        )

    @app.exception_handler(PositionNotReached)
    def behind(request: Request, exc: PositionNotReached) -> JSONResponse:
        return problem(
            503,
            "projector-behind",
            "Read model behind the requested position",
            str(exc),
            request,
            headers={"Retry-After": "1"},
            min_position=exc.wanted,
            reached=exc.reached,
            head=exc.head,
            lag_positions=exc.head - exc.reached,
        )

    @app.exception_handler(WriteConflict)
    def conflict(request: Request, exc: WriteConflict) -> JSONResponse:
        return _conflict(request, str(exc), exc.attempts)

    @app.exception_handler(IntegrityError)
    def integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # Outside a retrying route (none today): the same answer, after one attempt.
        return _conflict(request, str(WriteConflict(1)), 1)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _HTTP.get(exc.status_code, (f"http-{exc.status_code}", "HTTP error"))
        return problem(exc.status_code, slug, title, str(exc.detail), request, headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal", "Internal error", "the server failed to answer; the error is logged", request)
