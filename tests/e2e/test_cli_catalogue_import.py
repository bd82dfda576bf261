"""`royalty catalogue import`, `review` and `parties` as an operator types them."""

import json
from pathlib import Path

from tests.e2e.cli_runner import royalty, royalty_json

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ern"


def test_import_a_folder_review_verify_and_reimport(sqlite_config, tmp_path):
    reports = tmp_path / "reports"
    folder = tmp_path / "delivery"  # the top-level fixtures (versions/ has its own tests)
    folder.mkdir()
    for fixture in FIXTURES.glob("*.xml"):
        (folder / fixture.name).write_bytes(fixture.read_bytes())
    result = royalty(
        sqlite_config, "catalogue", "import", str(folder), "--report-dir", str(reports), "--json", cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr  # the malicious and malformed fixtures are refused
    doc = json.loads(result.stdout)
    assert doc["counts"]["accepted"] >= 6 and doc["counts"]["files_refused"] >= 4
    assert (reports / "import-report.json").exists() and (reports / "import-report.csv").exists()
    queue = royalty_json(sqlite_config, "review", "list", cwd=tmp_path)["in_review"]
    by_sender = {r["delivered_by"] for r in queue}
    assert by_sender == {"northern-lights-distribution", "estuary-music-group"}
    rejected = royalty_json(sqlite_config, "review", "reject", "5012345678948", "--reason", "no artwork", cwd=tmp_path)
    assert rejected["status"] == "rejected" and rejected["decision"]["reason"] == "no artwork"
    verified = royalty_json(
        sqlite_config, "parties", "verify", "northern-lights-distribution", "--reason", "contract signed", cwd=tmp_path
    )
    assert "5012345678917" in verified["approved_releases"]
    parties = royalty_json(sqlite_config, "parties", "list", cwd=tmp_path)["parties"]
    assert {p["key"]: p["verification"] for p in parties}["northern-lights-distribution"] == "verified"
    good = [str(FIXTURES / n) for n in ("ern43_single.xml", "ern43_album.xml")]
    again = royalty_json(sqlite_config, "catalogue", "import", *good, cwd=tmp_path)
    assert again["counts"]["unchanged"] == 2 and again["ok"] is True


def test_import_shows_a_summary_and_fails_clearly_on_a_missing_path(sqlite_config, tmp_path):
    text = royalty(sqlite_config, "catalogue", "import", str(FIXTURES / "ern43_single.xml"), cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "accepted (new)" in text.stdout and "waiting in review" in text.stdout
    missing = royalty(sqlite_config, "catalogue", "import", str(tmp_path / "nope.xml"), "--json", cwd=tmp_path)
    assert missing.returncode == 1 and "no such file" in json.loads(missing.stdout)["error"]


def test_a_release_without_icpn_is_shown_by_its_grid_and_review_says_why(sqlite_config, tmp_path):
    versions = FIXTURES / "versions"
    files = [str(versions / n) for n in ("ern43_mix.xml", "ern382_review.xml")]
    imported = royalty_json(sqlite_config, "catalogue", "import", *files, cwd=tmp_path)
    assert imported["counts"]["accepted"] == 2
    mix = royalty_json(sqlite_config, "catalogue", "show", "GRID:A12425GMRD07000018", "--json", cwd=tmp_path)
    assert (mix["type"], mix["delivered_types"], str(mix["release_date"])) == ("dj_mix", ["DjMix"], "2025-04-04")
    assert mix["identifiers"] == ["DPID:PADPIDA2023061501M:MRD-MIX-43", "GRID:A12425GMRD07000018"]
    assert [d["use_types"] for d in mix["deals"]] == [["OnDemandStream"]]
    queue = royalty_json(sqlite_config, "review", "list", cwd=tmp_path)["in_review"]
    undated = next(r for r in queue if r["upc"] == "5060020000034")
    assert [r.split(":")[0] for r in undated["reasons"]] == ["ReleaseList/Release[1]"] * 2
    assert "no release date" in undated["reasons"][0]
