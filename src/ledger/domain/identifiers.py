"""Identifiers and codes: ISRC, ISWC, UPC/EAN, IPI, ISNI, ISO 3166 territories, ISO 4217 currencies.

python-stdnum checks ISRC, EAN/UPC and ISNI; ISWC and IPI name numbers are checked here because
stdnum does not cover them. pycountry is the maintained source of territory and currency codes.
Every error names the value and the reason, because a person has to fix the delivery.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import pycountry
from stdnum import ean, grid, isni, isrc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError

# The parsers are pure: a bulk import checks the same ISRCs, UPCs and codes several times (in
# validation, then in each command that records them), so answers are memoised (a refusal, an
# exception, is not: it is raised again each time).
_MEMO = lru_cache(maxsize=1 << 16)


class InvalidIdentifier(ValueError):
    """A code that is malformed or fails its check digit; the message says which and why."""

    def __init__(self, kind: str, value: str, reason: str) -> None:
        self.kind, self.value, self.reason = kind, value, reason
        super().__init__(f"{kind} {value}: {reason}")


def _stdnum_reason(exc: ValidationError) -> str:
    if isinstance(exc, InvalidChecksum):
        return "check digit is wrong"
    if isinstance(exc, InvalidLength):
        return "wrong length"
    if isinstance(exc, InvalidComponent):
        return "unknown country or registrant code"
    return "malformed"


@_MEMO
def parse_isrc(value: str) -> str:
    """An ISRC in its compact 12-character form (CC-XXX-YY-NNNNN without dashes)."""
    try:
        return str(isrc.validate(value))
    except ValidationError as exc:
        raise InvalidIdentifier("ISRC", value, _stdnum_reason(exc)) from None


@_MEMO
def parse_upc(value: str) -> str:
    """A UPC-A (12 digits) or EAN-13 / GTIN-13 (13 digits) release code, check digit verified."""
    compact = re.sub(r"[\s-]", "", value)
    if not (compact.isascii() and compact.isdigit()) or len(compact) not in (12, 13, 14):
        raise InvalidIdentifier("UPC", value, "must be 12, 13 or 14 digits")
    try:
        return str(ean.validate(compact))
    except InvalidChecksum:
        expected = ean.calc_check_digit(compact[:-1])
        raise InvalidIdentifier("UPC", value, f"check digit should be {expected}") from None
    except ValidationError as exc:
        raise InvalidIdentifier("UPC", value, _stdnum_reason(exc)) from None


@_MEMO
def parse_grid(value: str) -> str:
    """A GRid (Global Release Identifier, 18 characters, ISO 7064 Mod 37,36 check) in compact form."""
    try:
        return str(grid.validate(value))
    except ValidationError as exc:
        raise InvalidIdentifier("GRid", value, _stdnum_reason(exc)) from None


_PROPRIETARY = re.compile(r"^[^:\s]+(?::[^:\s]+)*:\S.*$")


@_MEMO
def parse_release_key(value: str) -> str:
    """A release's key: a UPC/EAN, "GRID:<GRid>", or a namespaced proprietary id ("DPID:PADPIDA…:id")."""
    text = value.strip()
    if text.upper().startswith("GRID:"):
        return "GRID:" + parse_grid(text[5:])
    if ":" in text:
        if not _PROPRIETARY.match(text):
            raise InvalidIdentifier("release id", value, "expected NAMESPACE:VALUE")
        return text
    return parse_upc(text)


_ISWC = re.compile(r"^T-?(\d{3})\.?(\d{3})\.?(\d{3})-?(\d)$")


def iswc_check_digit(nine_digits: str) -> int:
    """ISWC check digit: 1 + Σ i·dᵢ (i = 1…9), then (10 − sum mod 10) mod 10."""
    total = 1 + sum(i * int(d) for i, d in enumerate(nine_digits, start=1))
    return (10 - total % 10) % 10


def parse_release_reference(value: str) -> str:
    """A release's key from any id a sender names it by: a UPC/EAN, a GRid ("GRID:<GRid>" or
    the bare 18 characters) or a namespaced proprietary id ("DPID:PADPIDA…:id")."""
    text = value.strip()
    if ":" not in text and not text.replace("-", "").replace(" ", "").isdigit():
        return "GRID:" + parse_grid(text)
    return parse_release_key(text)


@_MEMO
def parse_iswc(value: str) -> str:
    """An ISWC in its display form T-DDD.DDD.DDD-C, check digit verified."""
    match = _ISWC.match(value.strip().upper())
    if not match:
        raise InvalidIdentifier("ISWC", value, "expected T-DDD.DDD.DDD-C")
    digits = "".join(match.groups()[:3])
    expected = iswc_check_digit(digits)
    if int(match.group(4)) != expected:
        raise InvalidIdentifier("ISWC", value, f"check digit should be {expected}")
    return f"T-{digits[0:3]}.{digits[3:6]}.{digits[6:9]}-{expected}"


def ipi_check_digits(nine_digits: str) -> str:
    """IPI name number check: Σ dᵢ·(10 − i) mod 101 over the first nine digits, as two digits."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(nine_digits)) % 101
    if total:
        total = (101 - total) % 100
    return f"{total:02d}"


@_MEMO
def parse_ipi(value: str) -> str:
    """An IPI name number (11 digits, the last two are check digits); shorter CAE numbers are zero-padded."""
    compact = re.sub(r"[\s.-]", "", value)
    if not (compact.isascii() and compact.isdigit()) or not 9 <= len(compact) <= 11:
        raise InvalidIdentifier("IPI", value, "must be 9 to 11 digits")
    compact = compact.zfill(11)
    expected = ipi_check_digits(compact[:9])
    if compact[9:] != expected:
        raise InvalidIdentifier("IPI", value, f"check digits should be {expected}")
    return compact


@_MEMO
def parse_isni(value: str) -> str:
    """An ISNI (16 characters, ISO 7064 MOD 11-2 check character) in compact form."""
    try:
        return str(isni.validate(value))
    except ValidationError as exc:
        raise InvalidIdentifier("ISNI", value, _stdnum_reason(exc)) from None


@cache
def _territories() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def _currencies() -> dict[str, int]:
    """ISO 4217 codes with their minor-unit exponent (cents = 2, yen = 0)."""
    zero = {
        "JPY",
        "KRW",
        "ISK",
        "CLP",
        "VND",
        "XAF",
        "XOF",
        "XPF",
        "PYG",
        "UGX",
        "RWF",
        "KMF",
        "GNF",
        "DJF",
        "BIF",
        "VUV",
    }
    three = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
    return {c.alpha_3: 0 if c.alpha_3 in zero else 3 if c.alpha_3 in three else 2 for c in pycountry.currencies}


WORLDWIDE = "WW"


def parse_territory(value: str, *, allow_worldwide: bool = False) -> str:
    """An ISO 3166-1 alpha-2 code; DDEX's "Worldwide" (WW) where a scope, not a place, is meant."""
    code = value.strip().upper()
    if allow_worldwide and code in (WORLDWIDE, "WORLDWIDE"):
        return WORLDWIDE
    if code not in _territories():
        raise InvalidIdentifier("territory", value, "not an ISO 3166-1 alpha-2 code")
    return code


def parse_currency(value: str) -> str:
    code = value.strip().upper()
    if code not in _currencies():
        raise InvalidIdentifier("currency", value, "not an ISO 4217 code")
    return code


def minor_unit_exponent(currency: str) -> int:
    """Digits after the decimal point of the currency's minor unit (USD 2, JPY 0, KWD 3)."""
    return _currencies()[parse_currency(currency)]
