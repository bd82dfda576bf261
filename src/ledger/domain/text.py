"""Text from outside: which characters and how many a field of each kind may hold.

One rule set for every way in (API bodies and parameters, usage files, ERN and catalogue
CSV deliveries, Stripe webhooks, CLI arguments) and for the log itself, the same on SQLite and
PostgreSQL (which cannot store NUL in a text column at all):

- single-line kinds (keys, names, titles, codes, ids): no control character at all — C0
  (U+0000–U+001F, tab and newlines included), DEL (U+007F), C1 (U+0080–U+009F);
- multi-line kinds (reasons, notes): the same, except TAB, LF and CR;
- every kind: no unpaired surrogate (U+D800–U+DFFF, which UTF-8 cannot encode), and at most
  `TEXT_LIMITS[kind]` characters.

`check_text` raises InvalidText naming the field and the problem, never echoing the value: a
refused value may be a listener id, and raw listener ids are stored nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.domain.party import DomainError

# Characters per field kind (documented in docs/api.md, "Text limits").
TEXT_LIMITS: dict[str, int] = {
    "key": 200,  # party and work keys, API key labels
    "id": 128,  # client-given ids: play_id, sale_id, usage source, listener id, references
    "code": 40,  # roles, kinds, release types, party kinds, identifier values
    "name": 500,  # party names, display artists
    "title": 500,  # work, recording and release titles
    "reason": 2_000,  # reasons and notes (multi-line)
    "statement": 10_000,  # a dispute's statement (multi-line)
    "url": 8_000,  # an API request's path, each query parameter name and value
}
MULTILINE = frozenset({"reason", "statement"})
# Values that hold no text, skipped by their exact type when every recorded event is checked.
_PLAIN = frozenset({int, float, bool, type(None), datetime, date, UUID, Decimal})
_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class InvalidText(DomainError):
    """A text field holds a character its kind does not allow, or is too long.

    `problem` is a reason code: control_character, unpaired_surrogate, too_long or not_text.
    """

    def __init__(self, field: str, problem: str, detail: str) -> None:
        self.field, self.problem = field, problem
        super().__init__(f"{field}: {detail}")

    @property
    def reason(self) -> str:
        """The quarantine reason code: e.g. control_character_in_title."""
        return f"{self.problem}_in_{self.field.replace(' ', '_').replace('.', '_')}"


def text_problem(value: str, kind: str) -> tuple[str, str] | None:
    """(problem code, detail) for a value its kind does not allow; None when it is fine.

    The detail names the offending character by code point and position, never the text.
    """
    bad = (_MULTI_LINE if kind in MULTILINE else _SINGLE_LINE).search(value)
    if bad is not None:
        char = bad.group()
        if _SURROGATE.match(char):
            return "unpaired_surrogate", f"unpaired surrogate U+{ord(char):04X} at character {bad.start() + 1}"
        allowed = " (tab and newlines are allowed here)" if kind in MULTILINE else ""
        return (
            "control_character",
            f"control character U+{ord(char):04X} at character {bad.start() + 1} is not allowed{allowed}",
        )
    limit = TEXT_LIMITS[kind]
    if len(value) > limit:
        return "too_long", f"{len(value)} characters, more than the {limit} allowed"
    return None


def check_text(value: Any, field: str, kind: str) -> str:
    """`value` if it is a text its kind allows; InvalidText otherwise."""
    if not isinstance(value, str):
        raise InvalidText(field, "not_text", f"expected text, got {type(value).__name__}")
    found = text_problem(value, kind)
    if found is not None:
        raise InvalidText(field, *found)
    return value


def check_texts(fields: Mapping[str, tuple[str | None, str]]) -> None:
    """Check several optional fields at once: {field: (value or None, kind)}."""
    for field, (value, kind) in fields.items():
        if value is not None:
            check_text(value, field, kind)


def storable_problem(value: Any, where: str = "") -> InvalidText | None:
    """The first text anywhere in `value` (nested dicts, lists, tuples; keys too) that the log
    must not hold: a control character other than TAB, LF, CR, or an unpaired surrogate."""
    if not _holds_unstorable(value):
        return None  # the common case, answered without building a path per field
    return _first_unstorable(value, where)


def _holds_unstorable(value: Any) -> bool:
    """Whether any text in `value` holds a character the log refuses. Every event recorded is
    checked, so this walks without recursion, skips numbers, instants and ids by their exact
    type, gathers the texts (a dict's keys and a list of texts joined at once) and searches them
    as one string: joining cannot make a forbidden character, or hide one."""
    texts: list[str] = []
    add = texts.append
    stack = [value]
    pop, push_all = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            add(item)
        elif kind in _PLAIN:
            continue
        elif kind is dict:
            try:
                add("".join(item))  # its keys, when they are all texts
            except TypeError:
                push_all(item)
            push_all(item.values())
        elif kind is list or kind is tuple:
            if item and type(item[0]) is str:
                try:
                    add("".join(item))
                    continue
                except TypeError:  # not all texts after all
                    pass
            push_all(item)
        elif isinstance(item, str):
            add(str(item))
        elif isinstance(item, Mapping):
            push_all(item.keys())
            push_all(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            push_all(item)
    return _MULTI_LINE.search("".join(texts)) is not None


def _first_unstorable(value: Any, where: str) -> InvalidText | None:
    if isinstance(value, str):
        bad = _MULTI_LINE.search(value)
        if bad is None:
            return None
        char = bad.group()
        kind = "unpaired_surrogate" if _SURROGATE.match(char) else "control_character"
        return InvalidText(where or "text", kind, f"character U+{ord(char):04X} cannot be recorded")
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _first_unstorable(key, where) or _first_unstorable(item, f"{where}.{key}" if where else str(key))
            if found is not None:
                return found
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            found = _first_unstorable(item, where)
            if found is not None:
                return found
    return None


def escape_controls(text: str) -> str:
    """Text from a tool or a file made safe to record and print: controls and unpaired
    surrogates as \\xNN / \\uNNNN escapes (TAB, LF and CR kept)."""
    return _MULTI_LINE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"
