"""`royalty project`, `royalty earnings` and `royalty stats` as a user types them."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.application import RoyaltyLedger
from tests.e2e.cli_runner import royalty, royalty_json
from tests.integration.projection_fixtures import ISRCS, record_some_plays, seed_catalogue


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
