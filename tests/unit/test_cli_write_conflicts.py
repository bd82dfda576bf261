"""A CLI write that loses the race for its record is decided again, as the API's are; one that
keeps losing exits non-zero with `write-conflict` (409) and a retry hint, recording nothing.

The race itself is the store's IntegrityError (two writers recording one aggregate's next
version); here the write function raises it, so the retry rule is tested on its own (the API's
rule has its concurrent test in tests/e2e)."""

from __future__ import annotations

import json

import pytest
import typer
from eventsourcing.persistence import IntegrityError
from pydantic import BaseModel

from api.conflicts import ATTEMPTS
from cli import writes


class Answer(BaseModel):
    party: str


def test_a_write_that_loses_a_race_is_decided_again(capsys: pytest.CaptureFixture[str]) -> None:
    calls = []

    def write() -> Answer:
        calls.append(1)
        if len(calls) < 3:
            raise IntegrityError("duplicate key: originator version taken")
        return Answer(party="p0")

    doc = writes.perform(True, write, lambda d: d["party"])
    assert len(calls) == 3 and doc == {"ok": True, "party": "p0"}
    assert json.loads(capsys.readouterr().out) == doc


def test_a_write_that_keeps_losing_exits_with_write_conflict(capsys: pytest.CaptureFixture[str]) -> None:
    calls = []

    def write() -> Answer:
        calls.append(1)
        raise IntegrityError("duplicate key: originator version taken")

    with pytest.raises(typer.Exit) as exited:
        writes.perform(True, write, lambda d: d["party"])
    assert exited.value.exit_code != 0 and len(calls) == ATTEMPTS
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["type"] == "write-conflict" and out["status"] == 409
    assert out["retry_after_s"] >= 1 and "nothing of this request was recorded" in out["error"]
