"""The console's daily flows in Chromium, with several people at once (one browser context each):
an owner's admin revokes an agreement while another agency's operator watches under it; an
export goes from the camera panel's request through the owner's approval to a download that
verifies; the auditor's ledger lists what happened. Real API server, real Chromium, no request
leaving 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy import Engine

from argus.api.app import create_app
from argus.config import Settings
from argus.evidence.manifest import load_export_key, verify_export
from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose
from tests.agreements import accepted_agreement, bearer
from tests.console.test_console_chromium import browser, database_url
from tests.media.live_server import serve
from tests.media.replay import ReplayFactory
from tests.recording.frames import FPS, record_frames

__all__ = ["browser", "database_url"]  # fixtures, used by name
PASSWORD = "Gwangju-2026!"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class World:
    base: str
    settings: Settings
    camera: int
    agreement: int
    recorded_from: datetime


@pytest.fixture
def world(settings: Settings, engine: Engine, registry: Registry) -> Iterator[World]:
    city = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    buk = registry.create_agency(
        AgencyCreate(
            name="광주광역시 북구", kind=AgencyKind.DISTRICT, parent_id=city, district="북구"
        )
    ).id
    site = registry.create_site(SiteCreate(owner_id=buk, lat=35.174, lon=126.912, district="북구"))
    camera = registry.create_camera(
        CameraCreate(
            site_id=site.id,
            purpose=Purpose.TRAFFIC_ENFORCEMENT,
            main_stream_url="rtsp://127.0.0.1:8554/cameras/1/main",
        )
    ).id
    start = float(int(time.time()) - 120)
    with ThreadPoolExecutor(1) as pool:  # Playwright holds this thread's event loop
        pool.submit(asyncio.run, record_frames(settings, engine, camera, 20 * FPS, start)).result()
    app = create_app(
        settings.model_copy(update={"media_linger": 0.5}), engine, puller_factory=ReplayFactory()
    )
    users = [
        ("centre-supervisor", city, Role.SUPERVISOR),
        ("buk-admin", buk, Role.AGENCY_ADMIN),
        ("buk-auditor", buk, Role.AUDITOR),
    ]
    for name, agency, role in users:
        app.state.identity.users.create_user(
            Console("test"),
            UserCreate(username=name, agency_id=agency, roles=[role], password=PASSWORD),
        )
    with serve(app) as base:
        agreement = accepted_agreement(
            base,
            bearer(base, "buk-admin", PASSWORD),
            buk,
            city,
            ["crime_prevention", "investigation"],
            ["live", "playback", "export"],
        )
        yield World(base, settings, camera, agreement, datetime.fromtimestamp(start, UTC))


@pytest.fixture
def people(browser: Browser) -> Iterator[tuple[list[str], dict[str, Page]]]:
    hosts: list[str] = []
    contexts: list[BrowserContext] = []
    pages: dict[str, Page] = {}
    for name in ("centre-supervisor", "buk-admin", "buk-auditor"):
        context = browser.new_context(accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda r: hosts.append(urlsplit(r.url).hostname or ""))
        page.on("dialog", lambda d: d.accept("수사 종료 (test)"))
        pages[name] = page
    try:
        yield hosts, pages
    finally:
        for context in contexts:
            context.close()


def sign_in(page: Page, world: World, username: str) -> None:
    page.goto(f"{world.base}/console/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_selector("body[data-ready='true']", timeout=10000)


def open_panel(page: Page, camera: int) -> None:
    page.fill("#search", f"#{camera}")
    page.click("#search-form button")
    page.click(".leaflet-popup-content .popup-open")
    page.wait_for_selector("#panel", state="visible")


def watch_live(viewer: Page, world: World) -> None:
    """The city's supervisor watches the district's camera live in the panel, under the
    agreement."""
    sign_in(viewer, world, "centre-supervisor")
    open_panel(viewer, world.camera)
    viewer.select_option("#purpose", "crime_prevention")
    viewer.click("#open-live")
    viewer.wait_for_function(
        "() => document.querySelector('#panel-tile video').currentTime > 0.5", timeout=10000
    )


def local(moment: datetime) -> str:
    """A datetime-local input's value (the browser's zone: UTC here)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def test_revoking_the_agreement_stops_the_open_tile_with_the_reason(
    world: World, people: tuple[list[str], dict[str, Page]]
) -> None:
    hosts, pages = people
    viewer, admin = pages["centre-supervisor"], pages["buk-admin"]
    watch_live(viewer, world)
    sign_in(admin, world, "buk-admin")
    admin.click("#nav button[data-view='agreements']")
    row = admin.locator(f"#agreements-table tr[data-agreement='{world.agreement}']")
    row.wait_for(timeout=5000)
    assert row.get_attribute("data-status") == "accepted"
    t0 = time.perf_counter()
    row.locator("button[data-verb='revoke']").click()
    viewer.locator("#panel-tile .status").filter(has_text="closed").wait_for(timeout=3000)
    elapsed = time.perf_counter() - t0
    text = viewer.locator("#panel-tile").inner_text()
    assert "revoked" in text, text
    assert elapsed < 2.0, elapsed
    admin.locator(
        f"#agreements-table tr[data-agreement='{world.agreement}'][data-status='revoked']"
    ).wait_for(timeout=5000)
    assert set(hosts) == {"127.0.0.1"}, hosts


def test_an_export_goes_from_request_to_approval_to_download_and_into_the_ledger(
    world: World, people: tuple[list[str], dict[str, Page]], tmp_path: Path
) -> None:
    hosts, pages = people
    supervisor, admin, auditor = (
        pages["centre-supervisor"],
        pages["buk-admin"],
        pages["buk-auditor"],
    )
    sign_in(supervisor, world, "centre-supervisor")
    open_panel(supervisor, world.camera)
    supervisor.select_option("#purpose", "investigation")
    supervisor.click("#export-box summary")
    supervisor.fill("#x-from", local(world.recorded_from + timedelta(seconds=2)))
    supervisor.fill("#x-until", local(world.recorded_from + timedelta(seconds=12)))
    supervisor.fill("#x-basis", "형사소송법 제215조, 개인정보 보호법 제18조 제2항 제7호")
    supervisor.fill("#x-recipient", "광주북부경찰서 형사과")
    supervisor.fill("#x-case", "2026-광주북부-00777")
    supervisor.click("#x-submit")
    status = supervisor.locator("#export-status")
    status.filter(has_text="approval").wait_for(timeout=5000)
    export = int(status.get_attribute("data-export") or 0)
    # the owner's admin approves it from the exports view
    sign_in(admin, world, "buk-admin")
    admin.click("#nav button[data-view='exports']")
    row = admin.locator(f"#exports-table tr[data-export='{export}']")
    row.wait_for(timeout=5000)
    row.get_by_role("button", name="Approve").click()
    admin.locator(f"#exports-table tr[data-export='{export}'][data-state='ready']").wait_for(
        timeout=10000
    )
    # the requester downloads it; the zip verifies against the deployment's key
    supervisor.click("#nav button[data-view='exports']")
    ready = supervisor.locator(f"#exports-table tr[data-export='{export}'][data-state='ready']")
    ready.wait_for(timeout=5000)
    with supervisor.expect_download() as info:
        ready.get_by_role("button", name="Download").click()
    archive = tmp_path / "export.zip"
    info.value.save_as(archive)
    result = verify_export(archive, load_export_key(world.settings).public_key())
    assert result.ok and result.manifest is not None, result.lines()
    assert result.manifest["recipient"] == "광주북부경찰서 형사과"
    assert result.manifest["approvers"][0]["user"] == "buk-admin"
    # the auditor of the owner sees the provision (제공) in the ledger
    sign_in(auditor, world, "buk-auditor")
    assert auditor.locator("#nav button[data-view='agreements']").is_hidden()
    auditor.click("#nav button[data-view='ledger']")
    provided = auditor.locator("#ledger-table tr[data-kind='제공']")
    provided.first.wait_for(timeout=5000)
    texts = [provided.nth(i).inner_text() for i in range(provided.count())]
    assert any("광주북부경찰서 형사과" in t and "2026-광주북부-00777" in t for t in texts), texts
    with auditor.expect_download() as sheet:
        auditor.click("#ledger-csv")
    csv = Path(sheet.value.path()).read_text(encoding="utf-8-sig")
    assert "광주북부경찰서 형사과" in csv
    # and every step in the audit log, which verifies
    auditor.click("#nav button[data-view='audit']")
    auditor.locator("#audit-verify[data-intact='true']").wait_for(timeout=10000)
    auditor.fill("#a-action", "export.*")
    auditor.click("#audit-form button[type='submit']")
    auditor.wait_for_function(
        "() => [...document.querySelectorAll('#audit-table tbody tr')]"
        ".every((r) => r.dataset.action.startsWith('export.'))"
        " && document.querySelectorAll('#audit-table tbody tr').length >= 4"
    )
    steps = {
        auditor.locator("#audit-table tbody tr").nth(i).get_attribute("data-action")
        for i in range(auditor.locator("#audit-table tbody tr").count())
    }
    assert {"export.request", "export.approve", "export.ready", "export.link"} <= steps, steps
    auditor.fill("#a-action", "access.export")
    auditor.click("#audit-form button[type='submit']")
    auditor.locator("#audit-table tbody tr[data-action='access.export']").first.wait_for()
    assert set(hosts) == {"127.0.0.1"}, hosts


def test_the_panel_shows_the_recorded_timeline_and_plays_from_a_click(
    world: World, people: tuple[list[str], dict[str, Page]]
) -> None:
    hosts, pages = people
    viewer = pages["centre-supervisor"]
    sign_in(viewer, world, "centre-supervisor")
    open_panel(viewer, world.camera)
    viewer.select_option("#purpose", "crime_prevention")
    viewer.click("#pb-load")
    bar = viewer.locator("#pb-bar[data-recorded='1']")
    bar.wait_for(timeout=5000)
    assert bar.get_attribute("data-gaps") == "2"  # before and after the 20 s recorded
    recorded = viewer.locator("#pb-bar .recorded").bounding_box()
    assert recorded is not None
    viewer.mouse.click(
        recorded["x"] + recorded["width"] / 2, recorded["y"] + recorded["height"] / 2
    )
    viewer.wait_for_function(
        "() => document.querySelector('#pb-video').currentTime > 1.0", timeout=10000
    )
    clock = viewer.locator("#pb-clock").inner_text()
    assert "×1" in clock
    viewer.select_option("#pb-speed", "4")
    viewer.wait_for_function(
        "() => window.argusPlayback.speed === 4"
        " && document.querySelector('#pb-clock').textContent.includes('×4')",
        timeout=5000,
    )
    assert set(hosts) == {"127.0.0.1"}, hosts


def test_narrowing_the_agreement_ends_the_views_it_no_longer_allows(
    world: World, people: tuple[list[str], dict[str, Page]]
) -> None:
    _, pages = people
    viewer, admin = pages["centre-supervisor"], pages["buk-admin"]
    watch_live(viewer, world)
    sign_in(admin, world, "buk-admin")
    admin.click("#nav button[data-view='agreements']")
    row = admin.locator(f"#agreements-table tr[data-agreement='{world.agreement}']")
    row.locator("button[data-verb='narrow']").click()
    form = admin.locator("#agreements-table tr.narrow form")
    form.locator("input[value='live']").uncheck()
    form.locator("button[type='submit']").click()
    viewer.locator("#panel-tile .status").filter(has_text="closed").wait_for(timeout=3000)
    assert "revoked" in viewer.locator("#panel-tile").inner_text()
    admin.locator("#agreements-status").filter(has_text="narrowed").wait_for(timeout=5000)
    assert "live" not in admin.locator("#agreements-status").inner_text().split("·")[1]
