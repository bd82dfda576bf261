"""The text rules of every way in (ledger.domain.text) and the log's own last check."""

from __future__ import annotations

import pytest

from ledger.domain.text import InvalidText, check_text, escape_controls, storable_problem, text_problem


@pytest.mark.parametrize("char", ["\x00", "\x01", "\t", "\n", "\r", "\x1b", "\x7f", "\x80", "\x85", "\x9f", "\ud800"])
def test_single_line_kinds_refuse_every_control_character(char: str) -> None:
    for kind in ("key", "id", "code", "name", "title"):
        found = text_problem(f"a{char}b", kind)
        assert found is not None and f"U+{ord(char):04X} at character 2" in found[1], (kind, char)


def test_multi_line_kinds_keep_tab_and_newlines_only() -> None:
    assert text_problem("one\r\ntwo\tthree", "reason") is None
    assert text_problem("one\x0btwo", "reason") == (
        "control_character",
        "control character U+000B at character 4 is not allowed (tab and newlines are allowed here)",
    )


def test_limits_are_per_kind_and_the_detail_never_repeats_the_value() -> None:
    assert text_problem("x" * 500, "title") is None
    assert text_problem("x" * 501, "title") == ("too_long", "501 characters, more than the 500 allowed")
    with pytest.raises(InvalidText) as raised:
        check_text("listener-secret" * 10, "listener_id", "id")
    assert raised.value.reason == "too_long_in_listener_id" and "secret" not in str(raised.value)
    with pytest.raises(InvalidText, match="expected text, got list"):
        check_text(["a"], "name", "name")
    assert check_text("ok", "name", "name") == "ok"
    assert check_text("Zoë 周杰倫 ♫", "name", "name") == "Zoë 周杰倫 ♫"


def test_what_the_log_cannot_keep_is_found_anywhere_in_an_event() -> None:
    assert storable_problem({"name": "fine\nmulti-line", "shares": {"a": 1}}) is None
    found = storable_problem({"versions": [{"shares": {"p\x00": 1}}]})
    assert found is not None and found.reason == "control_character_in_versions_shares"
    assert escape_controls("a\x00b\x85c\ud800\n") == "a\\x00b\\x85c\\ud800\n"


def test_the_ledger_refuses_to_record_a_control_character_from_any_command(memory_app) -> None:
    app = memory_app
    app.upsert_party("p0", "Zero", ["artist"], "test")
    head = app.head_position()
    with pytest.raises(InvalidText, match=r"name: control character U\+0000"):
        app.upsert_party("p0", "Bad\x00Name", ["artist"], "test")
    with pytest.raises(InvalidText, match=r"reason: character U\+001B cannot be recorded"):
        app.set_party_verification("p0", "verified", "contract\x1b[2J", "test")  # past every way-in check
    assert app.head_position() == head and app.get_party("p0").name == "Zero"
