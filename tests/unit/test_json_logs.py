"""Structured logs: each record is one JSON object with its time, level, logger, message and extras."""

import json
import logging

from operations.logs import JsonFormatter


def test_a_record_is_one_json_line_with_its_extra_fields() -> None:
    record = logging.LogRecord(
        "royalty.scheduler", logging.WARNING, __file__, 1, "job %s %s", ("close", "2026-11"), None
    )
    record.__dict__.update({"job": "close", "outcome": {"as_of_position": 42}})
    line = JsonFormatter().format(record)
    assert "\n" not in line
    doc = json.loads(line)
    assert (doc["level"], doc["logger"], doc["msg"]) == ("warning", "royalty.scheduler", "job close 2026-11")
    assert doc["job"] == "close" and doc["outcome"] == {"as_of_position": 42} and doc["ts"].endswith("+00:00")
    assert "args" not in doc and "levelno" not in doc
