"""Times in request bodies are ISO 8601 text in UTC, as the docs say — never a bare number.

pydantic alone reads `1767225600` (or "1767225600") as Unix seconds for a datetime and a date;
the API refuses it with 422 naming the field (issue 15, finding 7).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.api_fixtures import ISRC_A, UPC_A, Api, seed_catalogue

NOT_TEXT: list[Any] = [1767225600, "1767225600", 1767225600.0, True, "2026-01-01 00:00:00Z", "2026-01-01"]


@pytest.fixture
def admin(sqlite_api: Api) -> dict[str, str]:
    headers = sqlite_api.key("admin")
    seed_catalogue(sqlite_api, headers)
    return headers


def _refused(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert "ISO 8601" in r.json()["errors"][0]["reason"]


@pytest.mark.parametrize("value", NOT_TEXT)
def test_a_takedown_effective_at_that_is_not_iso_text_is_refused(
    sqlite_api: Api, admin: dict[str, str], value: Any
) -> None:
    for path in (f"/v1/recordings/{ISRC_A}/takedowns", f"/v1/releases/{UPC_A}/takedowns"):
        r = sqlite_api.client.post(path, json={"reason": "rights lapsed", "effective_at": value}, headers=admin)
        _refused(r, "body.effective_at")


@pytest.mark.parametrize("value", NOT_TEXT)
def test_a_split_effective_from_that_is_not_iso_text_is_refused(
    sqlite_api: Api, admin: dict[str, str], value: Any
) -> None:
    body = {"shares": {"alice": 1_000_000}, "effective_from": value, "reason": "correction"}
    _refused(
        sqlite_api.client.post(f"/v1/splits/master/{ISRC_A}/versions", json=body, headers=admin), "body.effective_from"
    )


@pytest.mark.parametrize("value", [20000, "20000", "2026-01-01T00:00:00Z"])
def test_a_release_date_that_is_not_an_iso_date_is_refused(sqlite_api: Api, admin: dict[str, str], value: Any) -> None:
    body = {"title": "Album", "track_isrcs": [ISRC_A], "release_date": value}
    _refused(sqlite_api.client.put("/v1/releases/5012345678900", json=body, headers=admin), "body.release_date")


def test_iso_text_in_utc_is_accepted(sqlite_api: Api, admin: dict[str, str]) -> None:
    r = sqlite_api.client.post(
        f"/v1/recordings/{ISRC_A}/takedowns",
        json={"reason": "rights lapsed", "effective_at": "2026-03-01T00:00:00Z"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["availability"][-1]["effective_at"] == "2026-03-01T00:00:00Z"
    stats = sqlite_api.client.get(
        f"/v1/recordings/{ISRC_A}/stats", params={"start": "2026-01-01T00:00:00Z"}, headers=admin
    )
    assert stats.status_code == 200, stats.text


@pytest.mark.parametrize("end", ["2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"])
def test_a_stats_window_whose_start_is_not_before_its_end_is_refused(
    sqlite_api: Api, admin: dict[str, str], end: str
) -> None:
    window = {"start": "2026-01-02T00:00:00Z", "end": end}
    for path, params in ((f"/v1/recordings/{ISRC_A}/stats", window), ("/v1/stats", window)):
        r = sqlite_api.client.get(path, params=params, headers=admin)
        assert r.status_code == 422, (path, r.text)
        assert "is not before end" in r.json()["detail"], r.text
    ok = sqlite_api.client.get(
        f"/v1/recordings/{ISRC_A}/stats", params={"start": end, "end": "2026-01-03T00:00:00Z"}, headers=admin
    )
    assert ok.status_code == 200, ok.text
