"""Statements' earnings lines kept in columns: their canonical records (`E` lines of
statement.canonical) built for every account at once with Arrow, each account's a slice, so a
close and a replay hash 20 000 statements without building a line object or a line dict.

A document whose earnings are still in columns is a `LazyStatement`: every dict operation builds
its earnings lists first (from the same line objects and with the same code as the per-line
path) and turns it into a plain dict (`BuiltStatement`); only `statement.canonical` and
`statement.totals_of` read it as it is, through `raw`. The canonical bytes are the same either
way (tests/properties check it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from projections.statements.column_codes import lexsort_packed
from projections.statements.part_lines import AccountLines, _Columns, build_on_first_use

_INT64 = 2**63


class EarningsBlock:
    """One currency's earnings lines of one account: their canonical records and sum."""

    __slots__ = ("currency", "micros", "text")

    def __init__(self, currency: str, text: bytes, micros: int) -> None:
        self.currency, self.text, self.micros = currency, text, micros


def earnings_blocks(lines: Any) -> list[EarningsBlock] | None:
    """An account's current-period lines as canonical blocks per currency (sorted by line key, as
    a statement lists them), or None when they must be built one by one: lines already built or
    merged with lines added one by one, an escrow release among them, a figure past int64."""
    if type(lines) is not AccountLines or dict.__len__(lines) or "pending" not in vars(lines):
        return None
    source, begin, end = lines.pending
    if source.statement_texts is None:
        source.statement_texts = _Texts.of(source) or False
    texts = source.statement_texts
    return texts.blocks(begin, end) if isinstance(texts, _Texts) else None


class _Texts:
    """Every account's lines of one column source, sorted within each account by line key, as
    canonical `E` records; account runs stay where the source has them."""

    def __init__(self, text: pa.Array, lines: _Lines, order: np.ndarray) -> None:
        self.offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset : text.offset + len(text) + 1]
        self.data = text.buffers()[2].to_pybytes() if len(text) else b""
        self.currency = lines.currency[order]
        self.micros = lines.micros[order]
        self.releases = np.concatenate([[0], np.cumsum(lines.release[order])])
        self.currencies = lines.values[0]

    @staticmethod
    def of(source: _Columns) -> _Texts | None:
        lines = _Lines.of(source)
        if lines is None:
            return None
        # np.lexsort's last key sorts first: the account's run, then the line key's fields.
        keys = (lines.released, lines.share_ppm, lines.right_ppm, lines.right, lines.territory, lines.kind)
        order = lexsort_packed((*keys, lines.isrc, lines.currency, lines.run))
        text = _records(source, lines, order)
        return _Texts(text, lines, order)

    def blocks(self, begin: int, end: int) -> list[EarningsBlock] | None:
        if self.releases[end] != self.releases[begin]:
            return None  # escrow releases are listed apart: the per-line path
        currency = self.currency[begin:end]
        starts = [begin, *(begin + np.flatnonzero(np.diff(currency)) + 1).tolist()]
        out = []
        for start, stop in zip(starts, [*starts[1:], end], strict=True):
            text = self.data[self.offsets[start] : self.offsets[stop] - 1]  # UTF-8, as canonical encodes
            micros = sum(self.micros[start:stop].tolist())  # exact, whatever the number of lines
            out.append(EarningsBlock(self.currencies[int(self.currency[start])], text, micros))
        return out


def _records(source: _Columns, lines: _Lines, order: np.ndarray) -> pa.Array:
    """The lines' canonical E records in `order`, each ending in a newline: the text of each
    distinct recording prefix, right suffix and key's figures is built once and taken per line."""
    string = pa.large_string()
    tab, newline, empty = (pa.scalar(x, string) for x in ("\t", "\n", ""))
    rows = source.keys[order]
    prefixes = source.prefixes
    codes = [
        pa.array([_plain(v) for v in prefixes.values[c]], string).take(pa.array(prefixes.codes(c))) for c in (1, 2, 3)
    ]
    prefix_text = pc.binary_join_element_wise(pa.scalar("E", string), *codes, tab)  # E, recording, kind, territory
    suffixes: dict[tuple[str, int, int, str], int] = {}
    meta_suffix = np.array([suffixes.setdefault(x, len(suffixes)) for x in source.parts.suffix], dtype=np.int64)
    suffix_text = pa.array([f"{_plain(r)}\t{rp:d}\t{sp:d}" for r, rp, sp, _ in suffixes], string)
    if source.merged:  # a line made of several parts has its own units and gross
        figures = pc.binary_join_element_wise(
            *(pc.cast(pa.array(f[order]), string) for f in (lines.units, lines.gross)), tab
        )
    else:
        every_key = np.arange(len(source.key_prefix))
        per_key = [_figures(f, every_key) for f in (source.key_units, source.key_gross)]
        figures = pc.binary_join_element_wise(*(pc.cast(pa.array(f), string) for f in per_key), tab).take(
            pa.array(rows)
        )
    fields = [
        prefix_text.take(pa.array(source.key_prefix[rows])),
        suffix_text.take(pa.array(meta_suffix[source.metas[order]])),
        figures,
        pc.cast(pa.array(lines.micros[order]), string),
    ]
    return pc.binary_join_element_wise(pc.binary_join_element_wise(*fields, tab), empty, newline)


def _plain(value: str) -> str:
    from projections.statements.statement import _plain as plain

    return plain(value)


def _ranks(values: list[Any]) -> np.ndarray:
    """Each value's rank among the distinct values, so codes compare as the values do."""
    order = sorted(range(len(values)), key=values.__getitem__)
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values), dtype=np.int64)
    return rank


class _Lines:
    """A column source's lines as codes that sort as their values (currency, recording, kind,
    territory, right, released: ranks among the distinct values) and int64 figures."""

    run: np.ndarray  # the account's run number
    currency: np.ndarray
    isrc: np.ndarray
    kind: np.ndarray
    territory: np.ndarray
    right: np.ndarray
    right_ppm: np.ndarray
    share_ppm: np.ndarray
    released: np.ndarray
    release: np.ndarray  # an escrow release (released from a dispute)
    units: np.ndarray
    gross: np.ndarray
    micros: np.ndarray
    values: list[list[str]]  # sorted distinct currencies, recordings, kinds, territories, rights

    @staticmethod
    def of(source: _Columns) -> _Lines | None:
        out = _Lines()
        rows = source.keys
        prefixes = source.key_prefix[rows]
        values = [list(v) for v in source.prefixes.values]
        out.currency, out.isrc, out.kind, out.territory = (
            _ranks(values[c])[source.prefixes.codes(c)[prefixes]] for c in range(4)
        )
        suffix = source.parts.suffix
        if any(abs(rp) >= _INT64 or abs(sp) >= _INT64 for _, rp, sp, _ in suffix):
            return None
        rights = sorted({s[0] for s in suffix})
        released = sorted({s[3] for s in suffix})
        right_rank = {v: i for i, v in enumerate(rights)}
        released_rank = {v: i for i, v in enumerate(released)}
        meta = np.array([(right_rank[r], rp, sp, released_rank[x]) for r, rp, sp, x in suffix], dtype=np.int64)
        meta = meta.reshape(-1, 4)[source.metas]
        out.right, out.right_ppm, out.share_ppm, out.released = meta[:, 0], meta[:, 1], meta[:, 2], meta[:, 3]
        out.release = np.array([x != "" for x in released], dtype=bool)[out.released]
        accounts: dict[str, int] = {}
        meta_account = np.array([accounts.setdefault(a, len(accounts)) for a in source.parts.account], dtype=np.int64)
        out.run = np.cumsum(np.diff(meta_account[source.metas], prepend=-1) != 0)
        units, gross = _figures(source.key_units, rows), _figures(source.key_gross, rows)
        if units is None or gross is None:
            return None
        out.units, out.gross, out.micros = units, gross, np.array(source.micros, dtype=np.int64)
        if source.merged:  # lines made of several parts: their sums
            merged = np.flatnonzero(np.isin(source.groups, np.fromiter(source.merged, dtype=np.int64)))
            for i, g in zip(merged.tolist(), source.groups[merged].tolist(), strict=True):
                u, g_, a, _ = source.merged[g]
                if max(abs(u), abs(g_), abs(a)) >= _INT64:
                    return None
                out.units[i], out.gross[i], out.micros[i] = u, g_, a
        out.values = [sorted(v) for v in values] + [rights]
        return out


def _figures(values: Any, rows: np.ndarray) -> np.ndarray | None:
    if isinstance(values, np.ndarray):
        return np.array(values[rows], dtype=np.int64)
    taken = [values[k] for k in rows.tolist()]
    if any(abs(v) >= _INT64 for v in taken):
        return None
    return np.array(taken, dtype=np.int64)


class LazyStatement(dict):  # type: ignore[type-arg]
    """A statement document whose earnings lines are still in columns (see the module)."""

    def __init__(self, document: dict[str, Any], pending: dict[str, bytes], build: Callable[[], None]) -> None:
        dict.__init__(self, document)
        self.pending = pending  # currency → the canonical E records of its earnings
        self.builder = build

    def build(self) -> None:
        if "pending" in vars(self):
            self.builder()
            del self.pending, self.builder
            self.__class__ = BuiltStatement  # type: ignore[assignment]


class BuiltStatement(dict):  # type: ignore[type-arg]
    """A statement document once built: a plain dict (a LazyStatement turns into one)."""


def raw(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(the document's fields without building it, each pending currency's canonical E records)."""
    if type(document) is LazyStatement and "pending" in vars(document):
        return {k: dict.__getitem__(document, k) for k in dict.keys(document)}, document.pending
    return document, {}


build_on_first_use(LazyStatement)
