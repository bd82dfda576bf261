import pytest

from ledger.domain.identifiers import (
    InvalidIdentifier,
    minor_unit_exponent,
    parse_currency,
    parse_ipi,
    parse_isni,
    parse_isrc,
    parse_iswc,
    parse_territory,
    parse_upc,
)


@pytest.mark.parametrize(
    ("parse", "raw", "expected"),
    [
        (parse_isrc, "US-RC1-76-07839", "USRC17607839"),
        (parse_iswc, "T0345246801", "T-034.524.680-1"),
        (parse_upc, "036000291452", "036000291452"),
        (parse_upc, "4006381333931", "4006381333931"),
        (parse_ipi, "00014107338", "00014107338"),
        (parse_isni, "0000 0001 2103 2683", "0000000121032683"),
        (parse_territory, "gb", "GB"),
        (parse_currency, "eur", "EUR"),
    ],
)
def test_valid_codes_are_normalised(parse, raw, expected):
    assert parse(raw) == expected


@pytest.mark.parametrize(
    ("parse", "raw", "message"),
    [
        (parse_iswc, "T-034.524.680-2", "ISWC T-034.524.680-2: check digit should be 1"),
        (parse_iswc, "034.524.680-1", "expected T-DDD.DDD.DDD-C"),
        (parse_upc, "036000291453", "UPC 036000291453: check digit should be 2"),
        (parse_upc, "12AB", "must be 12, 13 or 14 digits"),
        (parse_upc, "²" * 13, "must be 12, 13 or 14 digits"),  # str.isdigit() takes it; int() does not
        (parse_ipi, "²" * 11, "must be 9 to 11 digits"),
        (parse_isrc, "USRC1760783", "ISRC USRC1760783: wrong length"),
        (parse_ipi, "00014107339", "IPI 00014107339: check digits should be 38"),
        (parse_isni, "0000000121032684", "ISNI 0000000121032684: check digit is wrong"),
        (parse_territory, "XZ", "territory XZ: not an ISO 3166-1 alpha-2 code"),
        (parse_currency, "EUX", "currency EUX: not an ISO 4217 code"),
    ],
)
def test_invalid_codes_name_the_value_and_the_reason(parse, raw, message):
    with pytest.raises(InvalidIdentifier) as info:
        parse(raw)
    assert message in str(info.value)


def test_worldwide_is_a_scope_only_where_allowed():
    assert parse_territory("WW", allow_worldwide=True) == "WW"
    with pytest.raises(InvalidIdentifier):
        parse_territory("WW")


def test_minor_units_follow_iso_4217():
    assert (minor_unit_exponent("EUR"), minor_unit_exponent("JPY"), minor_unit_exponent("KWD")) == (2, 0, 3)


@pytest.mark.parametrize("text", ["--5", "+-5", "²", "٣", "1.2.3", "", ".", "-", "1e5", "5,00"])
def test_a_decimal_amount_is_one_sign_ascii_digits_and_a_point(text):
    from ledger.domain.money import parse_decimal_micros

    with pytest.raises(ValueError, match="not a decimal number"):
        parse_decimal_micros(text)


@pytest.mark.parametrize(
    ("text", "micros"), [("12.34", 12_340_000), ("-0.000001", -1), (".5", 500_000), ("+3", 3_000_000)]
)
def test_decimal_amounts_parse_exactly(text, micros):
    from ledger.domain.money import parse_decimal_micros

    assert parse_decimal_micros(text) == micros
