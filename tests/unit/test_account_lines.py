"""An account's statement lines kept in columns until first used (part_lines.AccountLines) read
as the built dict through every dict operation, and turn into a plain dict (BuiltLines)."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from projections.statements.compute import LineAmounts, LineKey
from projections.statements.part_lines import _ONE_BY_ONE, AccountLines, BuiltLines, _Columns

USAGE = LineKey("EUR", "USRC17607839", "stream", "FR", "master", 700_000, 500_000, "")
REPORT = LineKey("EUR", "USRC17607839", "master@store", "FR", "master", 850_000, 500_000, "")


class _Source(_Columns):
    """The columns, with every run's rows the same two lines."""

    def __init__(self) -> None:
        self.pending = []

    def lines(self, begin: int, end: int) -> dict[LineKey, LineAmounts]:
        return {REPORT: LineAmounts(3, 100, 42, (1,)), USAGE: LineAmounts(1, 10, 5, (2,))}


def _lines() -> AccountLines:
    return AccountLines({USAGE: LineAmounts(2, 20, 7, (1,))}, _Source(), 0, 2)


BUILT = {USAGE: LineAmounts(3, 30, 12, (1, 2)), REPORT: LineAmounts(3, 100, 42, (1,))}
OPERATIONS: dict[str, Callable[[AccountLines], Any]] = {
    "get": lambda d: d.get(REPORT),
    "getitem": lambda d: d[USAGE],
    "in": lambda d: REPORT in d,
    "len": len,
    "bool": bool,
    "iter": list,
    "items": lambda d: sorted(d.items()),
    "values": lambda d: list(d.values()),
    "equal": lambda d: d == BUILT,
    "dict": dict,
    "unpack": lambda d: {**d},
    "copy": lambda d: d.copy(),
    "deepcopy": copy.deepcopy,
    "pickle": lambda d: pickle.loads(pickle.dumps(d)),  # noqa: S301 - our own bytes
    "setdefault": lambda d: d.setdefault(REPORT, LineAmounts()),
    "set": lambda d: set(d),
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_dict_operation_sees_the_built_lines(operation: str) -> None:
    """Merged with the lines already there, in merge_line's order (theirs first)."""
    lines = _lines()
    assert "pending" in vars(lines)
    seen = OPERATIONS[operation](lines)
    assert type(lines) is BuiltLines and lines == BUILT and list(lines) == [USAGE, REPORT]
    assert seen == OPERATIONS[operation](dict(BUILT))  # type: ignore[arg-type]


def test_accounts_are_built_one_by_one_then_all_the_rest_at_once() -> None:
    """A party's statement builds its own lines; a reader going through many builds the rest in
    one pass."""
    source = _Source()
    accounts = [AccountLines({}, source, 0, 2) for _ in range(_ONE_BY_ONE + 10)]
    for n, lines in enumerate(accounts[:_ONE_BY_ONE]):
        assert len(lines) == 2
        assert [type(a) for a in accounts].count(BuiltLines) == n + 1
    assert REPORT in accounts[_ONE_BY_ONE]
    assert all(type(a) is BuiltLines and dict(a) == source.lines(0, 2) for a in accounts)
