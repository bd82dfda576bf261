"""Client usage rows, column-wise: normalise whatever a file or request gave into typed columns.

Each row either normalises or gets one (reason, detail) error; nothing raises for bad data,
because a bad row is quarantined, never dropped and never fatal to its batch.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

import pyarrow as pa

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


@dataclass
class RowBatch:
    """Typed columns of one batch; `errors[i]` is set when row i could not be normalised."""

    source: list[str | None]
    usage_id: list[str | None]
    kind: list[str | None]
    occurred_at_us: list[int | None]
    isrc: list[str | None]
    upc: list[str | None]
    listener: list[str | None]  # raw id, or the HMAC when listener_hashed
    territory: list[str | None]
    seconds_played: list[int | None]
    amount_micros: list[int | None]
    currency: list[str | None]
    refund_of: list[str | None]
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
            try:
                found = pa.array(values, kind)
            except (OverflowError, pa.ArrowInvalid):
                found = pa.array([v if v is None or -(2**63) <= v < 2**63 else None for v in values], kind)
            self._arrays[name] = found
        return found

    def origin(self, i: int) -> str:
        return f"{self.origin_name} row {self.origin_offset + i + 1}" if self.origin_name else ""


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

    def code(self, kind: str, values: list[str | None]) -> list[str | None]:
        """Each distinct value is checked once; a batch has few distinct codes."""
        parsed: dict[str | None, str | None] = {v: _code(kind, v) for v in set(values) if v is not None}
        out = list(map(parsed.get, values))  # None is never a key: it stays None
        if any(p is None for p in parsed.values()):
            for i, v in enumerate(values):
                if v is not None and out[i] is None:
                    self.fail(i, _UNKNOWN[kind], f"{kind} {v!r}: not a valid code")
        return out

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
        for i, v in enumerate(self.raw_column("amount")):
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
        for i, v in enumerate(texts):
            if out[i] is not None or v in (None, ""):
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
    # One str object per kind (Arrow gives a new one per row): every line repeats it, and a
    # repeated object is pickled once per batch (the SQLite writer's pipe), not once per row.
    kinds = list(map(_KIND_OBJECTS.get, kinds, kinds))
    odd = [] if _KIND_OBJECTS.keys() >= set(kinds) else [i for i, k in enumerate(kinds) if k not in _KIND_OBJECTS]
    has_play = cols.raw_column("play_id") if odd else []
    for i in odd:
        k = kinds[i]
        if k is None and has_play[i] not in (None, ""):
            kinds[i] = "stream"
        else:
            cols.fail(i, "malformed", f"kind {k!r}: expected one of {', '.join(USAGE_KINDS)}")
    sources = cols.text("source")
    if sources.count(None) == cols.n:
        sources = [default_source] * cols.n
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
