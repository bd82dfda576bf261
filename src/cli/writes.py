"""Writes from the command line run the API's own route functions, as the operator.

One validation (the API's request models and path types), one set of checks (the route bodies),
one answer (the route's response model, printed whole with --json). An error the API answers
with a problem exits non-zero here with the same problem type and message.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import IntegrityError
from pydantic import BaseModel, TypeAdapter, ValidationError

from api.auth import Principal
from api.conflicts import ATTEMPTS, FIRST_PAUSE_S, RETRY_AFTER_S, WriteConflict
from api.errors import field_detail, field_errors, problem_of
from api.schemas.common import Key
from cli.context import actor
from cli.output import console, fail, report
from ledger.application import RoyaltyLedger


def operator() -> Principal:
    """Who writes from the command line: an admin recorded under ROYALTY_ACTOR (or the OS user)."""
    return Principal.for_operator(actor())


class OptionError(ValueError):
    """A command-line value the API would refuse (422 invalid-input there)."""


def parse(kind: Any, value: Any, field: str) -> Any:
    """Validate one value as the API validates a path parameter of that type."""
    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        raise OptionError(f"{field}: {field_detail(field_errors(exc.errors()))}") from None


def acting_party(app: RoyaltyLedger, party: str) -> str:
    """As the API's `/parties/{party_key}/…` path: a valid key of a registered party."""
    key: str = parse(Key, party, "party_key")
    app.require_parties([key])
    return key


def shares_option(values: list[str], option: str = "--share") -> dict[str, int]:
    """`PARTY=PPM` pairs (repeat the option) → the shares mapping the API takes."""
    shares: dict[str, int] = {}
    for text in values:
        party, sep, amount = text.rpartition("=")
        if not sep or not party or not amount.strip().isdigit():
            raise OptionError(f"{option} {text!r}: expected PARTY=PPM, e.g. aria-lune=600000 (60 %)")
        if party in shares:
            raise OptionError(f"{option}: {party} is named twice")
        shares[party] = int(amount)
    return shares


def perform(
    as_json: bool,
    write: Callable[[], BaseModel],
    render: Callable[[dict[str, Any]], str],
) -> dict[str, Any]:
    """Run a write; print its answer (JSON, or `render`'s line), or fail as the API would.

    A write that loses a race for its record (another writer recorded the same aggregate's next
    version first: nothing of this one was recorded) is decided again on the new state, as the
    API does (`api.conflicts`), and one that keeps losing fails with `write-conflict` (409)."""
    try:
        answer = _retrying(write)
    except WriteConflict as exc:
        fail(str(exc), as_json, type="write-conflict", status=409, retry_after_s=RETRY_AFTER_S)
    except ValidationError as exc:
        errors = field_errors(exc.errors())
        fail(field_detail(errors), as_json, type="invalid-input", status=422, errors=errors)
    except OptionError as exc:
        fail(str(exc), as_json, type="invalid-input", status=422)
    except Exception as exc:
        found = problem_of(exc)
        if found is None:
            raise
        fail(str(exc), as_json, type=found[1], status=found[0])
    doc: dict[str, Any] = {"ok": True, **answer.model_dump(mode="json")}
    report(doc, as_json, lambda: console.print(render(doc), soft_wrap=True, highlight=False))
    return doc


def _retrying(write: Callable[[], BaseModel]) -> BaseModel:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return write()
        except IntegrityError as exc:
            if attempt == ATTEMPTS:
                raise WriteConflict(attempt) from exc
            time.sleep(random.uniform(0, FIRST_PAUSE_S * 2**attempt))  # jitter, as the API
    raise AssertionError("unreachable")  # pragma: no cover
