"""The dashboard in a real browser: Debian's chromium driven by Playwright (never a browser of
Playwright's own download). One browser for the module, one server, a few pages.

They log in as an artist, see this month's earnings change after an ingest without a reload,
open each chart, download a statement PDF, accept a split proposal as the label, edit a profile
and upload a press image, change a release's prices as its label, prove that one artist cannot
reach or change another's pages by editing the URL, check the overview at phone width and that
every request stays on this server. Screenshots go to ROYALTY_SCREENSHOTS (default
var/screenshots). With CI=true the tests must run; elsewhere they skip when chromium is absent.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
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
from tests.e2e.api_fixtures import ISRC_A, UPC_A, Api
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
        patch.setenv("ROYALTY_MEDIA_BLOB_DIR", str(tmp_path_factory.mktemp("blobs")))
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


def _press_png(width: int = 240, height: int = 160) -> bytes:
    """A visible PNG (a blue-to-orange gradient), so the screenshot shows the image."""
    rows = b"".join(
        b"\0" + b"".join(bytes((255 * x // width, 99 + 60 * y // height, 163 - 120 * x // width)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_artist_edits_its_profile_and_uploads_a_press_image(page_for: Any, served: tuple[str, Api]) -> None:
    _, api = served
    page = page_for("alice-user")
    page.click("header nav >> text=Profile")
    page.fill("#biography-input", "Alice writes songs in Lisbon.\nShe tours in spring.")
    page.fill("#links-input", "Bandcamp https://alice.example/music")
    page.click("#profile-form button[type=submit]")
    page.wait_for_selector("text=Recorded: saved")
    assert "Alice writes songs in Lisbon." in (page.text_content("#biography") or "")
    assert page.get_attribute("#link-list a", "href") == "https://alice.example/music"
    page.set_input_files("#image-input", files=[{"name": "press.png", "mimeType": "image/png", "buffer": _press_png()}])
    page.fill("#caption-input", "On stage")
    page.click("#image-form button[type=submit]")
    page.wait_for_selector("text=Recorded: image added")
    # The confirmation can show before the browser has fetched the image: wait for the fetch to settle.
    # A broken image (or one the CSP refuses) settles through 'error', as 0.
    image = page.locator(".press img").first
    image.wait_for()
    loaded = image.evaluate(
        """img => img.complete ? img.naturalWidth
               : new Promise(done => { img.addEventListener('load', () => done(img.naturalWidth));
                                       img.addEventListener('error', () => done(0)); })"""
    )
    assert loaded == 240  # served by this host, and decoded
    assert (page.text_content(".press figcaption") or "").startswith("On stage")
    assert api.ledger.get_party("alice").profile["images"][0]["content_type"] == "image/png"
    _shot(page, "profile")


def test_label_changes_a_release_price(page_for: Any, served: tuple[str, Api]) -> None:
    _, api = served
    page = page_for("label-user")
    page.goto(f"/releases/{UPC_A}")
    page.fill("#prices-form textarea[name=minimums]", "EUR 4.50")
    page.fill("#prices-form textarea[name=territory_minimums]", "GB EUR 3.00")
    page.fill("#prices-form input[name=reason]", "spring sale")
    page.click("#prices-form button[type=submit]")
    page.wait_for_selector("text=Recorded: prices saved")
    assert page.locator("strong.minimum", has_text="EUR 4.500000").count() == 1
    assert api.ledger.release_prices(UPC_A)["territory_minimums"] == {"GB": {"EUR": 3_000_000}}
    _shot(page, "release-prices")


def test_artist_b_cannot_see_or_change_artist_a_content_by_editing_the_url(
    page_for: Any, served: tuple[str, Api]
) -> None:
    _, api = served
    page = page_for("bob-user")
    response = page.goto("/profile?party=alice")
    assert response is not None and response.status == 404
    page.goto(f"/releases/{UPC_A}")  # bob is on this release, but does not label it
    assert page.locator("#prices-form").count() == 0 and page.locator("#release-details").count() == 0
    token = page.get_attribute("form.logout input[name=csrf_token]", "value")
    before = api.ledger.get_party("alice").profile
    for path, form in (
        ("/profile", {"party": "alice", "biography": "bob was here"}),
        (f"/releases/{UPC_A}/prices", {"minimums": "EUR 0.01"}),
    ):
        answer = page.request.post(path, form={"csrf_token": token or "", **form}, max_redirects=0)
        assert answer.status == 404, path
    assert api.ledger.get_party("alice").profile == before
    assert api.ledger.release_prices(UPC_A)["minimums"].get("EUR") != 10_000
    _shot(page, "release-as-other-artist")
