"""Incidents in the console, in Chromium: a 112 report sent through the signed webhook reaches the
centre's screen within a second (banner, Incidents table, the cameras ringed on the map); the
police responder puts the incident's cameras on the wall, they play, and when the incident
closes the tiles go black saying why; an emergency bell opens its nearest camera on the centre's
screen; a 112 report of a type not on the list shows that no video is provided, and why.

The real API server (uvicorn), the push over its WebSocket, the live tiles through the media
plane (a replayed H.264 sample), and no request leaving 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine

from argus.api.app import create_app
from argus.config import Settings
from argus.incidents.webhook import load_key, sign
from argus.registry.service import Registry
from tests.agreements import bearer
from tests.console.test_console_chromium import browser, database_url
from tests.incidents.world import PASSWORD, POINT, World, build_world
from tests.media.live_server import serve
from tests.media.replay import ReplayFactory

__all__ = ["browser", "database_url"]  # fixtures, used by name
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# the frame's spread of brightness: a picture, not a uniform (black or grey) frame
SPREAD = """(video) => { const c = document.createElement('canvas'); c.width = 64; c.height = 36;
    const g = c.getContext('2d'); g.drawImage(video, 0, 0, 64, 36);
    const px = g.getImageData(0, 0, 64, 36).data; let s = 0, q = 0, n = 0;
    for (let i = 0; i < px.length; i += 4) { s += px[i]; q += px[i] * px[i]; n += 1; }
    return Math.sqrt(q / n - (s / n) ** 2); }"""


@dataclass
class Site:
    base: str
    world: World
    key: bytes

    def webhook(self, incident: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"action": "raise", "incident": incident}).encode()
        headers = {"Content-Type": "application/json", **sign(self.key, body)}
        raised = httpx.post(f"{self.base}/api/incidents/webhook", content=body, headers=headers)
        assert raised.status_code == 201, raised.text
        return dict(raised.json())

    def close(self, incident_id: int, username: str, reason: str) -> None:
        closed = httpx.post(
            f"{self.base}/api/incidents/{incident_id}/close",
            headers=bearer(self.base, username, PASSWORD),
            json={"reason": reason},
        )
        assert closed.status_code == 200, closed.text


@pytest.fixture
def site(settings: Settings, engine: Engine, registry: Registry) -> Iterator[Site]:
    app = create_app(
        settings.model_copy(update={"media_linger": 0.5}),
        engine,
        puller_factory=ReplayFactory(fps=15),
    )
    world = build_world(registry, app)
    with serve(app) as base:
        yield Site(base, world, load_key(settings.data_dir))


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context()
    page = context.new_page()
    hosts: list[str] = []
    page.on("request", lambda r: hosts.append(urlsplit(r.url).hostname or ""))
    page.on("websocket", lambda ws: hosts.append(urlsplit(ws.url).hostname or ""))
    try:
        yield page, hosts
    finally:
        context.close()


def sign_in(page: Page, site: Site, username: str) -> None:
    page.goto(f"{site.base}/console/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_selector("body[data-ready='true']", timeout=10000)
    # the push has said hello: from now on every incident reaches this screen
    page.wait_for_selector("body[data-incidents='ready']", timeout=5000)


def assault(external_id: str) -> dict[str, Any]:
    return {
        "source": "112",
        "type": "assault",
        "at": {"lat": POINT[0], "lon": POINT[1]},
        "title": "초등학교 앞 폭행 신고",
        "external_id": external_id,
    }


def ringed(page: Page) -> list[int]:
    """The cameras the map holds as in use by an incident."""
    value = page.evaluate("() => [...window.argusConsole.inUse.keys()].sort((a, b) => a - b)")
    assert isinstance(value, list)
    return [int(v) for v in value]


def test_a_112_assault_reaches_the_centre_within_a_second(
    site: Site, page: tuple[Page, list[str]]
) -> None:
    tab, hosts = page
    w = site.world
    sign_in(tab, site, "city-operator")
    tab.click("#nav button[data-view='incidents']")  # the table, open while the report comes
    t0 = time.perf_counter()
    incident = site.webhook(assault("112-2026-0101"))
    row = tab.locator(f"#incidents-table tr[data-incident='{incident['id']}']")
    row.wait_for(timeout=1000)
    tab.wait_for_selector(f"#incident-banner[data-incident='{incident['id']}']", timeout=1000)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0, elapsed

    banner = tab.locator("#incident-banner-text").inner_text()
    assert f"New incident: #{incident['id']} 112 assault (폭행)" in banner, banner
    assert "4 cameras for 광주경찰청 112치안종합상황실" in banner, banner
    assert tab.locator("#incident-banner").get_attribute("data-for-you") == "false"
    # the centre sees the incident but the police get the video: no wall button here
    assert tab.locator("#incident-banner-wall").is_hidden()
    cells = row.locator("td")
    assert "112 · assault (폭행) · 초등학교 앞 폭행 신고" in cells.nth(2).inner_text()
    assert cells.nth(3).inner_text().startswith("open")
    assert cells.nth(4).inner_text() == "광주경찰청 112치안종합상황실"
    assert "a listed serious crime" in cells.nth(5).inner_text()
    assert row.get_by_role("button", name="Cameras to the wall").count() == 0

    # the selected cameras are rung as in use by the incident; the far one is not
    selected = sorted(c["camera_id"] for c in incident["cameras"])
    assert selected == sorted([w.facing, w.away, w.ptz, w.city_cam])
    assert ringed(tab) == selected
    assert tab.evaluate("(id) => window.argusIncidents.circles.has(id)", incident["id"])
    tab.click("#incident-banner-show")  # to the map, at the incident
    tab.select_option("#f-status", "incident")
    assert tab.get_attribute("#count", "data-count") == "4"
    # close enough that no camera is clustered: each one is drawn with the incident's ring
    tab.evaluate(f"() => {{ window.argusConsole.map.setView([{POINT[0]}, {POINT[1]}], 18); }}")
    tab.select_option("#f-status", "")
    tab.wait_for_function(
        "(ids) => ids.every((id) => window.argusConsole.layer.drawn.some("
        "(d) => d.item.properties.id === id && d.status === 'incident'))",
        arg=[w.facing, w.away],
        timeout=3000,
    )
    statuses = tab.evaluate(
        "() => Object.fromEntries(window.argusConsole.layer.drawn"
        ".filter((d) => !d.item.properties.cluster).map((d) => [d.item.properties.id, d.status]))"
    )
    assert statuses[str(w.facing)] == "incident" and statuses[str(w.away)] == "incident"
    assert str(w.far) not in statuses or statuses[str(w.far)] != "incident"
    assert set(hosts) == {"127.0.0.1"}, hosts


def tiles_playing(tab: Page, count: int) -> None:
    tab.wait_for_function(
        "(n) => { const v = [...document.querySelectorAll('#wall .tile video')].slice(0, n);"
        " return v.length === n && v.every((x) => x.currentTime > 0.5)"
        " && [...Array(n).keys()].every((i) => window.argusStats[100 + i].frames > 5); }",
        arg=count,
        timeout=12000,
    )


def test_the_police_put_the_incident_on_the_wall_and_closing_blacks_it_out(
    site: Site, page: tuple[Page, list[str]]
) -> None:
    tab, hosts = page
    sign_in(tab, site, "police-112")
    incident = site.webhook(assault("112-2026-0102"))
    tab.wait_for_selector(f"#incident-banner[data-incident='{incident['id']}']", timeout=1000)
    assert tab.locator("#incident-banner").get_attribute("data-for-you") == "true"
    cameras = [c["camera_id"] for c in incident["cameras"]]
    assert len(cameras) == 4
    tab.click("#incident-banner-wall")  # "Cameras to the wall"
    tab.wait_for_selector("#wall[data-ready='true']", timeout=5000)
    assert tab.locator("#view-wall").is_visible()
    assert tab.locator("#wall .tile").count() == 4
    tiles_playing(tab, 4)
    on_wall = tab.evaluate("() => [0, 1, 2, 3].map((i) => window.argusStats[100 + i].camera)")
    assert on_wall == cameras  # in the incident's order: the best placed first
    assert tab.evaluate("() => window.argusWall.purpose") == "crime_prevention"
    spread = tab.evaluate(SPREAD, tab.locator("#wall .tile video").first.element_handle())
    assert spread > 5, spread
    assert f"incident #{incident['id']}" in tab.locator("#wall-status").inner_text()

    t0 = time.perf_counter()
    site.close(incident["id"], "police-112", "상황 종료")
    tab.wait_for_function(
        "() => [0, 1, 2, 3].every((i) => window.argusStats[100 + i].state === 'closed')",
        timeout=3000,
    )
    elapsed = time.perf_counter() - t0
    assert elapsed < 2.0, elapsed
    why = f"incident {incident['id']} was closed"
    for i in range(4):
        tile = tab.locator(f"#wall .tile[data-tile='{i}']")
        assert why in tile.locator(".overlay").inner_text()  # said on the black screen
        assert why in tile.locator(".status").inner_text()
        stats = tab.evaluate(f"() => window.argusStats[{100 + i}]")
        assert stats["closedCode"] == 4403, stats
    # black: the video is gone from every tile, not frozen on its last frame
    assert tab.evaluate(
        "() => [...document.querySelectorAll('#wall .tile video')]"
        ".every((v) => !v.getAttribute('src') && v.readyState === 0)"
    )
    # the banner says it is over, and the map no longer rings its cameras
    tab.wait_for_selector("#incident-banner[data-change='closed']", timeout=2000)
    closed = tab.locator("#incident-banner-text").inner_text()
    assert "Incident closed" in closed and "video ended (상황 종료)" in closed, closed
    assert tab.locator("#incident-banner-wall").is_hidden()
    assert ringed(tab) == []
    assert set(hosts) == {"127.0.0.1"}, hosts


def test_an_emergency_bell_opens_its_nearest_camera_on_the_centre_screen(
    site: Site, page: tuple[Page, list[str]]
) -> None:
    tab, hosts = page
    sign_in(tab, site, "city-operator")
    tab.click("#nav button[data-view='incidents']")  # the operator is looking elsewhere
    assert tab.locator("#panel").is_hidden()
    incident = site.webhook(
        {
            "source": "emergency_bell",
            "type": "emergency_bell",
            "at": {"lat": POINT[0], "lon": POINT[1]},
            "external_id": "bell-17-20261203T1502",
        }
    )
    nearest = incident["cameras"][0]["camera_id"]
    tab.wait_for_selector("#panel", state="visible", timeout=1000)
    assert tab.locator("#view-map").is_visible()
    assert tab.locator("#panel-title").inner_text() == f"Camera #{nearest}"
    assert tab.evaluate("() => window.argusConsole.selected.id") == nearest
    assert "emergency_bell" in tab.locator("#incident-banner-text").inner_text()
    assert tab.locator("#incident-banner").get_attribute("data-for-you") == "true"
    assert set(hosts) == {"127.0.0.1"}, hosts


def test_a_112_report_of_an_unlisted_type_shows_no_video_and_why(
    site: Site, page: tuple[Page, list[str]]
) -> None:
    tab, hosts = page
    sign_in(tab, site, "police-112")
    tab.click("#nav button[data-view='incidents']")
    incident = site.webhook(
        {
            "source": "112",
            "type": "fraud",
            "at": {"lat": POINT[0], "lon": POINT[1]},
            "external_id": "112-2026-0103",
        }
    )
    assert incident["provides"] is False and incident["cameras"] == []
    why = "112 video is provided only for the listed serious crimes"
    tab.wait_for_selector(f"#incident-banner[data-incident='{incident['id']}']", timeout=1000)
    banner = tab.locator("#incident-banner-text").inner_text()
    assert "no video: " + why in banner and "fraud (사기) is not one of them" in banner, banner
    assert tab.locator("#incident-banner-wall").is_hidden()  # nothing to put on the wall
    row = tab.locator(f"#incidents-table tr[data-incident='{incident['id']}']")
    row.wait_for(timeout=1000)
    video = row.locator("td").nth(5).inner_text()
    assert video.startswith("no video: " + why) and "fraud" in video, video
    assert row.get_by_role("button", name="Cameras to the wall").count() == 0
    assert ringed(tab) == []
    assert set(hosts) == {"127.0.0.1"}, hosts
