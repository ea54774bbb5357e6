"""The console's video wall in Chromium: layouts, a camera dragged onto a tile and playing, the
wall saved for the user and back after signing in again, a sequence cycling cameras in a tile,
the keys, and the camera panel sending a camera to the wall."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine

from argus.api.app import create_app
from argus.config import Settings
from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose
from tests.console.test_console_chromium import browser, database_url
from tests.media.live_server import serve
from tests.media.replay import ReplayFactory

__all__ = ["browser", "database_url"]  # fixtures, used by name
PASSWORD = "Gwangju-2026!"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class World:
    base: str
    cameras: list[int]


@pytest.fixture
def world(settings: Settings, engine: Engine, registry: Registry) -> Iterator[World]:
    buk = registry.create_agency(
        AgencyCreate(name="광주광역시 북구", kind=AgencyKind.DISTRICT, district="북구")
    ).id
    cameras = []
    for n in range(3):
        site = registry.create_site(
            SiteCreate(owner_id=buk, lat=35.174 + n * 1e-3, lon=126.912, district="북구")
        )
        cameras.append(
            registry.create_camera(
                CameraCreate(
                    site_id=site.id,
                    purpose=Purpose.TRAFFIC_ENFORCEMENT,
                    main_stream_url=f"rtsp://127.0.0.1:8554/cameras/{n}/main",
                )
            ).id
        )
    app = create_app(
        settings.model_copy(update={"media_linger": 0.5}), engine, puller_factory=ReplayFactory()
    )
    app.state.identity.users.create_user(
        Console("test"),
        UserCreate(
            username="buk-operator", agency_id=buk, roles=[Role.OPERATOR], password=PASSWORD
        ),
    )
    with serve(app) as base:
        yield World(base, cameras)


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context()
    page = context.new_page()
    hosts: list[str] = []
    page.on("request", lambda r: hosts.append(urlsplit(r.url).hostname or ""))
    try:
        yield page, hosts
    finally:
        context.close()


def to_wall(page: Page, world: World) -> None:
    page.goto(f"{world.base}/console/")
    page.fill("#username", "buk-operator")
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_selector("body[data-ready='true']", timeout=10000)
    page.click("#nav button[data-view='wall']")
    page.wait_for_selector("#wall[data-ready='true']", timeout=5000)


def playing(page: Page, tile: int) -> None:
    page.wait_for_function(
        f"() => {{ const v = document.querySelectorAll('#wall .tile video')[{tile}];"
        " return v && v.currentTime > 0.5; }",
        timeout=10000,
    )


def saved(page: Page) -> None:
    before = page.get_attribute("#wall-status", "data-saved")
    page.wait_for_function(
        f"() => (document.querySelector('#wall-status').dataset.saved ?? null)"
        f" !== {json.dumps(before)}",
        timeout=5000,
    )


def test_drag_a_camera_onto_a_tile_and_find_the_wall_again(
    world: World, page: tuple[Page, list[str]]
) -> None:
    tab, hosts = page
    to_wall(tab, world)
    assert tab.locator("#wall .tile").count() == 4
    first = world.cameras[0]
    tab.fill("#wall-search", f"#{first}")
    tab.click("#wall-search-form button")
    empty_box = tab.locator("#wall .tile[data-tile='1']").bounding_box()
    tab.drag_and_drop(f"#wall-results li[data-camera='{first}']", "#wall .tile[data-tile='1']")
    playing(tab, 1)
    # no layout shift when the video starts: the tile keeps its place and size
    assert tab.locator("#wall .tile[data-tile='1']").bounding_box() == empty_box
    assert tab.evaluate("() => window.argusStats[101].camera") == first
    tab.keyboard.press("3")  # the 3x3 layout
    assert tab.locator("#wall .tile").count() == 9
    saved(tab)
    # a new sign-in finds the same wall
    to_wall(tab, world)
    assert tab.locator("#wall .tile").count() == 9
    assert tab.evaluate("() => window.argusWall.cameras.slice(0, 9)")[1] == first
    playing(tab, 1)
    # keys: the focus moves, Delete empties the tile
    tab.locator("#wall .tile[data-tile='0']").focus()
    tab.keyboard.press("ArrowRight")
    assert tab.evaluate("() => window.argusWall.focus") == 1
    tab.keyboard.press("Delete")
    assert tab.evaluate("() => window.argusWall.cameras[1]") is None
    assert "empt" in tab.locator("#wall .tile[data-tile='1']").inner_text()
    assert set(hosts) == {"127.0.0.1"}, hosts


def test_a_sequence_cycles_cameras_in_the_focused_tile(
    world: World, page: tuple[Page, list[str]]
) -> None:
    tab, _ = page
    to_wall(tab, world)
    tab.locator("#wall .tile[data-tile='2']").focus()
    second, third = world.cameras[1], world.cameras[2]
    tab.fill("#sequence-cameras", f"{second}, {third}")
    tab.fill("#sequence-seconds", "3")
    tab.click("#sequence-start")
    tab.wait_for_function(f"() => window.argusStats[102].camera === {second}", timeout=3000)
    playing(tab, 2)
    tab.wait_for_function(f"() => window.argusStats[102].camera === {third}", timeout=6000)
    playing(tab, 2)
    tab.click("#sequence-stop")
    assert "stopped" in tab.locator("#wall-status").inner_text()


def test_the_camera_panel_sends_a_camera_to_the_wall(
    world: World, page: tuple[Page, list[str]]
) -> None:
    tab, _ = page
    to_wall(tab, world)
    tab.click("#nav button[data-view='map']")
    third = world.cameras[2]
    tab.fill("#search", f"#{third}")
    tab.click("#search-form button")
    tab.click(".leaflet-popup-content .popup-open")
    tab.click("#to-wall")
    assert "tile 1" in tab.locator("#panel-status").inner_text()
    tab.click("#nav button[data-view='wall']")
    playing(tab, 0)
    assert tab.evaluate("() => window.argusStats[100].camera") == third
