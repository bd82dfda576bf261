"""Write schemas/events/<Aggregate>.<Event>.json: a JSON Schema for every event type in ledger.domain.

Event classes are found by their `module:Class` topic, so their names and fields are a
published schema. Run: .venv/bin/python tools/gen_event_schemas.py
(tests/unit/test_event_schemas.py fails when the files and the code differ).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
import re
import sys
from pathlib import Path
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

import ledger.domain

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "schemas" / "events"

SCALARS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "bool": {"type": "boolean"},
    "UUID": {"type": "string", "format": "uuid"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "Any": {},
    "object": {},
}


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        if ch == sep and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return parts


def schema_for(annotation: str) -> dict[str, Any]:
    """Map an annotation string (`dict[str, int] | None`, `list[dict[str, Any]]`) to JSON Schema."""
    options = _split_top(annotation, "|")
    if len(options) > 1:
        return {"anyOf": [schema_for(o) for o in options]}
    text = options[0]
    if text == "None":
        return {"type": "null"}
    match = re.match(r"^(\w+)\[(.*)\]$", text)
    if match:
        outer, inner = match.groups()
        args = _split_top(inner, ",")
        if outer in ("list", "tuple", "Sequence"):
            return {"type": "array", "items": schema_for(args[0])}
        if outer in ("dict", "Mapping"):
            return {"type": "object", "additionalProperties": schema_for(args[-1])}
    return dict(SCALARS.get(text, {"description": f"encoded by the transcoder: {text}"}))


def aggregates() -> list[type[Aggregate]]:
    found: dict[str, type[Aggregate]] = {}
    for info in pkgutil.iter_modules(ledger.domain.__path__, "ledger.domain."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Aggregate) and value.__module__ == module.__name__:
                found[get_topic(value)] = value
    return [found[k] for k in sorted(found)]


def event_classes(aggregate: type[Aggregate]) -> list[type]:
    base = aggregate.Event
    found = [
        v
        for v in vars(aggregate).values()
        if isinstance(v, type)
        and issubclass(v, base)
        and v is not base
        and dataclasses.is_dataclass(v)
        and v.__qualname__.startswith(aggregate.__name__ + ".")
    ]
    # The library's generic `Created` is only a base when the aggregate names its own creation event.
    creations = [c for c in found if issubclass(c, Aggregate.Created) and c.__name__ != "Created"]
    used = [c for c in found if not (c.__name__ == "Created" and creations)]
    return sorted(used, key=lambda c: c.__qualname__)


def defaulted(aggregate: type[Aggregate]) -> dict[str, set[str]]:
    """Event name → the arguments its command method gives a default: fields added after events
    of that type were first recorded, which older events in a log do not hold."""
    out: dict[str, set[str]] = {}
    for value in vars(aggregate).values():
        func, name = getattr(value, "decorated_func", None), getattr(value, "event_cls_name", None)
        if func is not None and name:
            params = inspect.signature(func).parameters.values()
            out[name] = {p.name for p in params if p.default is not inspect.Parameter.empty}
    return out


def render() -> dict[str, str]:
    documents = {}
    for aggregate in aggregates():
        optional = defaulted(aggregate)
        for cls in event_classes(aggregate):
            fields = dataclasses.fields(cls)
            schema = {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": f"royalty-ledger/events/{cls.__qualname__}.json",
                "title": cls.__qualname__,
                "description": f"topic {get_topic(cls)}; money fields are integer micro-units",
                "type": "object",
                "properties": {f.name: schema_for(str(f.type)) for f in fields},
                "required": [f.name for f in fields if f.name not in optional.get(cls.__name__, ())],
                "additionalProperties": False,
            }
            documents[f"{cls.__qualname__}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return documents


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    docs = render()
    for stale in OUT.glob("*.json"):
        if stale.name not in docs:
            stale.unlink()
    for name, text in docs.items():
        (OUT / name).write_text(text)
    sys.stdout.write(f"wrote {len(docs)} event schemas to {OUT}\n")
