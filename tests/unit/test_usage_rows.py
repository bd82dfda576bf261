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
