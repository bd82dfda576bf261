"""Client usage rows, column-wise: normalise whatever a file or request gave into typed columns.

Each row either normalises or gets one (reason, detail) error; nothing raises for bad data,
because a bad row is quarantined, never dropped and never fatal to its batch.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ledger.domain.identifiers import InvalidIdentifier, parse_currency, parse_isrc, parse_territory, parse_upc
from ledger.domain.money import parse_decimal_micros
from ledger.domain.period import InvalidTime, parse_utc, require_utc
from ledger.domain.text import TEXT_LIMITS, text_problem
from ledger.domain.usage_batch import USAGE_KINDS

Error = tuple[str, str]  # (reason code, detail a person can act on)
_INT_COLUMNS = {"occurred_at_us", "seconds_played", "amount_micros"}
Picker = Callable[[Sequence[Any]], Sequence[Any]]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ID_LENGTH = TEXT_LIMITS["id"]
# Any control character (or unpaired surrogate) anywhere in a column sends it down the
# row-by-row path, which strips each value and then refuses what is left (ledger.domain.text).
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_TEXT_OR_NONE = {str, type(None)}
_KIND_OBJECTS: dict[str | None, str | None] = {kind: kind for kind in USAGE_KINDS}
# Every field a client may send; the documented schema is schemas/usage-row.schema.json.
FIELDS = (
    "source",
    "play_id",
    "sale_id",
    "usage_id",
    "kind",
    "occurred_at",
    "occurred_at_us",
    "isrc",
    "upc",
    "listener_id",
    "territory",
    "seconds_played",
    "amount",
    "amount_micros",
    "currency",
    "refund_of",
)


class ArrowColumn(Sequence[Any]):
    """An Arrow column read as a Python sequence by the row-by-row code, converted only as far
    as it asks: rows gathered ahead in one call (`gather`), a few rows one at a time, the whole
    column once many are asked for. The bulk steps read the array itself (RowBatch.arrow)."""

    __slots__ = ("array", "asked", "known", "values")
    _MANY = 256  # single-row reads before the whole column is converted

    def __init__(self, array: pa.Array | pa.ChunkedArray) -> None:
        self.array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
        self.values: list[Any] | None = None
        self.known: dict[int, Any] = {}
        self.asked = 0

    def __len__(self) -> int:
        return len(self.array)

    def list(self) -> list[Any]:
        if self.values is None:
            self.values = self.array.to_pylist()
        return self.values

    def __getitem__(self, i: Any) -> Any:
        if self.values is not None:
            return self.values[i]
        if isinstance(i, int):
            if i in self.known:
                return self.known[i]
            self.asked += 1
            if self.asked < self._MANY:
                return self.array[i].as_py()
        return self.list()[i]

    def gather(self, rows: Sequence[int]) -> None:
        """Convert the values of `rows` in one call, for the row-by-row code to read next."""
        if self.values is None and rows:
            wanted = [i for i in rows if i not in self.known]
            if len(wanted) > len(self.array) // 4:
                self.list()
            elif wanted:
                self.known.update(zip(wanted, self.array.take(pa.array(wanted, pa.int64())).to_pylist(), strict=True))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.list())

    def __contains__(self, value: object) -> bool:
        if self.values is not None:
            return value in self.values
        if value is None:
            return bool(self.array.null_count)
        try:
            return bool(pc.any(pc.equal(self.array, pa.scalar(value, self.array.type))).as_py())
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return value in self.list()

    def count(self, value: Any) -> int:
        if value is None and self.values is None:
            return int(self.array.null_count)
        return self.list().count(value)

    def __eq__(self, other: object) -> bool:
        return list(self) == (list(other) if isinstance(other, ArrowColumn) else other)

    __hash__ = None  # type: ignore[assignment]


Column = list[Any] | ArrowColumn


@dataclass
class RowBatch:
    """Typed columns of one batch; `errors[i]` is set when row i could not be normalised.

    A column is a list (rows given as dicts, a column that needed the row-by-row checks) or an
    ArrowColumn (a file's column that passed its checks in bulk): the bulk steps read either as
    Arrow (`arrow`), the row-by-row code either as a sequence."""

    source: Column
    usage_id: Column
    kind: Column
    occurred_at_us: Column
    isrc: Column
    upc: Column
    listener: Column  # raw id, or the HMAC when listener_hashed
    territory: Column
    seconds_played: Column
    amount_micros: Column
    currency: Column
    refund_of: Column
    errors: list[Error | None]
    raw: Callable[[int], dict[str, Any]]
    listener_hashed: bool = False
    origin_name: str = ""  # where the rows came from: row i is data row origin_offset + i + 1
    origin_offset: int = 0
    _arrays: dict[str, pa.Array] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.usage_id)

    def arrow(self, name: str) -> pa.Array:
        """Column `name` as an Arrow array (converted once), for the bulk steps. An integer
        beyond 64 bits (a bad row's, quarantined) reads as absent there."""
        found = self._arrays.get(name)
        if found is None:
            values = getattr(self, name)
            kind = pa.int64() if name in _INT_COLUMNS else pa.string()
            if isinstance(values, ArrowColumn) and values.array.type == kind:
                self._arrays[name] = values.array
                return values.array
            try:
                found = pa.array(values, kind)
            except (OverflowError, pa.ArrowInvalid):
                found = pa.array([v if v is None or -(2**63) <= v < 2**63 else None for v in values], kind)
            self._arrays[name] = found
        return found

    def gather(self, rows: Sequence[int]) -> None:
        """Convert the given rows of every Arrow column ahead, in one call per column, for the
        row-by-row code about to read them."""
        if rows:
            for name in _COLUMN_NAMES:
                column = getattr(self, name)
                if isinstance(column, ArrowColumn):
                    column.gather(rows)

    def origin(self, i: int) -> str:
        return f"{self.origin_name} row {self.origin_offset + i + 1}" if self.origin_name else ""


_COLUMN_NAMES = (
    "source",
    "usage_id",
    "kind",
    "occurred_at_us",
    "isrc",
    "upc",
    "listener",
    "territory",
    "seconds_played",
    "amount_micros",
    "currency",
    "refund_of",
)


def values_valid(array: pa.Array) -> np.ndarray:
    """Per value, whether it is not null, as numpy booleans."""
    if not array.null_count:
        return np.ones(len(array), dtype=bool)
    return pc.is_valid(array).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def picker(rows: Sequence[int]) -> Picker:
    """The values of `rows` (indices) from any column, gathered in one call."""
    if len(rows) > 1:
        return itemgetter(*rows)
    if rows:
        only = rows[0]
        return lambda column: (column[only],)
    return lambda column: ()


def filled(values: Sequence[str | None]) -> Sequence[str]:
    """Missing values as empty text (a copy only when one is missing)."""
    return [v or "" for v in values] if None in values else values  # type: ignore[return-value]


def datetime_to_us(moment: datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def us_to_iso(us: int) -> str:
    seconds, micros = divmod(us, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros).isoformat().replace("+00:00", "Z")


@lru_cache(maxsize=200_000)
def _code(kind: str, value: str) -> str | None:
    parse: dict[str, Callable[[str], str]] = {
        "isrc": parse_isrc,
        "upc": parse_upc,
        "territory": parse_territory,
        "currency": parse_currency,
    }
    try:
        return parse[kind](value)
    except InvalidIdentifier:
        return None


def shape_of(value: Any) -> str:
    """What a value is, by type and size, without any of its content."""
    if isinstance(value, dict):
        return f"an object with {len(value)} key(s)"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"a text of {len(value)} character(s)"
    return f"a {type(value).__name__}"


# ASCII digits with an optional minus: str.isdigit() also takes "²" or "٣", which int() refuses.
_INTEGER = re.compile(r"-?[0-9]+")
_UNKNOWN = {"isrc": "malformed", "upc": "malformed", "territory": "unknown_territory", "currency": "unknown_currency"}


class Columns:
    """Column-wise parsing that records the first error of each row."""

    def __init__(self, columns: Mapping[str, Sequence[Any]], n: int) -> None:
        self.columns, self.n = columns, n
        self.errors: list[Error | None] = [None] * n

    def fail(self, i: int, reason: str, detail: str) -> None:
        if self.errors[i] is None:
            self.errors[i] = (reason, detail)

    def absent(self, name: str, required: bool) -> list[Any]:
        """A column no row gives: all empty, and missing from every row when required."""
        if required:
            for i in range(self.n):
                self.fail(i, "malformed", f"{name} is missing")
        return [None] * self.n

    def raw_column(self, *names: str) -> list[Any]:
        """The first of `names` present per row (a row may use play_id or sale_id)."""
        found = [self.columns[n] for n in names if n in self.columns]
        if not found:
            return [None] * self.n
        out = list(found[0])
        for column in found[1:]:  # fill the rows still blank from the next name
            for i in [i for i, v in enumerate(out) if v is None or v == ""]:
                if column[i] is not None and column[i] != "":
                    out[i] = column[i]
        if len(found) > 1 and "" in out:  # blank under every name
            out = [None if v == "" else v for v in out]
        return out

    def text(self, *names: str, required: bool = False, upper: bool = False) -> list[str | None]:
        if not any(n in self.columns for n in names):
            return self.absent(names[0], required)
        values = self.raw_column(*names)
        if set(map(type, values)) <= _TEXT_OR_NONE:
            texts = list(filter(None, values))
            if not texts or (max(map(len, texts)) <= MAX_ID_LENGTH and not _ANY_CONTROL.search("".join(texts))):
                return self._short_texts(values, names[0], required, upper)
        out: list[str | None] = []
        for i, v in enumerate(values):
            if isinstance(v, int) and not isinstance(v, bool):
                v = str(v)
            if isinstance(v, str):
                v = v.strip()
            if v is None or v == "":
                if required:
                    self.fail(i, "malformed", f"{names[0]} is missing")
                out.append(None)
            elif not isinstance(v, str):
                # The shape only, never the content: this may be a listener id (stored nowhere).
                self.fail(i, "malformed", f"{names[0]}: {shape_of(v)}, not a text")
                out.append(None)
            elif (found := text_problem(v, "id")) is not None:
                self.fail(i, f"{found[0]}_in_{names[0]}", f"{names[0]}: {found[1]}")
                out.append(None)
            else:
                out.append(v.upper() if upper else v)
        return out

    def _short_texts(self, values: list[str | None], name: str, required: bool, upper: bool) -> list[str | None]:
        """`text` when every value is a short text or none: the same result in bulk."""
        if None in values or "" in values:
            out = [v.strip() if v else None for v in values]
        else:
            out = list(map(str.strip, values))  # type: ignore[arg-type]
        if upper:
            out = [v.upper() if v is not None else None for v in out]
        if required and None in out:
            for i, v in enumerate(out):
                if v is None:
                    self.fail(i, "malformed", f"{name} is missing")
        return out

    def code(self, kind: str, values: Column) -> Column:
        """Each distinct value is checked once; a batch has few distinct codes."""
        if isinstance(values, ArrowColumn):
            return self._arrow_code(kind, values)
        parsed: dict[str | None, str | None] = {v: _code(kind, v) for v in set(values) if v is not None}
        out = list(map(parsed.get, values))  # None is never a key: it stays None
        if any(p is None for p in parsed.values()):
            for i, v in enumerate(values):
                if v is not None and out[i] is None:
                    self.fail(i, _UNKNOWN[kind], f"{kind} {v!r}: not a valid code")
        return out

    def _arrow_code(self, kind: str, values: ArrowColumn) -> Column:
        """`code` over an Arrow column: the distinct values parsed, then taken per row."""
        encoded = values.array.dictionary_encode()
        distinct = encoded.dictionary.to_pylist()
        parsed = [_code(kind, v) for v in distinct]
        if None in parsed:
            bad = np.flatnonzero(np.array([p is None for p in parsed], dtype=bool))
            at = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
            for i in np.flatnonzero(np.isin(at, bad)).tolist():
                self.fail(i, _UNKNOWN[kind], f"{kind} {distinct[at[i]]!r}: not a valid code")
        if parsed == distinct:
            return values
        return ArrowColumn(pa.array(parsed, pa.string()).take(encoded.indices))

    def integer(self, name: str) -> list[int | None]:
        if name not in self.columns:
            return [None] * self.n
        out: list[int | None] = []
        for i, v in enumerate(self.raw_column(name)):
            if v is None or v == "" or (type(v) is int):
                out.append(v if v != "" else None)
            elif isinstance(v, str) and _INTEGER.fullmatch(v.strip()):
                out.append(int(v))
            else:
                self.fail(i, "malformed", f"{name} {str(v)[:40]!r}: not an integer")
                out.append(None)
        return out

    def amount(self) -> list[int | None]:
        micros = self.integer("amount_micros")
        if "amount" not in self.columns:
            return micros
        micros = list(micros)
        for i, v in enumerate(self.raw_column("amount")):
            if micros[i] is not None and v not in (None, ""):
                # Both given: one value, written twice, or a contradiction that must not be settled
                # by picking one of them.
                try:
                    same = not isinstance(v, float) and parse_decimal_micros(str(v)) == micros[i]
                except ValueError:
                    same = False
                if not same:
                    self.fail(
                        i, "malformed", f"amount {str(v)[:40]!r} and amount_micros {micros[i]} disagree: give one"
                    )
                continue
            if micros[i] is None and v not in (None, ""):
                try:
                    micros[i] = parse_decimal_micros(str(v)) if not isinstance(v, float) else None
                except ValueError as exc:
                    self.fail(i, "malformed", str(exc))
                if micros[i] is None:
                    self.fail(i, "malformed", f"amount {v!r}: give a decimal string, not a float")
        return micros

    def instant(self) -> list[int | None]:
        out = self.integer("occurred_at_us")
        texts = self.raw_column("occurred_at") if "occurred_at" in self.columns else []
        if texts or None in out:
            out = list(out)
        for i, v in enumerate(texts):
            if v in (None, ""):
                continue
            if out[i] is not None:  # both given: they must name the same instant
                try:
                    given = v if isinstance(v, datetime) else parse_utc(str(v), "occurred_at")
                    same = datetime_to_us(require_utc(given, "occurred_at")) == out[i]
                except (InvalidTime, TypeError):
                    same = False
                if not same:
                    self.fail(
                        i, "malformed", f"occurred_at {str(v)[:40]!r} and occurred_at_us {out[i]} disagree: give one"
                    )
                continue
            try:
                if isinstance(v, datetime):
                    out[i] = datetime_to_us(require_utc(v, "occurred_at"))
                else:  # parse_utc returns the instant in UTC
                    out[i] = datetime_to_us(parse_utc(str(v), "occurred_at"))
            except (InvalidTime, TypeError) as exc:
                self.fail(i, "malformed", str(exc))
        if None in out:
            for i, v in enumerate(out):
                if v is None:
                    self.fail(i, "malformed", "occurred_at is missing")
        return out


def normalise(
    columns: Mapping[str, Sequence[Any]],
    n: int,
    default_source: str,
    *,
    listener_hashed: bool = False,
    origin: tuple[str, int] = ("", 0),
    preset: dict[int, Error] | None = None,
) -> RowBatch:
    """Typed columns from raw ones (strings from CSV/JSON, typed values from Parquet).

    `preset` holds errors found before normalising (a line that is not JSON at all).
    """
    cols = Columns(columns, n)
    raw = lambda i: {k: _plain(v[i]) for k, v in columns.items() if v[i] not in (None, "")}  # noqa: E731
    return build(cols, default_source, raw, listener_hashed=listener_hashed, origin=origin, preset=preset)


def build(
    cols: Columns,
    default_source: str,
    raw: Callable[[int], dict[str, Any]],
    *,
    listener_hashed: bool = False,
    origin: tuple[str, int] = ("", 0),
    preset: dict[int, Error] | None = None,
) -> RowBatch:
    for i, error in (preset or {}).items():
        cols.errors[i] = error
    usage_id = cols.text("play_id", "sale_id", "usage_id", required=True)
    kinds = cols.text("kind")
    if isinstance(kinds, ArrowColumn) and (
        kinds.array.null_count or not _KIND_OBJECTS.keys() >= set(pc.unique(kinds.array).to_pylist())
    ):
        kinds = kinds.list()
    odd = []
    if not isinstance(kinds, ArrowColumn):  # every kind known: the column stays as it is
        # One str object per kind (a list gets a new one per row): every line repeats it, and a
        # repeated object is pickled once per batch (the SQLite writer's pipe), not once per row.
        kinds = list(map(_KIND_OBJECTS.get, kinds, kinds))
        if not _KIND_OBJECTS.keys() >= set(kinds):
            odd = [i for i, k in enumerate(kinds) if k not in _KIND_OBJECTS]
    has_play = cols.raw_column("play_id") if odd else []
    for i in odd:
        k = kinds[i]
        if k is None and has_play[i] not in (None, ""):
            kinds[i] = "stream"
        else:
            cols.fail(i, "malformed", f"kind {k!r}: expected one of {', '.join(USAGE_KINDS)}")
    sources: Column = cols.text("source")
    if sources.count(None) == cols.n:
        sources = ArrowColumn(pa.array([default_source] * cols.n, pa.string()))
    elif isinstance(sources, ArrowColumn):
        if sources.array.null_count:
            sources = ArrowColumn(pc.fill_null(sources.array, default_source))
    else:  # one object per source, as for kinds
        if None in sources or "" in sources:
            sources = [s or default_source for s in sources]
        sources = list(map({s: s for s in set(sources)}.__getitem__, sources))
    listener = cols.text("listener_hash" if listener_hashed else "listener_id", required=True)
    return RowBatch(
        source=sources,
        usage_id=usage_id,
        kind=kinds,
        occurred_at_us=cols.instant(),
        isrc=cols.code("isrc", cols.text("isrc", upper=True)),
        upc=cols.code("upc", cols.text("upc")),
        listener=listener,
        territory=cols.code("territory", cols.text("territory", upper=True)),
        seconds_played=cols.integer("seconds_played"),
        amount_micros=cols.amount(),
        currency=cols.code("currency", cols.text("currency", upper=True)),
        refund_of=cols.text("refund_of"),
        errors=cols.errors,
        raw=raw,
        listener_hashed=listener_hashed,
        origin_name=origin[0],
        origin_offset=origin[1],
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class UnparsedLine(str):
    """The text of a line that could not be read as JSON, with why (kept only as its digest)."""

    reason: str

    def __new__(cls, text: str, reason: str) -> UnparsedLine:
        line = super().__new__(cls, text)
        line.reason = reason
        return line


def normalise_dicts(
    rows: Iterable[Any], default_source: str, *, listener_hashed: bool = False, origin: tuple[str, int] = ("", 0)
) -> RowBatch:
    """Rows as dicts (NDJSON lines, an API request body, quarantined rows being retried).

    Anything that is not a JSON object becomes a malformed row kept only as the SHA-256 and
    length of its text: it cannot be parsed, so a raw listener id in it could not be hashed.
    """
    materialised: list[dict[str, Any]] = []
    preset: dict[int, Error] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            preset[i] = ("malformed", row.reason if isinstance(row, UnparsedLine) else "not a JSON object")
            text = row if isinstance(row, str) else json.dumps(row, default=str)
            row = {"raw_sha256": hashlib.sha256(text.encode()).hexdigest(), "raw_length": len(text)}
        materialised.append(row)
    names = {k for row in materialised for k in row}
    columns = {name: [row.get(name) for row in materialised] for name in sorted(names)}
    return normalise(
        columns, len(materialised), default_source, listener_hashed=listener_hashed, origin=origin, preset=preset
    )
