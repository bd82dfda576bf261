"""`royalty project`, `royalty earnings` and `royalty stats` as a user types them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ledger.application import RoyaltyLedger
from tests.e2e.cli_runner import royalty, royalty_json
from tests.integration.projection_fixtures import ISRCS, UPC, record_some_plays, seed_catalogue


def test_project_then_read_earnings_and_stats_with_charts(store_config, tmp_path):
    app = RoyaltyLedger(store_config)
    try:
        seed_catalogue(app)
        app.set_rights_pie(
            {"*:*": {"platform": 300_000, "master": 500_000, "publishing": 200_000}},
            datetime(2025, 1, 1, tzinfo=UTC),
            "initial",
            "test",
        )
        record_some_plays(app, batches=3, per_batch=100)
        head = app.head_position()
    finally:
        app.close()

    projected = royalty_json(store_config, "project")
    assert (projected["folded_positions"], projected["behind"]) == (head, 0)

    png = tmp_path / "earnings.png"
    earned = royalty_json(store_config, "earnings", "aria", "--by", "recording", "--png", str(png))
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    assert {line["recording"] for line in earned["lines"]} <= set(ISRCS)
    (balance,) = earned["balance"]
    assert balance["balance_micros"] == earned["totals_micros"]["EUR"] > 0

    stats = royalty_json(
        store_config,
        "stats",
        ISRCS[0],
        "--by",
        "hour",
        "--start",
        "2026-01-02T00:00:00Z",
        "--end",
        "2026-01-03T00:00:00Z",
    )
    assert len(stats["series"]) <= 24
    assert all(p["bucket"].startswith("2026-01-02T") for p in stats["series"])

    chart = royalty(store_config, "stats", ISRCS[0], "--by", "day", "--chart")
    assert chart.returncode == 0, chart.stderr
    assert "plays per day" in chart.stdout and "█" in chart.stdout

    rebuilt = royalty_json(store_config, "project", "rebuild", "stats")
    assert rebuilt["rebuilt"] == {"stats": head}
    assert royalty_json(store_config, "project", "lag")["behind"] == 0


def test_stats_by_week_and_year_for_a_release_grouped_and_ranked(sqlite_config):
    # The CLI's options on one backend; the queries run on both in tests/integration.
    store_config = sqlite_config
    app = RoyaltyLedger(store_config)
    try:
        seed_catalogue(app)
        record_some_plays(app, batches=1, per_batch=120)
    finally:
        app.close()
    royalty_json(store_config, "project")
    weekly = royalty_json(store_config, "stats", UPC, "--by", "week")
    assert weekly["upc"] == UPC and weekly["total_plays"] > 0
    assert all(datetime.fromisoformat(p["bucket"]).weekday() == 0 for p in weekly["series"])
    yearly = royalty_json(
        store_config, "stats", "--party", "aria", "--by", "year", "--group", "territory", "--top", "2"
    )
    assert [p["bucket"] for p in yearly["series"]][:1] == ["2026"] and len(yearly["ranking"]) == 2
    by_source = royalty(store_config, "stats", "--by", "month", "--group", "source")
    assert by_source.returncode == 0 and "player" in by_source.stdout
    found = royalty_json(store_config, "catalogue", "search", "recordings", "--credit", "aria", "--limit", "2")
    assert len(found["items"]) == 2 and found["next_cursor"]
    rest = royalty_json(store_config, "catalogue", "search", "recordings", "--cursor", found["next_cursor"])
    assert [i["isrc"] for i in rest["items"]] == sorted(ISRCS)[2:]


def test_unknown_party_recording_or_upc_is_an_error_not_an_empty_table(sqlite_config):
    store_config = sqlite_config
    app = RoyaltyLedger(store_config)
    try:
        seed_catalogue(app)
    finally:
        app.close()
    royalty_json(store_config, "project")
    for args, needle in (
        (("earnings", "nobody"), "unknown party"),
        (("stats", "036000291469"), "unknown release"),
        (("stats", "USRC17699999"), "unknown recording"),
        (("stats", "--party", "nobody"), "unknown party"),
        (("stats", "--by", "fortnight"), "fortnight"),
        (("stats", "--start", "2026-01-02T00:00:00Z", "--end", "2026-01-01T00:00:00Z"), "is not before end"),
        (("earnings", "aria", "--by", "hour"), "hour"),
        (("catalogue", "search", "songs"), "songs"),
    ):
        result = royalty(store_config, *args)
        assert result.returncode != 0, args
        assert needle in result.stderr, (args, result.stderr)
    # Not a code at all: a non-zero exit naming what was typed, quotes intact.
    unknown = royalty(store_config, "stats", "XX123", "--json")
    assert unknown.returncode != 0
    assert json.loads(unknown.stdout)["error"] == "'XX123' is neither an ISRC (12 characters) nor a UPC (12–14 digits)"
