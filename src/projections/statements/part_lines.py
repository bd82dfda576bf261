"""Statement lines from many keys' largest-remainder parts held as columns (report income,
report_columns), merged exactly as compute.merge_line merges parts one by one."""

from __future__ import annotations

from itertools import pairwise, repeat
from operator import add
from typing import Any

import numpy as np

from ledger.royalties.allocation import AllocationContext
from projections.statements.column_codes import pairs
from projections.statements.compute import LineAmounts, LineKey, PeriodResult, _line_meta

_new_line = tuple.__new__


class PartLines:
    """The largest-remainder parts of many keys as columns — key, part (account and line
    metadata, numbered), micro-units — merged into statement lines as compute.merge_line merges
    them one by one: a line is (account, the key's currency, recording, kind and territory, the
    part's right, pie ppm, share ppm and release); its units and gross are the sums over its
    parts' keys, its amount the sum of its parts, its versions theirs, sorted."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str, int, int, str, int | None], int] = {}
        self.account: list[str] = []
        self.suffix: list[tuple[str, int, int, str]] = []
        self.version: list[int | None] = []
        self.keys: list[np.ndarray] = []
        self.metas: list[np.ndarray] = []
        self.micros: list[np.ndarray] = []

    def meta_row(self, ctx: AllocationContext, parts: Any) -> list[int]:
        """The part numbers of a context's layout (compute._line_meta)."""
        return [self._number(meta) for meta in _line_meta(ctx, parts)]

    def _number(self, meta: tuple[str, str, int, int, str, int | None]) -> int:
        found = self.ids.get(meta)
        if found is None:
            found = self.ids[meta] = len(self.account)
            account, right, right_ppm, share_ppm, released, version = meta
            self.account.append(account)
            self.suffix.append((right, right_ppm, share_ppm, released))
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
        if not self.keys:
            return
        nonzero = np.concatenate(self.micros) != 0  # a zero part makes no line (compute.add_parts)
        keys, metas = np.concatenate(self.keys)[nonzero], np.concatenate(self.metas)[nonzero]
        micros = np.concatenate(self.micros)[nonzero]
        prefix_of: dict[tuple[str, str, str, str], int] = {}
        key_prefix = np.array([prefix_of.setdefault(k[:4], len(prefix_of)) for k in key_of], dtype=np.int64)
        account_of: dict[str, int] = {}
        meta_account = np.array([account_of.setdefault(a, len(account_of)) for a in self.account], dtype=np.int64)
        suffix_of: dict[tuple[str, int, int, str], int] = {}
        meta_suffix = np.array([suffix_of.setdefault(x, len(suffix_of)) for x in self.suffix], dtype=np.int64)
        line = pairs(pairs(meta_account[metas], key_prefix[keys]), meta_suffix[metas])
        _, first, inverse, counts = np.unique(line, return_index=True, return_inverse=True, return_counts=True)
        merged = self._merged(np.flatnonzero(counts > 1), inverse, keys, metas, micros, key_units, key_gross)
        # merge_line's order: accounts as they first appear, each one's lines as they first appear.
        line_account = meta_account[metas[first]]
        account_rank = np.full(len(account_of), len(first), dtype=np.int64)
        np.minimum.at(account_rank, line_account, first)
        order = np.lexsort((first, account_rank[line_account]))
        rep = first[order]
        ks, ms = keys[rep].tolist(), metas[rep].tolist()
        prefixes = [k[:4] for k in key_of]
        line_keys = list(
            map(_new_line, repeat(LineKey), map(add, [prefixes[k] for k in ks], [self.suffix[m] for m in ms]))
        )
        units_of = [key_units[k] for k in ks]
        gross_of = [key_gross[k] for k in ks]
        amounts_of = micros[rep].tolist()
        one_version = [() if v is None else (v,) for v in self.version]
        versions_of = [one_version[m] for m in ms]
        for i, g in enumerate(order.tolist()):
            if g in merged:
                units_of[i], gross_of[i], amounts_of[i], versions_of[i] = merged[g]
        values = list(map(LineAmounts, units_of, gross_of, amounts_of, versions_of))
        runs = [*np.flatnonzero(np.diff(line_account[order], prepend=-1)).tolist(), len(order)]
        lines = result.lines
        for begin, end in pairwise(runs):
            account = self.account[ms[begin]]
            new = dict(zip(line_keys[begin:end], values[begin:end], strict=True))
            per_account = lines.get(account)
            if per_account is None:
                lines[account] = new
                continue
            for key in per_account.keys() & new.keys():  # lines of keys allocated one by one
                found, more = per_account[key], new.pop(key)
                found.units += more.units
                found.gross_micros += more.gross_micros
                found.amount_micros += more.amount_micros
                found.versions = tuple(sorted(set(found.versions) | set(more.versions)))
            per_account.update(new)

    def _merged(
        self,
        groups: np.ndarray,
        inverse: np.ndarray,
        keys: np.ndarray,
        metas: np.ndarray,
        micros: np.ndarray,
        key_units: list[int],
        key_gross: list[int],
    ) -> dict[int, tuple[int, int, int, tuple[int, ...]]]:
        """Lines made of several parts: their sums as Python ints (exact), their versions."""
        if not groups.size:
            return {}
        sums: dict[int, list[Any]] = {}
        members = np.flatnonzero(np.isin(inverse, groups))
        for g, k, m, a in zip(
            inverse[members].tolist(),
            keys[members].tolist(),
            metas[members].tolist(),
            micros[members].tolist(),
            strict=True,
        ):
            found = sums.setdefault(g, [0, 0, 0, set()])
            found[0] += key_units[k]
            found[1] += key_gross[k]
            found[2] += a
            if self.version[m] is not None:
                found[3].add(self.version[m])
        return {g: (u, gross, a, tuple(sorted(v))) for g, (u, gross, a, v) in sums.items()}
