"""The dashboard in a real browser: Debian's chromium driven by Playwright (never a browser of
Playwright's own download). One browser for the module, one server, a few pages.

They log in as an artist, see this month's earnings change after an ingest without a reload,
open each chart, download a statement PDF, accept a split proposal as the label, prove that
one artist cannot reach another's pages by editing the URL, check the overview at phone width
and that every request stays on this server. Screenshots go to ROYALTY_SCREENSHOTS (default
var/screenshots). With CI=true the tests must run; elsewhere they skip when chromium is absent.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from argon2 import PasswordHasher, profiles

from api import auth
from api.app import create_app
from api.deps import ApiSettings
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations
from tests.e2e.api_fixtures import ISRC_A, Api
from tests.e2e.dashboard_fixtures import PASSWORD, report_plays, seed_dashboard, wait_projected
from tests.e2e.live_server import live_server

CHROMIUM = os.environ.get("ROYALTY_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("ROYALTY_SCREENSHOTS", "var/screenshots"))
IN_CI = os.environ.get("CI") == "true"


def _need_browser() -> Any:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        if IN_CI:
            pytest.fail(f"CI=true: chromium is required at {CHROMIUM} (the Makefile's setup installs it)")
        pytest.skip(f"chromium is not installed ({CHROMIUM}); `make setup` as root installs it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI:
            pytest.fail("CI=true: playwright (a dev dependency) is required")
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    return sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _need_browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=["--no-sandbox", "--disable-dev-shm-usage"] if os.geteuid() == 0 else [],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Api]]:
    """A live server on a seeded SQLite store, its in-process projector following the log."""
    config = StoreConfig.from_url(str(tmp_path_factory.mktemp("dashboard") / "royalty.db"))
    apply_migrations(config)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ROYALTY_LISTENER_SECRET", "browser-test-listener-secret-0123456789")
        patch.setattr(auth, "_HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
        app = create_app(config, projector=True, settings=ApiSettings(read_wait_s=20))
        with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            api = Api(client, app.state.ledger)  # type: ignore[arg-type]
            now = api.ledger.clock()
            seed_dashboard(api, now)
            wait_projected(api.ledger, report_plays(api, now, first=100, count=2))
            yield url, api


@pytest.fixture
def page_for(browser: Any, served: tuple[str, Api]) -> Iterator[Any]:
    """A fresh browser context per user (its own cookies), closed after the test."""
    url, _ = served
    contexts: list[Any] = []
    foreign: list[str] = []

    def open_as(username: str, *, width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(base_url=url, viewport={"width": width, "height": height}, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda r: foreign.append(r.url) if _origin(r.url) not in (_origin(url), "data:") else None)
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/")
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert foreign == [], f"requests to other hosts: {foreign}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return "data:" if parts.scheme == "data" else f"{parts.scheme}://{parts.netloc}"


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_artist_sees_earnings_change_after_an_ingest_without_reloading(page_for: Any, served: tuple[str, Api]) -> None:
    _, api = served
    page = page_for("alice-user")
    before = page.text_content("#live-month")
    assert before and "EUR" in before
    _shot(page, "overview")
    page.evaluate("window.__same_document = true")
    report_plays(api, api.ledger.clock(), first=200, count=6)
    page.wait_for_function(
        "(before) => document.getElementById('live-month').textContent !== before", arg=before, timeout=20_000
    )
    assert page.evaluate("window.__same_document") is True  # no reload happened
    for by in ("week", "month", "year", "day"):
        page.click(f"nav.tabs >> text={by}")
        page.wait_for_url(f"**by={by}")
        assert page.locator("svg.chart").count() == 1
        assert page.locator("table caption", has_text=f"Earnings per {by}").count() == 1
        _shot(page, f"overview-{by}")
    assert page.locator("svg.pie").count() == 3


def test_statement_pdf_downloads(page_for: Any) -> None:
    page = page_for("alice-user")
    page.click("text=Statements")
    _shot(page, "statements")
    with page.expect_download() as caught:
        page.locator("a", has_text="PDF").first.click()
    path = caught.value.path()
    assert Path(path).read_bytes()[:5] == b"%PDF-"


def test_label_accepts_a_split_proposal(page_for: Any, served: tuple[str, Api]) -> None:
    _, api = served
    page = page_for("label-user")
    page.click("text=Splits & credits")
    _shot(page, "splits")
    page.locator("article.proposal", has_text="new deal").locator("button", has_text="Accept").click()
    page.wait_for_selector("text=Recorded: accept")
    history = api.ledger.find_split("master", ISRC_A)
    assert history is not None and history.get_version(2)["status"] == "active"
    page.goto(f"/recordings/{ISRC_A}")
    assert page.locator("td", has_text="user:label-user/label").count() >= 1
    _shot(page, "recording-trail")


def test_artist_b_cannot_reach_artist_a_by_editing_the_url(page_for: Any) -> None:
    page = page_for("bob-user")
    for path in ("/?party=alice", f"/recordings/{ISRC_A}", "/people/alice", "/statements?party=alice"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
    page.goto("/catalogue")
    assert ISRC_A not in page.content()
    _shot(page, "catalogue")


def test_overview_fits_a_phone(page_for: Any) -> None:
    page = page_for("alice-user", width=375, height=740)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(page, "overview-phone")
