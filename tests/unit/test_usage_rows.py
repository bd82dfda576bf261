from hypothesis import given
from hypothesis import strategies as st

from ledger.usage.rows import normalise_dicts


def _one(row):
    batch = normalise_dicts([row], "player")
    return batch, batch.errors[0]


BASE = {
    "play_id": "p1",
    "occurred_at": "2026-10-05T10:00:00Z",
    "isrc": "us-rl1-26-00001",
    "listener_id": "l",
    "territory": "de",
    "seconds_played": "61",
}


def test_a_good_row_normalises_codes_times_and_integers():
    batch, error = _one(BASE)
    assert error is None
    assert batch.isrc[0] == "USRL12600001"
    assert batch.territory[0] == "DE"
    assert batch.kind[0] == "stream"
    assert batch.seconds_played[0] == 61
    assert batch.occurred_at_us[0] == 1_791_194_400_000_000


def test_non_utc_times_are_malformed():
    _, error = _one({**BASE, "occurred_at": "2026-10-05T10:00:00+02:00"})
    assert error is not None and error[0] == "malformed" and "not UTC" in error[1]


def test_float_amounts_are_refused_and_decimal_strings_are_exact():
    batch, error = _one(
        {
            "sale_id": "s",
            "kind": "download",
            "occurred_at": BASE["occurred_at"],
            "isrc": BASE["isrc"],
            "listener_id": "l",
            "territory": "DE",
            "amount": 0.1,
            "currency": "EUR",
        }
    )
    assert error is not None and "float" in error[1]
    batch, error = _one(
        {
            "sale_id": "s",
            "kind": "download",
            "occurred_at": BASE["occurred_at"],
            "isrc": BASE["isrc"],
            "listener_id": "l",
            "territory": "DE",
            "amount": "0.1",
            "currency": "eur",
        }
    )
    assert error is None and batch.amount_micros[0] == 100_000 and batch.currency[0] == "EUR"


def test_unknown_territory_and_currency_have_their_own_reasons():
    assert _one({**BASE, "territory": "ZZ"})[1][0] == "unknown_territory"
    row = {
        "sale_id": "s",
        "kind": "tip",
        "occurred_at": BASE["occurred_at"],
        "isrc": BASE["isrc"],
        "listener_id": "l",
        "territory": "DE",
        "amount": "1",
        "currency": "ABC",
    }
    assert _one(row)[1][0] == "unknown_currency"


def test_a_missing_id_an_unknown_kind_and_a_non_object_line_are_malformed():
    assert _one({k: v for k, v in BASE.items() if k != "play_id"})[1][1] == "play_id is missing"
    assert "kind 'rental'" in _one({**BASE, "kind": "rental"})[1][1]
    batch = normalise_dicts(["{not json", BASE], "player")
    assert batch.errors[0] == ("malformed", "not a JSON object")
    assert batch.errors[1] is None


def test_a_row_source_overrides_the_default():
    batch, _ = _one({**BASE, "source": "radio"})
    assert batch.source[0] == "radio"
    batch, _ = _one(BASE)
    assert batch.source[0] == "player"


def test_ids_in_bulk_keep_the_row_by_row_rules():
    """The bulk paths (every value a short text) and the row-by-row one agree, batch by batch."""
    rows = [
        {**BASE, "play_id": "", "sale_id": "s1", "kind": "download"},
        {**BASE, "play_id": "  p2 "},
        {**BASE, "play_id": 17},
        {**BASE, "play_id": "", "sale_id": ""},
        {**BASE, "play_id": "x" * 129},
        {**BASE, "play_id": None, "usage_id": "u6", "kind": "stream"},
    ]
    batch = normalise_dicts(rows, "player")
    assert batch.usage_id == ["s1", "p2", "17", None, None, "u6"]
    assert batch.errors[3] == ("malformed", "play_id is missing")
    assert batch.errors[4] == ("too_long_in_play_id", "play_id: 129 characters, more than the 128 allowed")
    clean = normalise_dicts([rows[0], rows[1], rows[5]], "player")
    assert clean.usage_id == ["s1", "p2", "u6"]
    assert clean.errors == [None, None, None]


def test_integers_that_only_look_like_digits_are_malformed_not_fatal(tmp_path):
    """str.isdigit() takes "²"; a double minus strips to digits: neither may reach int()."""
    for bad in ("--5", "²", "5.0", "+5", "٣"):
        _, error = _one({**BASE, "seconds_played": bad})
        assert error is not None and error[0] == "malformed" and "not an integer" in error[1], bad
    assert _one({**BASE, "seconds_played": " -7 "})[0].seconds_played[0] == -7
    from ledger.usage.readers import read_batches

    csv = tmp_path / "plays.csv"
    csv.write_text(
        "play_id,occurred_at,isrc,listener_id,territory,seconds_played\n"
        "p1,2026-10-05T10:00:00Z,USRL12600001,l,DE,--5\n"
        "p2,2026-10-05T10:00:00Z,USRL12600001,l,DE,61\n"
    )
    [batch] = read_batches(csv, 100, "player")
    assert batch.errors[0] is not None and "not an integer" in batch.errors[0][1]
    assert batch.errors[1] is None and batch.seconds_played[1] == 61


def test_control_characters_are_refused_per_field_on_every_path(tmp_path):
    """Issue 15 finding 3: the bulk paths (lists, Arrow) and the row-by-row one alike."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ledger.usage.readers import read_batches

    rows = [
        {**BASE, "play_id": "p\x00"},
        {**BASE, "play_id": "p2", "listener_id": "l\x85x"},
        {**BASE, "play_id": "p3", "source": "s\x1b[31m"},
        {**BASE, "play_id": "  p4\t"},  # surrounding whitespace is stripped, as before
    ]
    expected = [
        ("control_character_in_play_id", "play_id: control character U+0000 at character 2 is not allowed"),
        ("control_character_in_listener_id", "listener_id: control character U+0085 at character 2 is not allowed"),
        ("control_character_in_source", "source: control character U+001B at character 2 is not allowed"),
        None,
    ]
    assert normalise_dicts(rows, "player").errors == expected
    names = sorted({k for row in rows for k in row})
    table = pa.Table.from_pylist([{k: str(row[k]) if k in row else None for k in names} for row in rows])
    pq.write_table(table, tmp_path / "plays.parquet")
    [batch] = read_batches(tmp_path / "plays.parquet", 100, "player")
    assert [e and (e[0], e[1].split(" (")[0]) for e in batch.errors] == expected
    assert batch.usage_id[3] == "p4"


def test_a_csv_cell_is_empty_only_when_empty_namibia_is_a_territory(tmp_path):
    """pyarrow's default null markers ("NA", "N/A", "NULL", "null", "nan", …) are text in a usage
    file: "NA" is Namibia's code, and "null" or "NaN" may be somebody's listener id. Read as
    absent, every Namibian play was quarantined as having no territory."""
    from ledger.usage.readers import read_batches

    csv = tmp_path / "plays.csv"
    csv.write_text(
        "play_id,occurred_at,isrc,listener_id,territory,seconds_played\n"
        "p1,2026-10-05T10:00:00Z,USRL12600001,l,NA,61\n"
        "p2,2026-10-05T10:00:00Z,USRL12600001,null,DE,61\n"
        "p3,2026-10-05T10:00:00Z,USRL12600001,NaN,na,61\n"
        'p4,2026-10-05T10:00:00Z,USRL12600001,l,"",61\n'
        "p5,2026-10-05T10:00:00Z,USRL12600001,l,,61\n"
    )
    [batch] = read_batches(csv, 100, "player")
    assert batch.errors[:3] == [None, None, None]
    assert batch.territory[:3] == ["NA", "DE", "NA"]
    # An empty cell, quoted or not, is still an absent territory (the batch's checks quarantine it).
    assert batch.territory[3:] == [None, None]


SALE = {
    "sale_id": "s",
    "kind": "download",
    "occurred_at": BASE["occurred_at"],
    "isrc": BASE["isrc"],
    "listener_id": "l",
    "territory": "DE",
    "currency": "EUR",
}


@given(
    micros=st.integers(min_value=0, max_value=10**12),
    amount=st.decimals(min_value=0, max_value=10**6, places=6, allow_nan=False, allow_infinity=False),
)
def test_an_amount_given_twice_is_taken_only_when_both_say_the_same(micros, amount):
    """`amount` and `amount_micros` on one row: the same value written twice is that value; two
    different values are a contradiction, quarantined — never settled by taking one of them."""
    batch, error = _one({**SALE, "amount": str(amount), "amount_micros": micros})
    if int(amount * 1_000_000) == micros:
        assert error is None and batch.amount_micros[0] == micros
    else:
        assert error is not None and error[0] == "malformed" and "disagree" in error[1], (amount, micros)
    agreed, error = _one({**SALE, "amount": str(amount), "amount_micros": int(amount * 1_000_000)})
    assert error is None and agreed.amount_micros[0] == int(amount * 1_000_000)


def test_an_instant_given_twice_must_be_the_same_instant(tmp_path):
    at_us = 1_791_194_400_000_000  # 2026-10-05T10:00:00Z
    assert _one({**BASE, "occurred_at_us": at_us})[1] is None
    _, error = _one({**BASE, "occurred_at_us": at_us + 1})
    assert error is not None and error[0] == "malformed" and "disagree" in error[1]
    from ledger.usage.readers import read_batches

    csv = tmp_path / "sales.csv"  # the CSV path reads columns in bulk (Arrow)
    csv.write_text(
        "sale_id,kind,occurred_at,occurred_at_us,isrc,listener_id,territory,amount,amount_micros,currency\n"
        f"s1,download,2026-10-05T10:00:00Z,{at_us},USRL12600001,l,DE,0.99,990000,EUR\n"
        f"s2,download,2026-10-05T10:00:00Z,{at_us},USRL12600001,l,DE,0.99,5,EUR\n"
        f"s3,download,2026-10-05T11:00:00Z,{at_us},USRL12600001,l,DE,0.99,990000,EUR\n"
    )
    [batch] = read_batches(csv, 100, "store")
    assert batch.errors[0] is None and batch.amount_micros[0] == 990_000
    assert batch.errors[1] == ("malformed", "amount '0.99' and amount_micros 5 disagree: give one")
    assert batch.errors[2] is not None and "occurred_at_us" in batch.errors[2][1]
