"""Statement lines from many keys' largest-remainder parts held as columns (report income,
report_columns), merged exactly as compute.merge_line merges parts one by one. An account's line
objects are built when its lines are first used (AccountLines): a statement for one party builds
that party's lines only; a close, which builds every statement, builds them all."""

from __future__ import annotations

from itertools import pairwise, repeat
from operator import add
from typing import Any

import numpy as np

from ledger.royalties.allocation import PLATFORM, AllocationContext, KeyPlan
from projections.statements.column_codes import combined
from projections.statements.compute import LineAmounts, LineKey, PeriodResult, _line_meta, without_cyclic_gc

_new_line = tuple.__new__
PPM = 1_000_000
_ONE_BY_ONE = 32  # accounts built one by one before all the rest at once (_Columns.build)


class PartLines:
    """The largest-remainder parts of many keys as columns — key, part (account and line
    metadata, numbered), micro-units — merged into statement lines as compute.merge_line merges
    them one by one: a line is (account, the key's currency, recording, kind and territory, the
    part's right, pie ppm, share ppm and release); its units and gross are the sums over its
    parts' keys, its amount the sum of its parts, its versions theirs, sorted."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str, int, int, str, int | None], int] = {}
        self._suffixes: dict[tuple[str, int, int, str], tuple[str, int, int, str]] = {}
        self.account: list[str] = []
        self.suffix: list[tuple[str, int, int, str]] = []
        self.version: list[int | None] = []
        self.keys: list[np.ndarray] = []
        self.metas: list[np.ndarray] = []
        self.micros: list[np.ndarray] = []

    def meta_row(self, ctx: AllocationContext, parts: Any) -> list[int]:
        """The part numbers of a context's layout (compute._line_meta)."""
        return [self._number(meta) for meta in _line_meta(ctx, parts)]

    def plan_row(self, ctx: AllocationContext, plan: KeyPlan) -> list[int]:
        """meta_row for a context with a fixed layout (allocation.key_plan), read off the plan:
        the platform's part, then each right's accounts with the right's pie ppm and the
        account's weight (a whole share for a right in suspense) and the right's version."""
        pie = plan.pie
        metas: list[tuple[str, str, int, int, str, int | None]] = [(PLATFORM, "platform", pie[0], PPM, "", None)]
        for right, right_ppm, right_plan, version in (
            ("master", pie[1], plan.master, ctx.master.version),
            ("publishing", pie[2], plan.publishing, ctx.publishing.version),
        ):
            whole = right_plan.suspense is not None
            for account, weight in zip(right_plan.accounts, right_plan.weights, strict=True):
                metas.append((account, right, right_ppm, PPM if whole else weight, "", version))
        return [self._number(meta) for meta in metas]

    def _number(self, meta: tuple[str, str, int, int, str, int | None]) -> int:
        found = self.ids.get(meta)
        if found is None:
            found = self.ids[meta] = len(self.account)
            account, right, right_ppm, share_ppm, released, version = meta
            self.account.append(account)
            suffix = (right, right_ppm, share_ppm, released)
            self.suffix.append(self._suffixes.setdefault(suffix, suffix))  # one tuple per distinct one
            self.version.append(version)
        return found

    def add(self, keys: np.ndarray, metas: np.ndarray, micros: np.ndarray) -> None:
        self.keys.append(keys)
        self.metas.append(metas)
        self.micros.append(micros)

    def add_lines(
        self,
        result: PeriodResult,
        key_of: list[tuple[str, str, str, str, int]],
        key_units: list[int],
        key_gross: list[int],
    ) -> None:
        """add_columns with each key given as a tuple (currency, recording, kind, territory, …)."""
        prefix_of: dict[tuple[str, str, str, str], int] = {}
        key_prefix = np.array([prefix_of.setdefault(k[:4], len(prefix_of)) for k in key_of], dtype=np.int64)
        prefixes = KeyPrefixes()
        prefixes.append(list(prefix_of))
        self.add_columns(result, prefixes, key_prefix, key_units, key_gross)

    def add_columns(
        self,
        result: PeriodResult,
        prefixes: KeyPrefixes,
        key_prefix: np.ndarray,
        key_units: np.ndarray | list[int],
        key_gross: np.ndarray | list[int],
    ) -> None:
        """Merge the parts added into `result`'s lines; a key k is (prefixes[key_prefix[k]], its
        units and gross)."""
        if not self.keys:
            return
        self.ids, self._suffixes = {}, {}  # numbered: only the lines' columns are read from here on
        nonzero = np.concatenate(self.micros) != 0  # a zero part makes no line (compute.add_parts)
        keys, metas = np.concatenate(self.keys)[nonzero], np.concatenate(self.metas)[nonzero]
        micros = np.concatenate(self.micros)[nonzero]
        if not len(keys):
            return
        account_of: dict[str, int] = {}
        meta_account = np.array([account_of.setdefault(a, len(account_of)) for a in self.account], dtype=np.int64)
        suffix_of: dict[tuple[str, int, int, str], int] = {}
        meta_suffix = np.array([suffix_of.setdefault(x, len(suffix_of)) for x in self.suffix], dtype=np.int64)
        line = combined([meta_account[metas], key_prefix[keys], meta_suffix[metas]])
        _, first, inverse, counts = np.unique(line, return_index=True, return_inverse=True, return_counts=True)
        inverse = inverse.reshape(-1)
        merged = self._merged(np.flatnonzero(counts > 1), inverse, keys, metas, micros, key_units, key_gross)
        # merge_line's order: accounts as they first appear, each one's lines as they first appear.
        line_account = meta_account[metas[first]]
        account_rank = np.full(len(account_of), len(first), dtype=np.int64)
        np.minimum.at(account_rank, line_account, first)
        order = np.lexsort((first, account_rank[line_account]))
        rep = first[order]
        source = _Columns(
            self, prefixes, key_prefix, key_units, key_gross, keys[rep], metas[rep], micros[rep], order, merged
        )
        runs = [*np.flatnonzero(np.diff(line_account[order], prepend=-1)).tolist(), len(order)]
        accounts, lines = source.metas[runs[:-1]].tolist(), result.lines
        for meta, (begin, end) in zip(accounts, pairwise(runs), strict=True):
            account = self.account[meta]
            lines[account] = AccountLines(lines.get(account, {}), source, begin, end)

    def _merged(
        self,
        groups: np.ndarray,
        inverse: np.ndarray,
        keys: np.ndarray,
        metas: np.ndarray,
        micros: np.ndarray,
        key_units: np.ndarray | list[int],
        key_gross: np.ndarray | list[int],
    ) -> dict[int, tuple[int, int, int, tuple[int, ...]]]:
        """Lines made of several parts: their sums as Python ints (exact), their versions."""
        if not groups.size:
            return {}
        sums: dict[int, list[Any]] = {}
        members = np.flatnonzero(np.isin(inverse, groups))
        member_keys = keys[members]
        for g, u, gross, m, a in zip(
            inverse[members].tolist(),
            _take(key_units, member_keys),
            _take(key_gross, member_keys),
            metas[members].tolist(),
            micros[members].tolist(),
            strict=True,
        ):
            found = sums.setdefault(g, [0, 0, 0, set()])
            found[0] += u
            found[1] += gross
            found[2] += a
            if self.version[m] is not None:
                found[3].add(self.version[m])
        return {g: (u, gross, a, tuple(sorted(v))) for g, (u, gross, a, v) in sums.items()}


def _take(values: np.ndarray | list[int], rows: np.ndarray) -> list[int]:
    """Python integers of `values` at `rows`."""
    if isinstance(values, np.ndarray):
        taken: list[int] = values[rows].tolist()
        return taken
    return [values[k] for k in rows.tolist()]


class KeyPrefixes:
    """The distinct (currency, recording, kind, territory) of keys, numbered: four columns of
    codes over each column's distinct values (a statement's lines read them as columns)."""

    def __init__(self) -> None:
        self.values: tuple[list[str], ...] = ([], [], [], [])
        self._ids: tuple[dict[str, int], ...] = ({}, {}, {}, {})
        self._chunks: list[list[np.ndarray]] = [[], [], [], []]
        self.size = 0

    def _code(self, column: int, value: str) -> int:
        ids = self._ids[column]
        found = ids.get(value)
        if found is None:
            found = ids[value] = len(self.values[column])
            self.values[column].append(value)
        return found

    def extend(self, *columns: tuple[np.ndarray, list[str]]) -> None:
        """More prefixes: per column, codes into that column's own list of values."""
        for column, (codes, values) in enumerate(columns):
            remap = np.array([self._code(column, v) for v in values], dtype=np.int64)
            self._chunks[column].append(remap[codes] if len(codes) else np.zeros(0, dtype=np.int64))
        self.size += len(columns[0][0])

    def append(self, prefixes: list[tuple[str, str, str, str]]) -> None:
        """More prefixes, each as a tuple."""
        for column in range(4):
            codes = [self._code(column, p[column]) for p in prefixes]
            self._chunks[column].append(np.array(codes, dtype=np.int64))
        self.size += len(prefixes)

    def codes(self, column: int) -> np.ndarray:
        chunks = self._chunks[column]
        if len(chunks) != 1:
            self._chunks[column] = chunks = [np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)]
        return chunks[0]

    def tuples(self, prefixes: np.ndarray) -> list[tuple[str, str, str, str]]:
        columns = [[self.values[c][v] for v in self.codes(c)[prefixes].tolist()] for c in range(4)]
        return list(zip(*columns, strict=True))


class _Columns:
    """The merged lines of every account, in columns, in merge_line's order (accounts as they
    first appear, each one's lines as they first appear): an account's run of rows becomes its
    LineKey → LineAmounts dict when that account's lines are first used."""

    statement_texts: Any = None  # their canonical records, once a statement needs them (statement_columns)

    def __init__(
        self,
        parts: PartLines,
        prefixes: KeyPrefixes,
        key_prefix: np.ndarray,
        key_units: np.ndarray | list[int],
        key_gross: np.ndarray | list[int],
        keys: np.ndarray,
        metas: np.ndarray,
        micros: np.ndarray,
        groups: np.ndarray,
        merged: dict[int, tuple[int, int, int, tuple[int, ...]]],
    ) -> None:
        self.parts, self.prefixes, self.key_prefix = parts, prefixes, key_prefix
        self.key_units, self.key_gross = key_units, key_gross
        self.keys, self.metas, self.micros, self.groups, self.merged = keys, metas, micros, groups, merged
        self.one_version = [() if v is None else (v,) for v in parts.version]
        self.pending: list[AccountLines] = []  # the accounts not built yet

    def build(self, account: AccountLines) -> None:
        """Build one account's lines — or, from the 33rd account on, every account's still
        pending: a reader going through many accounts (a close, the money equation) then pays one
        pass with the cyclic GC off instead of one collection after another (measured: 0.23 s
        for the 186 598 lines of issue 20's month, against 0.6 s account by account)."""
        self.built = getattr(self, "built", 0) + 1
        with without_cyclic_gc():  # new acyclic objects: see compute.without_cyclic_gc
            if self.built <= _ONE_BY_ONE:
                account.build_from(self)
                return
            pending, self.pending = self.pending, []
            for one in pending:
                if "pending" in vars(one):
                    one.build_from(self)

    def lines(self, begin: int, end: int) -> dict[LineKey, LineAmounts]:
        rows = self.keys[begin:end]
        ms, suffix = self.metas[begin:end].tolist(), self.parts.suffix
        prefixes = self.prefixes.tuples(self.key_prefix[rows])
        line_keys = map(_new_line, repeat(LineKey), map(add, prefixes, [suffix[m] for m in ms]))
        units, gross = _take(self.key_units, rows), _take(self.key_gross, rows)
        amounts = self.micros[begin:end].tolist()
        versions = [self.one_version[m] for m in ms]
        if self.merged:  # lines made of several parts: their sums and versions
            for i, g in enumerate(self.groups[begin:end].tolist()):
                if g in self.merged:
                    units[i], gross[i], amounts[i], versions[i] = self.merged[g]
        return dict(zip(line_keys, map(LineAmounts, units, gross, amounts, versions), strict=True))


class BuiltLines(dict):  # type: ignore[type-arg]
    """An account's statement lines once built: a plain dict (AccountLines turns into one)."""


class AccountLines(dict):  # type: ignore[type-arg]
    """An account's statement lines, its report lines still in columns until first used: a
    statement for one party builds that party's line objects only (a month's report income is
    ~190 000 of them across 5 000 accounts). Every dict operation builds them first and turns
    the object into a BuiltLines, so nothing sees it half built. Like the rest of a PeriodResult
    (one per request or close), not for several threads at once."""

    def __init__(self, existing: dict[LineKey, LineAmounts], source: _Columns, begin: int, end: int) -> None:
        dict.__init__(self, existing)
        self.pending = (source, begin, end)
        source.pending.append(self)

    def build(self) -> None:
        self.pending[0].build(self)

    def build_from(self, source: _Columns) -> None:
        _, begin, end = self.pending
        new = source.lines(begin, end)
        for key in dict.keys(self) & new.keys():  # the account's lines of keys allocated one by one
            found, more = dict.__getitem__(self, key), new.pop(key)
            found.units += more.units
            found.gross_micros += more.gross_micros
            found.amount_micros += more.amount_micros
            found.versions = tuple(sorted(set(found.versions) | set(more.versions)))
        dict.update(self, new)
        del self.pending
        self.__class__ = BuiltLines  # type: ignore[assignment]


def _building(name: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.build()
        return getattr(self, name)(*args, **kwargs)

    method.__name__ = name
    return method


_DICT_METHODS = (
    "__getitem__", "__setitem__", "__delitem__", "__contains__", "__iter__", "__reversed__", "__len__",
    "__eq__", "__ne__", "__repr__", "__or__", "__ror__", "__ior__", "__reduce__", "__reduce_ex__",
    "get", "setdefault", "pop", "popitem", "keys", "values", "items", "update", "copy", "clear",
)  # fmt: skip


def build_on_first_use(cls: type) -> None:
    """Every dict method of `cls` (a dict subclass with a `build()` that fills it and puts the
    plain dict methods back) builds it first."""
    for name in _DICT_METHODS:
        setattr(cls, name, _building(name))


build_on_first_use(AccountLines)
