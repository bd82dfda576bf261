"""schemas/events/ is generated from the event classes; a renamed or changed event must show up there."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("gen_event_schemas", ROOT / "tools" / "gen_event_schemas.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_event_type_has_its_published_json_schema():
    tool = _tool()
    expected = tool.render()
    on_disk = {p.name: p.read_text() for p in (ROOT / "schemas" / "events").glob("*.json")}
    assert set(on_disk) == set(expected), "run .venv/bin/python tools/gen_event_schemas.py"
    stale = [name for name in expected if on_disk[name] != expected[name]]
    assert not stale, f"stale event schemas {stale}: run .venv/bin/python tools/gen_event_schemas.py"


def test_annotations_map_to_json_schema_types():
    tool = _tool()
    assert tool.schema_for("dict[str, int]") == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert tool.schema_for("str | None") == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert tool.schema_for("list[dict[str, str]]")["items"]["additionalProperties"] == {"type": "string"}


def test_a_field_added_later_is_not_required_since_older_events_lack_it():
    documents = _tool().render()
    opened = json.loads(documents["Dispute.Opened.json"])
    assert "standing" in opened["properties"] and "standing" not in opened["required"]
    assert {"claimant", "claimed_ppm", "effective_from"} <= set(opened["required"])
    proposed = json.loads(documents["SplitAgreement.SplitVersionProposed.json"])
    assert "consent_from" in proposed["properties"] and "consent_from" not in proposed["required"]
