"""PTZ in the console's camera panel, in Chromium, against a real ONVIF simulator on 127.0.0.1:
the operator takes control of a PTZ camera, a step button turns the simulated camera (its PTZ
state, as the simulator's GetStatus reports it, moves), home brings it back, a stored preset
turns it again, a preset the camera lacks is refused with the camera's reason while control
stays; a second operator of equal priority is refused with the message naming the first; a
supervisor takes the camera over and the operator's panel says who took it and why. A fixed
camera has no PTZ controls.

The real API server (uvicorn) drives the camera through the registry's ONVIF address, as
`argus serve` does (``OnvifDrivers``, onvif-zeep-async over SOAP), and no request leaves
127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy import Engine

from argus.api.app import create_app
from argus.config import Settings
from argus.identity.access import Console
from argus.identity.passwords import Hasher
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.onvif.motion import MotionSettings
from argus.onvif.ptz_state import PtzRegistry
from argus.onvif.simulator import FixedMedia, OnvifSimulator
from argus.ptz.driver import PtzPosition
from argus.registry.schemas import AgencyCreate, CameraCreate, CameraUpdate, Credentials, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, CameraType, Purpose
from tests.agreements import bearer
from tests.console.test_console_chromium import browser, database_url
from tests.media.live_server import serve

__all__ = ["browser", "database_url"]  # fixtures, used by name
PASSWORD = "Gwangju-2026!"
T = TypeVar("T")
SPEED = MotionSettings(pan_tilt_seconds=0.4, zoom_seconds=0.2, default_timeout_s=5.0)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class Simulated:
    """The ONVIF simulator, and its cameras' PTZ state read and changed in its own loop."""

    simulator: OnvifSimulator
    ptz: PtzRegistry
    loop: asyncio.AbstractEventLoop

    def _in_loop(self, work: Callable[[], T]) -> T:
        async def run() -> T:
            return work()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(5)

    def position(self, camera_id: int) -> PtzPosition:
        """Where the camera points, as its GetStatus reports it."""
        return self._in_loop(lambda: self.ptz.status(camera_id).position)

    def store_preset(self, camera_id: int, name: str) -> str:
        """Store where the camera points now as a preset (as an installer would); its token."""
        return self._in_loop(lambda: self.ptz.set_preset(camera_id, name))


@contextmanager
def onvif_simulator(ptz: PtzRegistry) -> Iterator[Simulated]:
    """The simulator in its own event loop (Playwright holds this thread's)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    simulator = OnvifSimulator(port=0, ptz=ptz, media=FixedMedia(port=18554))
    asyncio.run_coroutine_threadsafe(simulator.start(), loop).result(10)
    try:
        yield Simulated(simulator, ptz, loop)
    finally:
        asyncio.run_coroutine_threadsafe(simulator.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@dataclass
class World:
    base: str
    ptz: int  # the city's PTZ camera, driven through the simulator
    fixed: int
    sim: Simulated

    def position(self) -> PtzPosition:
        return self.sim.position(self.ptz)


@pytest.fixture
def world(settings: Settings, engine: Engine, registry: Registry) -> Iterator[World]:
    city = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    with onvif_simulator(PtzRegistry(motion=SPEED)) as sim:
        site = registry.create_site(
            SiteCreate(owner_id=city, lat=35.1468, lon=126.9222, district="서구")
        ).id
        ptz = registry.create_camera(
            CameraCreate(
                site_id=site,
                purpose=Purpose.CRIME_PREVENTION,
                camera_type=CameraType.PTZ,
                credentials=Credentials(username="admin", password="admin"),
            )
        ).id
        registry.update_camera(ptz, CameraUpdate(onvif_url=sim.simulator.device_url(ptz)))
        fixed = registry.create_camera(
            CameraCreate(site_id=site, purpose=Purpose.CRIME_PREVENTION, lat=35.1478)
        ).id
        app = create_app(settings, engine)
        # argon2id at test strength: the parameters are the deployment's business, not this test's
        app.state.identity.ctx.hasher = Hasher(
            PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        )
        for username, role in (
            ("centre-operator", Role.OPERATOR),
            ("centre-operator-2", Role.OPERATOR),
            ("centre-supervisor", Role.SUPERVISOR),
        ):
            app.state.identity.users.create_user(
                Console("test"),
                UserCreate(username=username, agency_id=city, roles=[role], password=PASSWORD),
            )
        with serve(app) as base:
            yield World(base, ptz, fixed, sim)


@pytest.fixture
def people(browser: Browser) -> Iterator[tuple[list[str], list[Page]]]:
    hosts: list[str] = []
    contexts: list[BrowserContext] = []
    pages: list[Page] = []
    for _ in range(2):
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda r: hosts.append(urlsplit(r.url).hostname or ""))
        page.on("websocket", lambda ws: hosts.append(urlsplit(ws.url).hostname or ""))
        pages.append(page)
    try:
        yield hosts, pages
    finally:
        for context in contexts:
            context.close()


def open_panel(page: Page, world: World, username: str, camera: int) -> None:
    page.goto(f"{world.base}/console/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_selector("body[data-ready='true']", timeout=10000)
    page.fill("#search", f"#{camera}")
    page.click("#search-form button")
    page.click(".leaflet-popup-content .popup-open")
    page.wait_for_selector("#panel", state="visible")


def until(check: Callable[[], bool], seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)


def test_an_operator_turns_the_camera_and_a_second_one_is_told_who_has_it(
    world: World, people: tuple[list[str], list[Page]]
) -> None:
    hosts, (first, second) = people
    open_panel(first, world, "centre-operator", world.fixed)
    assert first.locator("#ptz").is_hidden()  # a fixed camera: nothing to turn
    first.click("#panel-close")
    first.fill("#search", f"#{world.ptz}")
    first.click("#search-form button")
    first.click(".leaflet-popup-content .popup-open")
    first.locator("#ptz").wait_for(state="visible", timeout=5000)
    status = first.locator("#ptz-status")
    status.filter(has_text="Free").wait_for(timeout=5000)
    assert "pan 0.00 tilt 0.00 zoom 0.00" in status.inner_text()
    assert first.locator("#ptz-pad button[data-step='right']").is_disabled()

    first.select_option("#purpose", "crime_prevention")
    first.fill("#ptz-reason", "수상한 차량 추적")
    first.click("#ptz-take")
    first.locator("#ptz-status[data-mine='true']").wait_for(timeout=5000)
    assert "You control it until" in status.inner_text()
    assert first.locator("#ptz-pad button[data-step='right']").is_enabled()
    assert world.position() == PtzPosition(0.0, 0.0, 0.0)
    first.click("#ptz-pad button[data-step='right']")
    until(lambda: world.position().pan > 0.049)
    first.click("#ptz-pad button[data-step='up']")
    until(lambda: world.position().tilt > 0.049)
    turned = world.position()
    assert turned.pan == pytest.approx(0.05) and turned.tilt == pytest.approx(0.05)
    status.filter(has_text="pan 0.05 tilt 0.05").wait_for(timeout=5000)
    spot = world.sim.store_preset(world.ptz, "spot 1")

    # another operator of the same centre, equal priority: first come, first served
    open_panel(second, world, "centre-operator-2", world.ptz)
    second.fill("#ptz-reason", "교차로 확인")
    second.click("#ptz-take")
    message = second.locator("#ptz-message[data-kind='refused']")
    message.wait_for(timeout=5000)
    text = message.inner_text()
    assert "controlled by centre-operator (광주광역시, centre operator)" in text, text
    assert "수상한 차량 추적" in text and "equal priority, first come first served" in text, text
    assert second.get_attribute("#ptz-status", "data-holder") == "centre-operator"
    assert second.locator("#ptz-pad button[data-step='left']").is_disabled()

    # the first still holds it
    first.click("#ptz-home")
    until(lambda: world.position() == PtzPosition(0.0, 0.0, 0.0))
    first.click("#ptz-pad button[data-step='in']")
    until(lambda: world.position().zoom > 0.099)
    first.fill("#ptz-preset", spot)
    first.click("#ptz-goto")
    until(lambda: world.position() == PtzPosition(0.05, 0.05, 0.0))
    assert first.locator("#ptz-message").inner_text() == ""  # every command went through
    first.fill("#ptz-preset", "no-such-preset")  # the camera refuses: said, control kept
    first.click("#ptz-goto")
    first.locator("#ptz-message[data-kind='error']").wait_for(timeout=5000)
    assert "no-such-preset" in first.locator("#ptz-message").inner_text()
    assert first.get_attribute("#ptz-status", "data-mine") == "true"
    assert set(hosts) == {"127.0.0.1"}, hosts


def test_a_supervisor_takes_over_and_the_operator_is_told_who_and_why(
    world: World, people: tuple[list[str], list[Page]]
) -> None:
    hosts, (operator, _) = people
    open_panel(operator, world, "centre-operator", world.ptz)
    operator.fill("#ptz-reason", "수상한 차량 추적")
    operator.click("#ptz-take")
    operator.locator("#ptz-status[data-mine='true']").wait_for(timeout=5000)
    took = httpx.post(
        f"{world.base}/api/ptz/{world.ptz}/control",
        headers=bearer(world.base, "centre-supervisor", PASSWORD),
        json={"purpose": "crime_prevention", "reason": "112 폭행 신고 대응"},
    )
    assert took.status_code == 200, took.text
    assert took.json()["preempted"]["previous"]["name"] == "centre-operator"
    t0 = time.perf_counter()
    # the panel asks every 2 s while it holds the camera: it hears of the take-over
    message = operator.locator("#ptz-message[data-kind='preempted']")
    message.wait_for(timeout=4000)
    assert time.perf_counter() - t0 < 3.0
    text = message.inner_text()
    assert "Taken over by centre-supervisor (광주광역시, centre supervisor)" in text, text
    assert "112 폭행 신고 대응" in text, text
    assert operator.locator("#ptz-pad button[data-step='right']").is_disabled()
    assert operator.locator("#ptz-take").is_enabled()
    assert operator.get_attribute("#ptz-status", "data-holder") == "centre-supervisor"
    assert set(hosts) == {"127.0.0.1"}, hosts
