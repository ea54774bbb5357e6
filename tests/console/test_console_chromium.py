"""The console's map in Chromium, end to end: the real API server (uvicorn), the page signed in
through its form, the cameras from the registry API, Gwangju's boundaries served by Argus, and
not one request leaving 127.0.0.1.

Debian's chromium, driven by Playwright (never a downloaded browser); `make test` installs it and
the console's browser libraries (npm ci in web/)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
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
from tests.media.live_server import serve
from tests.media.replay import ReplayFactory
from tests.media.test_player_chromium import browser, database_url

__all__ = ["browser", "database_url"]  # the player tests' fixtures, used by name

PASSWORD = "Gwangju-2026!"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class World:
    base: str
    buk: int
    buk_cameras: int
    seo_cameras: int
    enforcement: int
    named: int  # a camera with a road address to search for
    live_camera: int  # 북구's, with a (replayed) stream


@pytest.fixture
def world(settings: Settings, engine: Engine, registry: Registry) -> Iterator[World]:
    app = create_app(
        settings.model_copy(update={"media_linger": 0.5}),
        engine,
        puller_factory=ReplayFactory(fps=15),
    )
    city = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    buk = registry.create_agency(
        AgencyCreate(
            name="광주광역시 북구", kind=AgencyKind.DISTRICT, parent_id=city, district="북구"
        )
    ).id
    named = 0
    for n in range(5):
        site = registry.create_site(
            SiteCreate(
                owner_id=city,
                lat=35.152 + n * 1e-3,
                lon=126.890,
                district="서구",
                road_address=f"광주광역시 서구 상무대로 {100 + n}",
            )
        ).id
        camera = registry.create_camera(
            CameraCreate(site_id=site, purpose=Purpose.CRIME_PREVENTION)
        )
        named = named or camera.id
    for n in range(7):
        site = registry.create_site(
            SiteCreate(owner_id=buk, lat=35.174 + n * 2e-3, lon=126.912, district="북구")
        ).id
        buk_camera = registry.create_camera(
            CameraCreate(
                site_id=site,
                purpose=Purpose.TRAFFIC_ENFORCEMENT if n < 4 else Purpose.CRIME_PREVENTION,
                main_stream_url=f"rtsp://127.0.0.1:8554/cameras/{n}/main",
            )
        ).id
    for username, agency, role in (
        ("centre-operator", city, Role.OPERATOR),
        ("buk-operator", buk, Role.OPERATOR),
        ("buk-admin", buk, Role.AGENCY_ADMIN),
    ):
        app.state.identity.users.create_user(
            Console("test"),
            UserCreate(username=username, agency_id=agency, roles=[role], password=PASSWORD),
        )
    with serve(app) as base:
        yield World(base, buk, 7, 5, 4, named, buk_camera)


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context()
    page = context.new_page()
    hosts: list[str] = []
    page.on("request", lambda request: hosts.append(urlsplit(request.url).hostname or ""))
    try:
        yield page, hosts
    finally:
        context.close()


def sign_in(page: Page, world: World, username: str = "centre-operator") -> None:
    page.goto(f"{world.base}/console/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_selector("body[data-ready='true']", timeout=10000)


def count(page: Page) -> int:
    return int(page.get_attribute("#count", "data-count") or -1)


def test_the_map_shows_the_cameras_of_each_filter(world: World, page: tuple[Page, list[str]]):
    tab, hosts = page
    sign_in(tab, world)
    assert count(tab) == world.buk_cameras + world.seo_cameras
    # everything the map holds is drawn: clusters and single cameras add up to the count
    shown = tab.evaluate("() => window.argusConsole.shown")
    assert shown == world.buk_cameras + world.seo_cameras
    tab.select_option("#f-district", "북구")
    assert count(tab) == world.buk_cameras
    tab.select_option("#f-purpose", Purpose.TRAFFIC_ENFORCEMENT.value)
    assert count(tab) == world.enforcement
    tab.select_option("#f-district", "")
    tab.select_option("#f-purpose", "")
    tab.select_option("#f-agency", str(world.buk))
    assert count(tab) == world.buk_cameras
    tab.select_option("#f-agency", "")
    tab.select_option("#f-status", "online")
    assert count(tab) == 0  # nothing was pulled: no camera is known to be online
    tab.select_option("#f-status", "unknown")
    assert count(tab) == world.buk_cameras + world.seo_cameras
    # the districts of Gwangju are drawn from the boundaries Argus serves
    assert tab.locator(".district-label").count() == 5
    assert set(hosts) == {"127.0.0.1"}, hosts


def test_search_finds_a_camera_by_id_and_by_address(world: World, page: tuple[Page, list[str]]):
    tab, hosts = page
    sign_in(tab, world)
    tab.fill("#search", f"#{world.named}")
    tab.click("#search-form button")
    popup = tab.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    assert f"#{world.named}" in popup.inner_text() and "광주광역시" in popup.inner_text()
    tab.fill("#search", "상무대로")
    tab.click("#search-form button")
    assert tab.locator("#results button").count() == world.seo_cameras
    tab.fill("#search", "없는 주소")
    tab.click("#search-form button")
    assert "no camera found" in tab.locator("#results").inner_text()
    assert set(hosts) == {"127.0.0.1"}, hosts


def test_the_page_is_served_with_a_strict_policy_and_its_data_needs_sign_in(world: World):
    page = httpx.get(f"{world.base}/console/")
    assert (
        page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
    )
    for name in ("console.js", "console.css", "vendor/leaflet.js", "vendor/supercluster.min.js"):
        assert httpx.get(f"{world.base}/console/{name}").status_code == 200, name
    for bad in ("secret.txt", "vendor/../routes.py", "vendor/nothing.js"):
        assert httpx.get(f"{world.base}/console/{bad}").status_code == 404, bad
    assert httpx.get(f"{world.base}/api/console/config").status_code == 401
    assert httpx.get(f"{world.base}/api/console/boundaries/districts.geojson").status_code == 401


def test_a_click_on_a_cluster_zooms_in_and_on_a_camera_shows_it(
    world: World, page: tuple[Page, list[str]]
):
    tab, _ = page
    sign_in(tab, world)

    def drawn() -> list[dict[str, float | bool]]:
        value = tab.evaluate(
            """() => window.argusConsole.layer.drawn.map((d) => ({
                x: d.x, y: d.y, cluster: !!d.item.properties.cluster }))"""
        )
        assert isinstance(value, list)
        return value

    box = tab.locator("#map").bounding_box()
    assert box is not None
    zoom = tab.evaluate("() => window.argusConsole.map.getZoom()")
    cluster = next(d for d in drawn() if d["cluster"])
    tab.mouse.click(box["x"] + float(cluster["x"]), box["y"] + float(cluster["y"]))
    tab.wait_for_function(f"() => window.argusConsole.map.getZoom() > {zoom}", timeout=5000)
    tab.wait_for_function(
        "() => window.argusConsole.layer.drawn.some((d) => !d.item.properties.cluster)"
    )
    single = next(d for d in drawn() if not d["cluster"])
    tab.mouse.click(box["x"] + float(single["x"]), box["y"] + float(single["y"]))
    popup = tab.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    assert "Camera" in popup.inner_text() and "Owner" in popup.inner_text()


def open_panel(tab: Page, camera: int) -> None:
    tab.fill("#search", f"#{camera}")
    tab.click("#search-form button")
    tab.click(".leaflet-popup-content .popup-open")
    tab.wait_for_selector("#panel", state="visible")


def test_the_camera_panel_plays_live_video_for_the_owner(
    world: World, page: tuple[Page, list[str]]
):
    tab, hosts = page
    sign_in(tab, world, "buk-operator")
    open_panel(tab, world.live_camera)
    assert f"#{world.live_camera}" in tab.locator("#panel-title").inner_text()
    tab.select_option("#purpose", "traffic")
    tab.click("#open-live")
    tab.wait_for_function(
        "() => { const v = document.querySelector('#panel-tile video');"
        " return v && v.currentTime > 1.0; }",
        timeout=10000,
    )
    spread = tab.evaluate(
        """() => { const v = document.querySelector('#panel-tile video');
            const c = document.createElement('canvas'); c.width = 64; c.height = 36;
            const g = c.getContext('2d'); g.drawImage(v, 0, 0, 64, 36);
            const px = g.getImageData(0, 0, 64, 36).data; let s = 0, q = 0, n = 0;
            for (let i = 0; i < px.length; i += 4) { s += px[i]; q += px[i] * px[i]; n += 1; }
            return Math.sqrt(q / n - (s / n) ** 2); }"""
    )
    assert spread > 5  # a picture, not a uniform frame
    # the label follows the playing video; under load it may trail the first frames
    status = "document.querySelector('#panel-tile .status')?.textContent || ''"
    tab.wait_for_function(f"() => ({status}).includes('live')", timeout=10000)
    assert "live" in tab.locator("#panel-tile .status").inner_text()
    assert set(hosts) == {"127.0.0.1"}, hosts


def test_without_an_agreement_the_panel_shows_the_reason_and_no_video(
    world: World, page: tuple[Page, list[str]]
):
    tab, _ = page
    sign_in(tab, world, "centre-operator")
    open_panel(tab, world.live_camera)
    tab.click("#open-live")
    status = tab.locator("#panel-tile .status")
    status.filter(has_text="closed").wait_for(timeout=5000)
    text = tab.locator("#panel-tile").inner_text()
    assert "refused" in text and "agreement" in text, text
    assert tab.evaluate("() => document.querySelector('#panel-tile video').currentTime") == 0


def test_the_console_speaks_korean_or_english_as_the_browser_prefers_with_a_switch(
    world: World, browser: Browser
) -> None:
    korean = browser.new_context(locale="ko-KR")
    try:
        tab = korean.new_page()
        tab.goto(f"{world.base}/console/")
        assert tab.get_attribute("body", "data-lang") == "ko"
        label = tab.locator("label[for='username']")
        assert label.inner_text() == "아이디"
        tab.click("#lang")
        assert label.inner_text() == "Username"
        assert tab.locator("#f-status option[value='online']").inner_text() == "online"
        tab.reload()  # the choice is kept in this browser
        assert tab.get_attribute("body", "data-lang") == "en"
        tab.click("#lang")
        assert tab.locator("#f-status option[value='online']").inner_text() == "정상"
        # what the script writes follows too
        tab.fill("#username", "centre-operator")
        tab.fill("#password", PASSWORD)
        tab.click("#signin")
        tab.wait_for_selector("body[data-ready='true']", timeout=10000)
        total = world.buk_cameras + world.seo_cameras
        assert tab.locator("#count").inner_text() == f"카메라 {total}대"
        tab.fill("#search", "없는 주소")
        tab.click("#search-form button")
        assert tab.locator("#results").inner_text() == "검색 결과 없음"
    finally:
        korean.close()


def test_the_panel_says_what_the_user_may_do_and_why(
    world: World, page: tuple[Page, list[str]]
) -> None:
    tab, _ = page
    sign_in(tab, world, "centre-operator")
    open_panel(tab, world.live_camera)
    tab.click("#why")
    rights = tab.locator("#rights li")
    rights.nth(2).wait_for(timeout=5000)
    live = tab.locator("#rights li[data-capability='live']")
    assert live.get_attribute("data-allowed") == "false"
    assert "agreement" in live.inner_text()  # the reason authorize gave
    sign_in(tab, world, "buk-operator")
    open_panel(tab, world.live_camera)
    tab.click("#why")
    tab.locator("#rights li[data-capability='export']").wait_for(timeout=5000)
    assert tab.locator("#rights li[data-capability='live']").get_attribute("data-allowed") == "true"
    export = tab.locator("#rights li[data-capability='export']")
    assert export.get_attribute("data-allowed") == "false"  # an operator may not export


def test_an_admin_makes_an_agreement_in_the_browser_and_the_other_agency_may_watch(
    world: World, page: tuple[Page, list[str]]
) -> None:
    tab, hosts = page
    sign_in(tab, world, "buk-admin")
    tab.click("#nav button[data-view='agreements']")
    tab.click("#new-agreement summary")
    tab.locator("#ag-consumer option", has_text="광주광역시").first.wait_for(state="attached")
    tab.select_option("#ag-consumer", label="광주광역시")
    tab.fill("#ag-cameras", "교통단속, 생활방범")
    tab.fill("#ag-basis", "개인정보 보호법 제17조, 광주광역시-북구 연계 협약")
    tab.click("#ag-create")
    draft = tab.locator("#agreements-table tr[data-status='draft']")
    draft.wait_for(timeout=5000)
    draft.locator("button[data-verb='propose']").click()
    proposed = tab.locator("#agreements-table tr[data-status='proposed']")
    proposed.wait_for(timeout=5000)
    proposed.locator("button[data-verb='accept']").click()
    tab.locator("#agreements-table tr[data-status='accepted']").wait_for(timeout=5000)
    # now the city's operator may watch the district's camera, and is told why
    sign_in(tab, world, "centre-operator")
    open_panel(tab, world.live_camera)
    tab.click("#why")
    live = tab.locator("#rights li[data-capability='live']")
    live.wait_for(timeout=5000)
    assert live.get_attribute("data-allowed") == "true", live.inner_text()
    assert "agreement" in live.inner_text()
    playback = tab.locator("#rights li[data-capability='playback']")
    assert playback.get_attribute("data-allowed") == "false"  # the agreement gives live only
    assert set(hosts) == {"127.0.0.1"}, hosts


def test_a_deployment_names_its_own_tile_server(settings: Settings, engine: Engine) -> None:
    from fastapi.testclient import TestClient

    tiles = "https://tiles.gwangju.example/{z}/{x}/{y}.png"
    app = create_app(
        settings.model_copy(update={"console_tile_url": tiles, "console_tile_attribution": "광주"}),
        engine,
    )
    with TestClient(app) as client:
        page = client.get("/console/")
        policy = page.headers["content-security-policy"]
        assert "img-src 'self' data: https://tiles.gwangju.example;" in policy
        assert "connect-src 'self'" in policy  # the page still talks to Argus alone
        app.state.identity.users.create_user(
            Console("test"),
            UserCreate(
                username="someone",
                agency_id=app.state.registry.create_agency(
                    AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)
                ).id,
                roles=[Role.OPERATOR],
                password=PASSWORD,
            ),
        )
        bearer = client.post(
            "/api/auth/token", json={"username": "someone", "password": PASSWORD}
        ).json()["access_token"]
        config = client.get(
            "/api/console/config", headers={"Authorization": f"Bearer {bearer}"}
        ).json()
        assert config["tile_url"] == tiles and config["tile_attribution"] == "광주"
        assert config["boundaries"] == ["city", "districts", "neighbourhoods"]
        assert config["timezone"] == "Asia/Seoul"
