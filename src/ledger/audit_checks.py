"""Audit checks beyond the hash chain, registered by the parts of the ledger that own them.

Each check takes the ledger application and returns a JSON-able dict with at least "ok" and
"summary". `royalty audit verify` runs them all and fails when any is not ok.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

Check = Callable[[Any], dict[str, Any]]

# "name": "module:function" — resolved lazily so the ledger does not import the read side.
CHECKS: dict[str, str] = {}


def registered_checks() -> list[tuple[str, Check]]:
    found = []
    for name, target in sorted(CHECKS.items()):
        module, _, func = target.partition(":")
        found.append((name, getattr(import_module(module), func)))
    return found
