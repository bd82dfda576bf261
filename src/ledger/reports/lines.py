"""Check and convert a report's lines column-wise (Arrow, NumPy): accepted lines and quarantine.

Every check is a vectorised mask over a column, or a parse of the column's distinct values
(codes repeat: a million lines name a few thousand ISRCs, a handful of currencies), so the cost
per line is a few array operations, never a Python call. A line's first failing check is its
reason; the line is kept, with the reason and its raw values, in the quarantine.

Conversion (DESIGN.md "Money"): the lines of one (currency, rate) group are converted together:
the group's exact converted total Σ net·rate is floored once, each line gets floor(net·rate) and
the leftover micro-units go one each to the largest remainders (ties: lower line number). So a
report converts to exactly floor(Σ net·rate) and only a sub-micro rest per group, recorded in the
event as `fx_rest`, is not distributed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ledger.domain.identifiers import InvalidIdentifier, parse_currency, parse_grid, parse_iswc, parse_territory
from ledger.domain.identifiers import parse_upc as _parse_upc
from ledger.domain.sales_report import ID_KINDS, RIGHT_TYPES
from ledger.reports.mapping import DEFAULTABLE, FIELDS

MAX_ABS_MICROS = 10**15  # a billion units on one line is a mistake, not a sale
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INTEGER = r"^[+-]?[0-9]+$"
_DECIMAL = r"^[+-]?([0-9]{1,15}\.?[0-9]*|\.[0-9]+)$"  # at most 15 integer digits
_ISRC = r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$"
_CONTROL = r"[\x00-\x1f\x7f]"
MICROS = Decimal(1_000_000)

RateLookup = Callable[[str, str, int], tuple[str, str] | None]  # (from, to, at_us) → (rate text, origin)


@dataclass
class CheckedLines:
    """Accepted lines (typed columns) and quarantined ones, with what the event records."""

    lines: pa.Table
    quarantine: list[tuple[int, str, str, str]] = field(default_factory=list)  # line_no, reason, detail, raw
    conversions: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, reason, _, _ in self.quarantine:
            counts[reason] = counts.get(reason, 0) + 1
        return dict(sorted(counts.items()))


class _Errors:
    """The first reason per line; masks are applied in check order. A line's reason is kept as
    a number (0: none) in one NumPy column, so a report with no bad line costs no Python per line."""

    def __init__(self, rows: int) -> None:
        self.code = np.zeros(rows, dtype=np.int16)
        self.reasons: list[str] = [""]  # code → reason
        self.details: dict[int, str] = {}

    def mark(self, mask: pa.Array | np.ndarray, reason: str, detail: Callable[[int], str]) -> None:
        hit = np.asarray(pc.fill_null(mask, False)) if isinstance(mask, pa.Array | pa.ChunkedArray) else mask
        where = np.flatnonzero(hit)
        if len(where) == 0:
            return
        where = where[self.code[where] == 0]
        if len(where) == 0:
            return
        if reason not in self.reasons:
            self.reasons.append(reason)
        self.code[where] = self.reasons.index(reason)
        for i in where.tolist():
            self.details[i] = detail(i)

    def reason(self, i: int) -> str:
        return self.reasons[int(self.code[i])]

    def ok(self) -> np.ndarray:
        ok: np.ndarray = self.code == 0
        return ok


def _text(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name)
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if array.null_count == len(array):  # a field the mapping does not name
        return array
    trimmed = pc.utf8_trim_whitespace(array)
    empty = pc.equal(trimmed, "")
    if not pc.any(empty).as_py():  # the common case: no blank cell, no second copy of the column
        return trimmed
    return pc.if_else(empty, pa.scalar(None, pa.string()), trimmed)


def _by_values(
    array: pa.Array,
    parse: Callable[[str], Any],
    errors: _Errors,
    reason: str,
    what: str,
    kind: pa.DataType | None = None,
) -> pa.Array:
    """Parse each distinct value once; bad values mark their lines; returns the parsed column."""
    if array.null_count == len(array):  # a field no line has: nothing to parse, look up or take
        return pa.nulls(len(array), kind or pa.string())
    # One hash pass gives both the distinct values and each line's code (codes repeat: a few
    # thousand ISRCs, a handful of currencies in a million lines).
    encoded = pc.dictionary_encode(array)
    encoded = encoded.combine_chunks() if isinstance(encoded, pa.ChunkedArray) else encoded
    parsed: list[Any] = []
    bad: dict[str, str] = {}
    for value in encoded.dictionary.to_pylist():
        try:
            parsed.append(parse(value))
        except (InvalidIdentifier, ValueError, InvalidOperation) as exc:
            parsed.append(None)
            bad[value] = str(exc)
    result = pc.take(pa.array(parsed, kind or pa.string()), encoded.indices)
    if bad:
        errors.mark(
            pc.is_in(array, value_set=pa.array(list(bad), pa.string())),
            reason,
            lambda i: f"{what}: {bad[array[i].as_py()]}",
        )
    return result


def _plain_decimals(array: pa.Array) -> pa.Array | None:
    """The column as decimal(24, 6) when every value is a plain decimal (no exponent, at most 6
    places, 15 digits): one cast and a literal search, not a regex per value. None otherwise."""
    try:
        dec = pc.cast(array, pa.decimal128(24, 6))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if _any_exponent_letter(array):
        return None
    return dec


def _any_exponent_letter(array: pa.Array) -> bool:
    """Whether an 'e' or 'E' may be in the column: one look at the bytes of its text (a buffer
    may hold bytes of rows outside the array: then only a needless slow path, never a miss)."""
    data = array.buffers()[2]
    if data is None:
        return False
    return bool(np.any((np.frombuffer(data, dtype=np.uint8) | 0x20) == ord("e")))


def _stored_micros(dec: pa.Array) -> np.ndarray | None:
    """A decimal(24, 6) column's micro-units without arithmetic: Arrow stores each value as the
    128-bit integer value·10⁶ (little-endian), so the micro-units are its low 64 bits whenever the
    high 64 bits are only their sign. None when a value does not fit in 64 bits."""
    words = np.frombuffer(dec.buffers()[1], dtype="<i8", count=2 * (dec.offset + len(dec)))
    low, high = words[2 * dec.offset :: 2], words[2 * dec.offset + 1 :: 2]
    if not np.array_equal(high, low >> 63):
        return None
    return low.astype(np.int64)


def _decimal_micros(array: pa.Array, errors: _Errors, name: str) -> pa.Array:
    fast = _plain_decimals(array) if array.null_count == 0 else None
    micros = None if fast is None else _stored_micros(fast)
    if micros is not None and not np.any(np.abs(micros) > MAX_ABS_MICROS):
        return pa.array(micros, pa.int64())
    shape_ok = pc.match_substring_regex(array, _DECIMAL)
    errors.mark(
        pc.invert(shape_ok),
        f"malformed_{name}",
        lambda i: f"{name} {array[i].as_py()!r} is not a decimal (at most 15 digits before the point)",
    )
    clean = pc.if_else(pc.fill_null(shape_ok, False), array, pa.scalar("0"))
    try:
        dec = pc.cast(clean, pa.decimal128(24, 6))
    except pa.ArrowInvalid:  # more than 6 decimals somewhere: find them one by one
        texts = clean.to_pylist()
        too_fine = np.fromiter(
            (t is not None and "." in t and len(t.split(".", 1)[1]) > 6 for t in texts), bool, len(texts)
        )
        errors.mark(too_fine, f"malformed_{name}", lambda i: f"{name} {texts[i]!r} has more than 6 decimal places")
        clean = pc.if_else(pa.array(too_fine), pa.scalar("0"), clean)
        dec = pc.cast(clean, pa.decimal128(24, 6))
    limit = pa.scalar(Decimal(MAX_ABS_MICROS // 10**6), pa.decimal128(24, 6))
    too_big = pc.greater(pc.abs(dec), limit)
    errors.mark(too_big, "absurd_amount", lambda i: f"{name} above {MAX_ABS_MICROS // 10**6:,} units")
    dec = pc.if_else(too_big, pa.scalar(Decimal(0), dec.type), dec)
    return pc.cast(pc.multiply(dec, pa.scalar(MICROS, pa.decimal128(7, 0))), pa.int64())


def parse_period_start(text: str) -> int:
    """'2026-10', '2026-10-01' or '202610' → epoch µs of its first instant (UTC)."""
    found = re.fullmatch(r"(\d{4})-?(\d{2})(?:-?(\d{2}))?", text)
    if not found:
        raise ValueError(f"{text!r} is not YYYY-MM or YYYY-MM-DD")
    day = datetime(int(found[1]), int(found[2]), int(found[3] or 1), tzinfo=UTC)
    return (day - _EPOCH) // timedelta(microseconds=1)


def parse_rate(text: str) -> str:
    rate = Decimal(text)
    if not rate.is_finite() or rate <= 0 or rate.as_tuple().exponent < -12:  # type: ignore[operator]
        raise ValueError(f"rate {text!r} must be a positive decimal with at most 12 places")
    return format(rate.normalize(), "f")


def _right(text: str) -> str:
    value = text.lower()
    if value not in RIGHT_TYPES:
        raise ValueError(f"{text!r} is not one of {', '.join(RIGHT_TYPES)}")
    return value


def _isrc(array: pa.Array, errors: _Errors) -> pa.Array:
    if array.null_count == len(array) or pc.all(pc.fill_null(pc.match_substring_regex(array, _ISRC), True)).as_py():
        return array  # every ISRC given is compact and upper case already: the common case
    compact = pc.utf8_upper(pc.replace_substring_regex(array, r"[\s-]", ""))
    errors.mark(
        pc.invert(pc.match_substring_regex(compact, _ISRC)), "malformed_isrc", lambda i: f"ISRC {array[i].as_py()!r}"
    )
    return compact


def _upc(text: str) -> str:
    return _parse_upc(text)


def check_lines(
    raw: pa.Table,
    mapping: dict[str, Any],
    *,
    report_period: str,
    now_us: int,
    rates: RateLookup,
    stated_rate: str | None = None,
) -> CheckedLines:
    """Every check, then conversion of the accepted lines; nothing is dropped."""
    rows = raw.num_rows
    errors = _Errors(rows)
    defaults = dict(mapping.get("defaults", {}))
    if report_period and "period" not in defaults:
        defaults["period"] = report_period
    text = {name: _text(raw, name) for name in (*FIELDS, "error")}
    for name in DEFAULTABLE:
        if name in defaults:
            text[name] = pc.fill_null(text[name], pa.scalar(defaults[name], pa.string()))
    errors.mark(pc.is_valid(text["error"]), "unreadable_record", lambda i: str(text["error"][i].as_py()))
    present = [pc.is_valid(text[k]) for k in ID_KINDS]
    any_id = present[0]
    for mask in present[1:]:
        any_id = pc.or_(any_id, mask)
    errors.mark(pc.invert(any_id), "no_identifier", lambda i: f"none of {', '.join(ID_KINDS)} is given")
    for name in ("units", "gross", "currency", "territory", "period", "right_type"):
        errors.mark(pc.is_null(text[name]), f"missing_{name}", _said(f"{name} is empty"))
    cols: dict[str, pa.Array] = {"line_no": raw.column("line_no").combine_chunks()}
    cols["isrc"] = _isrc(text["isrc"], errors)
    cols["upc"] = _by_values(text["upc"], _upc, errors, "malformed_upc", "UPC")
    cols["iswc"] = _by_values(text["iswc"], parse_iswc, errors, "malformed_iswc", "ISWC")
    cols["grid"] = _by_values(text["grid"], parse_grid, errors, "malformed_grid", "GRid")
    cols["platform_id"], cols["proprietary_id"] = text["platform_id"], text["proprietary_id"]
    for name in ("title", "artist", "platform_id", "proprietary_id"):
        if text[name].null_count < len(text[name]):  # a regex over a column of nulls still costs a pass
            errors.mark(pc.match_substring_regex(text[name], _CONTROL), f"control_character_in_{name}", _said(name))
        cols.setdefault(name, text[name])
    cols["units"] = _integers(text["units"], errors)
    cols["gross_micros"] = _decimal_micros(text["gross"], errors, "gross")
    net_text = pc.if_else(pc.is_null(text["net"]), text["gross"], text["net"])
    cols["net_micros"] = _decimal_micros(net_text, errors, "net")
    gross, net = np.asarray(cols["gross_micros"]), np.asarray(cols["net_micros"])
    outside = np.where(gross >= 0, (net < 0) | (net > gross), (net > 0) | (net < gross))
    errors.mark(outside, "net_outside_gross", lambda i: f"net {net[i]} µ is not between 0 and gross {gross[i]} µ")
    cols["currency"] = _by_values(text["currency"], parse_currency, errors, "unknown_currency", "currency")
    cols["territory"] = _by_values(
        text["territory"], lambda t: parse_territory(t, allow_worldwide=True), errors, "unknown_territory", "territory"
    )
    cols["occurred_at_us"] = _by_values(
        text["period"], parse_period_start, errors, "malformed_period", "period", pa.int64()
    )
    starts = np.asarray(pc.fill_null(cols["occurred_at_us"], 0))
    errors.mark(starts > now_us, "future_period", lambda i: "the usage period starts after the import")
    cols["right_type"] = _by_values(text["right_type"], _right, errors, "unknown_right_type", "right type")
    rate_text = text["rate"] if stated_rate is None else pc.fill_null(text["rate"], pa.scalar(stated_rate))
    cols["rate"] = _by_values(rate_text, parse_rate, errors, "malformed_rate", "rate")
    target = mapping.get("target_currency")
    checked = CheckedLines(pa.table({}))
    line_rates = _line_rates(cols, target, rates, errors)
    ok = errors.ok()
    converted = _convert(cols, target, line_rates, ok, checked)
    quarantined = np.flatnonzero(~ok)
    if len(quarantined):
        raw_rows = raw.take(pa.array(quarantined)).to_pylist()
        for i, row in zip(quarantined.tolist(), raw_rows, strict=True):
            kept = {k: v for k, v in row.items() if v is not None and k != "line_no"}
            checked.quarantine.append(
                (int(row["line_no"]), errors.reason(i), errors.details[i], json.dumps(kept, sort_keys=True))
            )
    mask = pa.array(ok)
    lines = pa.table(
        {
            "line_no": cols["line_no"],
            "right_type": cols["right_type"],
            "occurred_at_us": pc.cast(cols["occurred_at_us"], pa.int64()),
            "territory": cols["territory"],
            **{
                k: pc.cast(cols[k], pa.string())
                for k in ("isrc", "upc", "iswc", "grid", "platform_id", "proprietary_id")
            },
            "title": cols["title"],
            "artist": cols["artist"],
            "units": cols["units"],
            "currency": cols["currency"],
            "gross_micros": cols["gross_micros"],
            "net_micros": cols["net_micros"],
            "target_currency": converted[0],
            "amount_micros": converted[1],
        }
    )
    # Most reports have no bad line: no filtered copy of every column then (peak memory).
    checked.lines = lines if len(quarantined) == 0 else lines.filter(mask)
    lines = checked.lines
    _totals(checked, lines)
    return checked


def _totals(checked: CheckedLines, lines: pa.Table) -> None:
    if lines.num_rows == 0:
        return
    grouped = lines.group_by("currency").aggregate([("gross_micros", "sum"), ("net_micros", "sum")])
    for cur, g, n in zip(
        *(grouped.column(c).to_pylist() for c in ("currency", "gross_micros_sum", "net_micros_sum")), strict=True
    ):
        checked.totals[cur] = {"gross": int(g), "net": int(n), "service_fee": int(g) - int(n)}
    checked.totals = dict(sorted(checked.totals.items()))


def _line_rates(
    cols: dict[str, pa.Array], target: str | None, rates: RateLookup, errors: _Errors
) -> tuple[np.ndarray, list[tuple[str, str, str]]]:
    """Each line's conversion group (an index into the returned list of (currency, rate, origin);
    -1: no conversion, the line is in the target currency already or none is configured).
    The rate is the line's stated one, else the configured rate source's at the usage period."""
    rows = len(cols["currency"])
    if target is None:
        return np.full(rows, -1), []
    # Each line's (currency, rate, period start) as one integer, from the columns' dictionary
    # codes (a few distinct values each): no text key per line.
    parts = [
        _dictionary(pc.fill_null(cols["currency"], "")),
        _dictionary(pc.fill_null(cols["rate"], "")),
        _dictionary(pc.fill_null(cols["occurred_at_us"], 0)),
    ]
    combined = np.zeros(rows, dtype=np.int64)
    for part in parts:
        combined = combined * len(part.dictionary) + np.asarray(part.indices, dtype=np.int64)
    distinct, inverse = _distinct(combined, int(np.prod([len(part.dictionary) for part in parts])))
    dictionaries = [part.dictionary.to_pylist() for part in parts]
    groups: list[tuple[str, str, str]] = []
    code_of_group: dict[tuple[str, str, str], int] = {}
    codes: list[int] = []
    missing: list[int] = []
    for index, value in enumerate(distinct.tolist()):
        value, at_code = divmod(value, len(dictionaries[2]))
        currency_code, rate_code = divmod(value, len(dictionaries[1]))
        currency, rate, at = dictionaries[0][currency_code], dictionaries[1][rate_code], dictionaries[2][at_code]
        if not currency or currency == target:
            codes.append(-1)
            continue
        found = (rate, "stated") if rate else rates(currency, target, int(at))
        if found is None:
            missing.append(index)
            codes.append(-1)
            continue
        group = (currency, *found)
        codes.append(code_of_group.setdefault(group, len(code_of_group)))
        if len(groups) < len(code_of_group):
            groups.append(group)
    line_codes = np.asarray(codes, dtype=np.int64)[inverse] if rows else np.zeros(0, dtype=np.int64)
    if missing:
        errors.mark(
            np.isin(inverse, missing),
            "no_exchange_rate",
            lambda i: f"no rate {cols['currency'][i].as_py()}/{target} stated or configured",
        )
    return line_codes, groups


def _distinct(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(codes, return_inverse=True) for codes in [0, size): by counting, not sorting,
    when the range is small (a few currencies × rates × periods)."""
    if size > 1 << 20:
        distinct, inverse = np.unique(codes, return_inverse=True)
        return distinct, inverse
    distinct = np.flatnonzero(np.bincount(codes, minlength=size))
    lookup = np.zeros(size, dtype=np.int64)
    lookup[distinct] = np.arange(len(distinct))
    return distinct, lookup[codes]


def _dictionary(array: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    encoded = pc.dictionary_encode(array)
    return encoded.combine_chunks() if isinstance(encoded, pa.ChunkedArray) else encoded


def convert_group(nets: np.ndarray, line_nos: np.ndarray, rate: str) -> tuple[np.ndarray, Fraction]:
    """Convert one (currency, rate) group: floor per line, the leftover of floor(Σ exact) to the
    largest remainders (ties: lower line number). Returns the amounts and the sub-micro rest."""
    fraction = Fraction(Decimal(rate))
    num, den = fraction.numerator, fraction.denominator
    if len(nets) == 0:
        return nets.astype(np.int64), Fraction(0)
    if int(np.abs(nets).max()) * num < 2**62 and den < 2**62:
        product = nets.astype(np.int64) * num
        floors, rests = product // den, product % den
    else:
        pairs = [divmod(int(n) * num, den) for n in nets.tolist()]
        floors = np.array([q for q, _ in pairs], dtype=object)
        rests = np.array([r for _, r in pairs], dtype=object)
    exact_total = Fraction(int(np.sum(nets.astype(object))) * num, den)
    total = exact_total.numerator // exact_total.denominator
    leftover = total - int(np.sum(floors.astype(object)))
    amounts = floors.astype(np.int64)
    if leftover:
        if rests.dtype == object:  # exact Python integers (the product did not fit in int64)
            order = np.array(sorted(range(len(nets)), key=lambda j: (-rests[j], line_nos[j])))
        else:
            order = np.lexsort((line_nos, -rests))
        amounts[order[:leftover]] += 1
    return amounts, exact_total - total


def _convert(
    cols: dict[str, pa.Array],
    target: str | None,
    line_rates: tuple[np.ndarray, list[tuple[str, str, str]]],
    ok: np.ndarray,
    checked: CheckedLines,
) -> tuple[pa.Array, pa.Array]:
    codes, groups = line_rates
    nets = np.asarray(cols["net_micros"])
    line_nos = np.asarray(cols["line_no"])
    amounts = nets.copy()
    for code, (cur, rate, origin) in sorted(enumerate(groups), key=lambda g: g[1]):
        index = np.flatnonzero((codes == code) & ok)
        if len(index) == 0:
            continue
        converted, rest = convert_group(nets[index], line_nos[index], rate)
        amounts[index] = converted
        checked.conversions.append(
            {
                "currency": cur,
                "target_currency": target,
                "rate": rate,
                "origin": origin,
                "lines": len(index),
                "net_micros": int(nets[index].sum()),
                "converted_micros": int(converted.sum()),
                "fx_rest": f"{rest.numerator}/{rest.denominator}",
            }
        )
    if target is None:
        return cols["currency"], pa.array(amounts, pa.int64())
    return pa.repeat(pa.scalar(target, pa.string()), len(nets)), pa.array(amounts, pa.int64())


def _integers(array: pa.Array, errors: _Errors) -> pa.Array:
    """Units: one cast when every value is a plain integer, else a check per value."""
    if array.null_count == 0:
        try:
            return pc.cast(array, pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    shape = pc.match_substring_regex(array, _INTEGER)
    errors.mark(pc.invert(shape), "malformed_units", lambda i: f"units {array[i].as_py()!r} is not an integer")
    return pc.cast(pc.if_else(pc.fill_null(shape, False), array, pa.scalar("0")), pa.int64())


def _said(detail: str) -> Callable[[int], str]:
    """A detail that is the same for every line."""
    return lambda _: detail
