"""Live video in the browser when media worker processes serve the cameras, as `make demo` and
`argus serve` run them: the page asks where the camera is served and opens the WebSocket there
(the worker's port on the same host, which the page's policy allows), for the console and the
example player alike. Real simulator over RTSP, real worker processes, real Chromium."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine

from argus.api.app import create_app
from argus.config import Settings
from argus.media.simulator import Simulator
from argus.media.workers.plan import WorkerPlan
from argus.registry.service import Registry
from tests.console.test_console_chromium import browser, database_url
from tests.media.live_server import serve
from tests.media.test_media_e2e import PASSWORD, clip_cache, free_port_pair, make_world, simulator

__all__ = ["browser", "clip_cache", "database_url", "simulator"]  # fixtures, used by name
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.slow]


@pytest.fixture
def served(
    settings: Settings, engine: Engine, registry: Registry, simulator: Simulator
) -> Iterator[tuple[str, int]]:
    plan = WorkerPlan(2, "127.0.0.1", free_port_pair())
    app = create_app(
        settings.model_copy(update={"media_worker_port": plan.base_port}), engine, workers=plan
    )
    cameras = make_world(registry, app, simulator)
    with serve(app) as base:
        deadline = time.monotonic() + 60
        while not all(w.ready.is_set() for w in app.state.media_front.workers):
            assert time.monotonic() < deadline, "media workers did not start"
            time.sleep(0.2)
        yield base, cameras["good"]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def test_the_console_plays_a_camera_served_by_a_media_worker(
    served: tuple[str, int], page: Page
) -> None:
    base, camera = served
    page.goto(f"{base}/console/")
    page.fill("#username", "operator")
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_selector("body[data-ready='true']", timeout=10000)
    page.fill("#search", f"#{camera}")
    page.click("#search-form button")
    page.click(".leaflet-popup-content .popup-open")
    page.select_option("#purpose", "crime_prevention")
    page.click("#open-live")
    page.wait_for_function(
        "() => document.querySelector('#panel-tile video').currentTime > 0.5", timeout=20000
    )
    # the tile says so once its first frame is painted (on a loaded machine a moment after
    # the video's clock has moved)
    page.wait_for_function(
        "() => /live|behind/.test(document.querySelector('#panel-tile .status').textContent)",
        timeout=10000,
    )


def test_the_example_player_plays_a_camera_served_by_a_media_worker(
    served: tuple[str, int], page: Page
) -> None:
    base, camera = served
    page.goto(f"{base}/player/")
    page.fill("#username", "operator")
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_selector("#open-panel", state="visible", timeout=5000)
    page.select_option("#purpose", "crime_prevention")
    page.fill("#camera-id", str(camera))
    page.click("#open")
    page.wait_for_function(
        "() => document.querySelector('.tile video').currentTime > 0.5", timeout=20000
    )
