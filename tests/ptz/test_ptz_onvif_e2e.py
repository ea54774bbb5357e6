"""PTZ end to end over real sockets, with no fake driver.

The real API server (``create_app`` on uvicorn, ``tests.media.live_server.serve``) drives a
simulated camera through its ONVIF driver (``OnvifDrivers``: the registry camera's
``onvif_url`` and sealed credentials) on the ONVIF simulator at 127.0.0.1; the simulator shares
its PTZ state with the RTSP simulator, so a move shows in the stamp SEI of every frame the camera
sends. People sign in with passwords (``/api/auth/token``), the city's centre uses 북구's camera
through an accepted agreement with capability ptz, the 112 room raises its incident through the
signed webhook, and every command is read back from the audit log by 북구's auditor.

What is checked, as the issue asks:

1. the owner's enforcement tour runs (preset after preset, seen in the simulator's state);
   a centre operator takes the camera, the tour pauses, the operator's moves turn the camera
   (GetStatus through the API, the simulator's state, the RTSP stamp);
2. a 112 assault raised at the camera pre-empts the operator: the operator's next command is
   refused (409) naming the police room and the incident; the status shows the police;
3. the police release and the incident closes: the camera goes back to its tour;
4. two operators of equal priority: first come first served, the second told who holds the
   camera and when it frees at the latest; after the release the second gets it, and when
   they release the camera returns to the tour's next spot;
5. a refusal by policy is a 403 with ``authorize``'s reason and nothing reaches the camera.

The tours use 1-second dwells; the 5-minute revisit is never waited for (the tests look at the
tour's state and at the preset the camera moves to next). Only one thing differs from
``create_app``'s wiring: the PTZ service re-reads the camera modes every 0.25 s (30 s by
default), so that an incident's mode (no tour while it lists the camera) shows at once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import Engine

from argus.api.app import create_app
from argus.config import Settings
from argus.identity.access import Console
from argus.identity.passwords import Hasher
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.incidents.webhook import load_key, sign
from argus.media.nal import AccessUnit
from argus.media.rtsp.client import RtspClient
from argus.media.sei import read_stamp
from argus.media.simulator import Simulator, StreamSettings
from argus.onvif.motion import MotionSettings
from argus.onvif.ptz_state import PtzRegistry
from argus.onvif.simulator import OnvifSimulator
from argus.ptz.driver import PtzPosition
from argus.ptz.onvif_drivers import OnvifDrivers
from argus.ptz.service import PtzService
from argus.registry.schemas import (
    AgencyCreate,
    CameraCreate,
    CameraUpdate,
    Credentials,
    SiteCreate,
)
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, CameraType, Purpose
from tests.incidents.world import POINT, offset
from tests.media.live_server import serve

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PASSWORD = "Gwangju-2026!"
SMALL = StreamSettings(width=192, height=144, bitrate=100_000, gop_seconds=0.5, clip_seconds=1.0)
SPEED = MotionSettings(pan_tilt_seconds=0.2, zoom_seconds=0.2)  # a whole range in 0.2 s
CITY = "광주광역시"
BUK = "광주광역시 북구"
POLICE = "광주경찰청 112치안종합상황실"
USERS = (
    ("buk-admin", "buk", Role.AGENCY_ADMIN),
    ("buk-auditor", "buk", Role.AUDITOR),
    ("city-operator", "city", Role.OPERATOR),
    ("city-operator-2", "city", Role.OPERATOR),
    ("police-112", "police", Role.RESPONDER),
    ("seo-operator", "seo", Role.OPERATOR),  # 서구: no agreement with 북구
)
SPOTS = {  # the enforcement spots of 북구's camera, as presets on the unit
    "gate": PtzPosition(-0.6, 0.0, 0.0),
    "crossing": PtzPosition(0.0, -0.3, 0.2),
    "market": PtzPosition(0.6, 0.1, 0.4),
}


def near(a: PtzPosition, b: PtzPosition, tolerance: float = 1e-3) -> bool:
    return (
        abs(a.pan - b.pan) <= tolerance
        and abs(a.tilt - b.tilt) <= tolerance
        and abs(a.zoom - b.zoom) <= tolerance
    )


def position_of(status: Mapping[str, Any]) -> PtzPosition:
    where = status["position"]
    assert where is not None, status["position_error"]
    return PtzPosition(where["pan"], where["tilt"], where["zoom"])


def clock_text(iso: str) -> str:
    """A lease time as the refusal messages write it."""
    return datetime.fromisoformat(iso).strftime("%H:%M:%S UTC")


@dataclass
class Site:
    """The running server, the simulated camera, and the people who use it."""

    http: httpx.AsyncClient
    unit: PtzRegistry  # the simulated cameras' PTZ state (shared by ONVIF and RTSP)
    onvif: OnvifSimulator
    rtsp: Simulator
    camera: int  # 북구's PTZ parking-enforcement camera
    agreement: int  # 북구 → the city's centre: crime prevention, live and ptz
    users: dict[str, int]
    key: bytes
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    rests: list[tuple[float, PtzPosition]] = field(default_factory=list)

    async def call(
        self, user: str, method: str, path: str, body: Any | None = None, **params: Any
    ) -> httpx.Response:
        """A request as ``user``, signed in with their password on first use."""
        if user not in self.headers:
            self.headers[user] = await sign_in(self.http, user)
        return await self.http.request(
            method, path, json=body, headers=self.headers[user], params=params or None
        )

    async def ptz(self, user: str, command: str, body: Any | None = None) -> httpx.Response:
        return await self.call(user, "POST", f"/api/ptz/{self.camera}/{command}", body)

    async def aim(self, user: str, where: PtzPosition) -> None:
        """An absolute move by ``user``, and the unit at rest there."""
        body = {"mode": "absolute", "pan": where.pan, "tilt": where.tilt, "zoom": where.zoom}
        moved = await self.ptz(user, "move", body)
        assert moved.status_code == 200, moved.text
        await self.settles_at(where)

    async def status(self, user: str = "city-operator") -> dict[str, Any]:
        answer = await self.call(user, "GET", f"/api/ptz/{self.camera}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def tour_state(self, state: str, step: str | None = None) -> dict[str, Any]:
        """The status once the tour is in ``state`` (and at a step of kind ``step``)."""
        try:
            async with asyncio.timeout(3):
                while True:
                    status = await self.status()
                    tour = status["tour"]
                    current = tour["current"] if tour else None
                    if (
                        tour
                        and tour["state"] == state
                        and (step is None or (current is not None and current["step"] == step))
                    ):
                        return status
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"the tour is not {state}: {status['tour']}") from None

    async def webhook(self, message: dict[str, Any]) -> httpx.Response:
        body = json.dumps(message).encode()
        headers = {"Content-Type": "application/json", **sign(self.key, body)}
        return await self.http.post("/api/incidents/webhook", content=body, headers=headers)

    def where(self) -> PtzPosition:
        return self.unit.position(self.camera)

    async def settles_at(self, target: PtzPosition, timeout: float = 5.0) -> None:
        """Wait until the simulated unit rests at ``target``."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    now = self.unit.status(self.camera)
                    if not now.moving and near(now.position, target):
                        return
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise AssertionError(f"the camera is at {self.where()}, not {target}") from None

    async def spots_visited(
        self,
        presets: Mapping[str, PtzPosition],
        count: int,
        since: float,
        timeout: float = 8.0,
    ) -> list[str]:
        """The presets the unit came to rest at since ``since`` (monotonic), in order, once
        ``count`` were seen; other resting places are left out."""

        def spots() -> list[str]:
            found = []
            for at, where in self.rests:
                names = [t for t, p in presets.items() if near(where, p)]
                if at >= since and names:
                    found.append(names[0])
            return found

        try:
            async with asyncio.timeout(timeout):
                while len(spots()) < count:
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise AssertionError(
                f"the tour went to {spots()} only, now at {self.where()}"
            ) from None
        return spots()[:count]

    async def watch(self) -> None:
        """Note where the unit comes to rest, every 10 ms (runs for the whole test)."""
        while True:
            now = self.unit.status(self.camera)
            if not now.moving and (not self.rests or not near(self.rests[-1][1], now.position)):
                self.rests.append((time.monotonic(), now.position))
            await asyncio.sleep(0.01)

    async def make_presets(self, names: list[str]) -> dict[str, PtzPosition]:
        """Store the spots as presets on the unit (as an installer does); token → position."""
        presets: dict[str, PtzPosition] = {}
        for name in names:
            spot = SPOTS[name]
            self.unit.absolute_move(self.camera, spot.pan, spot.tilt, spot.zoom)
            await self.settles_at(spot)
            presets[self.unit.set_preset(self.camera, name)] = spot
        self.unit.goto_home(self.camera)
        await self.settles_at(PtzPosition(0.0, 0.0, 0.0))
        return presets

    async def tour(self, presets: Mapping[str, PtzPosition]) -> httpx.Response:
        stops = [{"preset": token, "dwell_s": 1} for token in presets]
        return await self.call(
            "buk-admin",
            "PUT",
            f"/api/ptz/{self.camera}/tours/enforcement",
            {"stops": stops, "revisit_delay_s": 300},
        )

    async def audit(self) -> list[dict[str, Any]]:
        """The camera's ptz.* entries as 북구's auditor reads them, oldest first."""
        page = await self.call(
            "buk-auditor", "GET", "/api/audit", camera=self.camera, action="ptz.*", limit=1000
        )
        assert page.status_code == 200, page.text
        return sorted(page.json()["items"], key=lambda e: int(e["seq"]))

    async def access_reasons(self, user: str) -> list[str]:
        """The reasons ``authorize`` gave ``user`` for PTZ on the camera (access.ptz)."""
        page = await self.call(
            "buk-auditor",
            "GET",
            "/api/audit",
            camera=self.camera,
            action="access.ptz",
            actor=self.users[user],
        )
        assert page.status_code == 200, page.text
        return [e["reason"] for e in sorted(page.json()["items"], key=lambda e: int(e["seq"]))]


def commands(entries: list[dict[str, Any]], users: Mapping[str, int]) -> list[tuple[str, ...]]:
    """(action, outcome, who) of the entries of people's commands."""
    names = {v: k for k, v in users.items()}
    return [
        (e["action"], e["outcome"], names.get(e["actor_user_id"], "?"))
        for e in entries
        if e["action"] not in ("ptz.tour", "ptz.tour_missed")
    ]


def quick_modes(app: FastAPI) -> None:
    """The app's PTZ service as ``create_app`` made it (its authorizer, tour source, priority
    order and lease times), re-reading the camera modes every 0.25 s instead of 30 s and
    sweeping idle leases every 0.1 s. Before the server starts: nothing ran yet."""
    made: PtzService = app.state.ptz
    app.state.ptz = PtzService(
        made.sessions,
        OnvifDrivers(app.state.registry),
        made.authorize,
        tours=made.tours,
        arbitration=made.leases.arbitration,
        idle_release=made.leases.idle_release,
        max_hold=made.leases.max_hold,
        notify=app.state.bus.publish,
        tour_sync_s=0.25,
        sweep_s=0.1,
    )


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """``serve`` entered and left off the event loop: the ONVIF simulator runs in this loop
    and must go on answering the server while it starts and stops."""
    server = serve(app)
    base = await asyncio.to_thread(server.__enter__)
    try:
        yield base
    finally:
        await asyncio.to_thread(server.__exit__, None, None, None)


@dataclass(frozen=True)
class World:
    camera: int
    agencies: dict[str, int]
    users: dict[str, int]


def build_world(registry: Registry, app: FastAPI, onvif: OnvifSimulator) -> World:
    """The city, 북구 (owns the camera), 서구, the police room; the camera at the simulator."""
    # argon2id at test strength: the parameters are the deployment's business, not this test's
    app.state.identity.ctx.hasher = Hasher(
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    city = registry.create_agency(AgencyCreate(name=CITY, kind=AgencyKind.CITY)).id
    agencies = {
        "city": city,
        "buk": registry.create_agency(
            AgencyCreate(name=BUK, kind=AgencyKind.DISTRICT, parent_id=city, district="북구")
        ).id,
        "seo": registry.create_agency(
            AgencyCreate(name="광주광역시 서구", kind=AgencyKind.DISTRICT, parent_id=city)
        ).id,
        "police": registry.create_agency(AgencyCreate(name=POLICE, kind=AgencyKind.POLICE)).id,
    }
    lat, lon = offset(80, 0)  # 80 m north of the point of the 112 report
    site = registry.create_site(
        SiteCreate(owner_id=agencies["buk"], lat=lat, lon=lon, district="북구")
    )
    camera = registry.create_camera(
        CameraCreate(
            site_id=site.id,
            purpose=Purpose.TRAFFIC_ENFORCEMENT,
            camera_type=CameraType.PTZ,
            credentials=Credentials(username="admin", password="admin"),
        )
    ).id
    # the simulated unit has the registry camera's id: ONVIF, RTSP and the API agree on it
    registry.update_camera(camera, CameraUpdate(onvif_url=onvif.device_url(camera)))
    users = {}
    for name, agency, role in USERS:
        made = app.state.identity.users.create_user(
            Console("test"),
            UserCreate(username=name, agency_id=agencies[agency], roles=[role], password=PASSWORD),
        )
        users[name] = made.id
    return World(camera, agencies, users)


async def sign_in(http: httpx.AsyncClient, user: str) -> dict[str, str]:
    signed = await http.post("/api/auth/token", json={"username": user, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    return {"Authorization": f"Bearer {signed.json()['access_token']}"}


async def accepted_agreement(http: httpx.AsyncClient, world: World) -> int:
    """북구 shares its parking-enforcement cameras with the city's centre for crime
    prevention, live and ptz (``tests.agreements.accepted_agreement``, over this loop)."""
    admin = await sign_in(http, "buk-admin")
    draft = await http.post(
        "/api/agreements",
        headers=admin,
        json={
            "owner_agency_id": world.agencies["buk"],
            "consumer_agency_id": world.agencies["city"],
            "selector": {"purposes": ["교통단속"]},
            "purposes": ["crime_prevention"],
            "capabilities": ["live", "ptz"],
            "legal_basis": "광주광역시-북구 CCTV 연계 협약",
        },
    )
    assert draft.status_code == 201, draft.text
    agreement = int(draft.json()["id"])
    for step in ("propose", "accept"):
        done = await http.post(f"/api/agreements/{agreement}/{step}", headers=admin)
        assert done.status_code == 200, done.text
    return agreement


@pytest.fixture
async def site(
    settings: Settings, engine: Engine, registry: Registry, tmp_path: Path
) -> AsyncIterator[Site]:
    unit = PtzRegistry(motion=SPEED)
    async with (
        Simulator(port=0, cache_dir=tmp_path / "clips", main=SMALL, sub=SMALL, ptz=unit) as rtsp,
        OnvifSimulator(port=0, ptz=unit, media=rtsp) as onvif,
    ):
        app = create_app(settings, engine)
        quick_modes(app)
        world = build_world(registry, app, onvif)
        async with served(app) as base, httpx.AsyncClient(base_url=base, timeout=15) as http:
            agreement = await accepted_agreement(http, world)
            key = load_key(settings.data_dir)
            found = Site(http, unit, onvif, rtsp, world.camera, agreement, world.users, key)
            # the console shows the camera first: the server's ONVIF driver connects now (the
            # first connection reads the WSDLs, which may take longer than a 1-second dwell)
            shown = await found.status("buk-admin")
            assert shown["control"] is None and shown["tour"] is None
            assert near(position_of(shown), PtzPosition(0.0, 0.0, 0.0))
            watcher = asyncio.create_task(found.watch())
            try:
                yield found
            finally:
                watcher.cancel()


def assault() -> dict[str, Any]:
    return {
        "action": "raise",
        "incident": {
            "source": "112",
            "type": "assault",
            "at": {"lat": POINT[0], "lon": POINT[1]},
            "title": "초등학교 앞 폭행 신고",
            "external_id": "112-2026-0417",
        },
    }


class Stamps:
    """The PTZ positions the camera's RTSP stream stamps into its frames."""

    def __init__(self) -> None:
        self.positions: list[PtzPosition | None] = []

    def __call__(self, au: AccessUnit, media_time: int, wall: float | None) -> None:
        stamp = read_stamp("h264", au.nal_units)
        if stamp is not None:
            self.positions.append(stamp.position)


async def stamped(site: Site, frames: int = 5) -> list[PtzPosition | None]:
    stamps = Stamps()
    async with RtspClient(site.rtsp.url(site.camera, "sub"), on_access_unit=stamps):
        async with asyncio.timeout(5):
            while len(stamps.positions) < frames:
                await asyncio.sleep(0.02)
    return stamps.positions


async def test_an_operator_is_preempted_by_a_112_incident_and_the_camera_returns_to_its_tour(
    site: Site,
) -> None:
    camera = site.camera
    presets = await site.make_presets(["gate", "crossing", "market"])
    gate, crossing, market = presets

    # 1. 북구's enforcement tour runs: gate, crossing, market, then it waits for the revisits
    mark = time.monotonic()
    put = await site.tour(presets)
    assert put.status_code == 200, put.text
    assert await site.spots_visited(presets, 3, mark) == [gate, crossing, market]
    status = await site.tour_state("running", "wait")
    assert status["control"] is None
    assert status["background"]["name"] == f"enforcement tour of camera {camera}"
    tour = status["tour"]
    assert tour["state"] == "running" and tour["visits"] == 3
    assert tour["current"]["step"] == "wait"
    assert [p["preset"] for p in tour["pending_revisits"]] == [gate, crossing, market]
    assert near(position_of(status), SPOTS["market"])  # GetStatus through the server

    # the centre's operator takes the camera (agreement with ptz): the tour pauses
    took = await site.ptz(
        "city-operator",
        "control",
        {"purpose": "crime_prevention", "reason": "a fight reported at the school gate"},
    )
    assert took.status_code == 200, took.text
    held = took.json()
    assert held["holder"]["name"] == "city-operator"
    assert held["holder"]["priority_class"] == "operator"
    assert held["preempted"]["previous"]["kind"] == "tour"
    status = await site.status()
    assert status["tour"]["state"] == "paused"
    assert f"city-operator ({CITY}, centre operator)" in status["tour"]["cause"]

    await site.aim("city-operator", PtzPosition(0.5, -0.2, 0.3))
    nudged = await site.ptz(
        "city-operator", "move", {"mode": "relative", "pan": -0.1, "tilt": 0.1, "zoom": 0.1}
    )
    assert nudged.status_code == 200, nudged.text
    turned = PtzPosition(0.4, -0.1, 0.4)
    await site.settles_at(turned)
    assert near(position_of(await site.status()), turned)
    # what the camera sends: every frame's stamp carries where it points
    seen = await stamped(site)
    assert all(p is not None and near(p, turned) for p in seen), seen

    # 2. a 112 assault at the point: the police room's responder takes over with it as basis
    raised = await site.webhook(assault())
    assert raised.status_code == 201, raised.text
    incident = raised.json()
    assert camera in [c["camera_id"] for c in incident["cameras"]]
    reason = f"incident {incident['id']}: 112 assault at the school"
    police = await site.ptz(
        "police-112",
        "control",
        {"purpose": "investigation", "reason": reason, "case_number": "112-2026-0417"},
    )
    assert police.status_code == 200, police.text
    assert police.json()["holder"]["priority_class"] == "incident"
    assert police.json()["preempted"]["previous"]["name"] == "city-operator"
    assert f"by police-112 ({POLICE}, incident link)" in police.json()["preempted"]["message"]

    refused = await site.ptz("city-operator", "move", {"mode": "relative", "pan": 0.1})
    assert refused.status_code == 409, refused.text
    message = refused.json()["message"]
    assert refused.json()["code"] == "ptz_controlled"
    assert message.startswith(f"you no longer control camera {camera}: ")
    assert f"police-112 ({POLICE}, incident link): {reason}" in message
    assert near(site.where(), turned)  # the refused command did not reach the camera

    status = await site.status("police-112")
    holder = status["control"]["holder"]
    assert (holder["name"], holder["agency_name"]) == ("police-112", POLICE)
    assert (holder["priority_class"], holder["reason"]) == ("incident", reason)
    scene = PtzPosition(-0.3, 0.2, 0.6)
    await site.aim("police-112", scene)

    # the incident's mode runs no tour: suspended while the incident lists the camera
    await site.tour_state("suspended")

    # 3. the police release; the camera stays on the scene while the incident is open …
    released = await site.ptz("police-112", "release")
    assert released.status_code == 200, released.text
    await asyncio.sleep(0.6)  # more than two re-reads of the modes
    assert near(site.where(), scene)
    assert (await site.status("police-112"))["tour"]["state"] == "suspended"
    # … and returns to its tour when the 112 room closes the incident
    mark = time.monotonic()
    closed = await site.webhook(
        {"action": "close", "incident_id": incident["id"], "reason": "상황 종료"}
    )
    assert closed.status_code == 200, closed.text
    assert await site.spots_visited(presets, 2, mark) == [gate, crossing]
    tour = (await site.status())["tour"]
    assert tour["state"] == "running" and tour["cause"] is None
    assert {m["preset"] for m in tour["missed_revisits"]} == set(presets)

    entries = await site.audit()
    assert commands(entries, site.users) == [
        ("ptz.acquire", "allow", "city-operator"),
        ("ptz.absolute_move", "allow", "city-operator"),
        ("ptz.relative_move", "allow", "city-operator"),
        ("ptz.acquire", "allow", "police-112"),
        ("ptz.relative_move", "deny", "city-operator"),
        ("ptz.absolute_move", "allow", "police-112"),
        ("ptz.release", "allow", "police-112"),
    ]
    people = [e for e in entries if e["action"] not in ("ptz.tour", "ptz.tour_missed")]
    assert people[0]["grant"] == f"agreement:{site.agreement}"
    assert people[3]["grant"] == f"incident:{incident['id']}"
    assert people[3]["details"]["preempted"]["name"] == "city-operator"
    assert people[3]["details"]["case_number"] == "112-2026-0417"
    assert people[4]["reason"] == message
    assert [e["action"] for e in entries].count("ptz.tour") == 1
    missed = [e for e in entries if e["action"] == "ptz.tour_missed"]
    assert sorted(e["details"]["preset"] for e in missed) == sorted(presets)


async def test_two_operators_of_equal_priority_first_come_first_served(site: Site) -> None:
    camera = site.camera
    presets = await site.make_presets(["gate", "crossing"])
    gate, crossing = presets
    mark = time.monotonic()
    assert (await site.tour(presets)).status_code == 200
    assert await site.spots_visited(presets, 2, mark) == [gate, crossing]
    await site.tour_state("running", "wait")  # gate and crossing photographed once

    first = await site.ptz(
        "city-operator", "control", {"purpose": "crime_prevention", "reason": "a stolen car"}
    )
    assert first.status_code == 200, first.text
    lease = first.json()
    # the second operator of the same agency and agreement: equal rank, so refused
    second = await site.ptz(
        "city-operator-2", "control", {"purpose": "crime_prevention", "reason": "a lost child"}
    )
    assert second.status_code == 409, second.text
    refusal = second.json()
    assert refusal["code"] == "ptz_controlled"
    assert refusal["holder"]["name"] == "city-operator"
    assert refusal["frees_at"] == lease["expires_at"]  # 15 s after the holder's last command
    assert refusal["frees_by"] == lease["frees_by"]  # the end of the maximum hold
    assert datetime.fromisoformat(lease["frees_by"]) - datetime.fromisoformat(
        lease["acquired_at"]
    ) == timedelta(minutes=10)
    assert refusal["message"] == (
        f"camera {camera} is controlled by city-operator ({CITY}, centre operator) for "
        "'a stolen car' (equal priority, first come first served); it frees at "
        f"{clock_text(lease['expires_at'])} if they send no further command, and at the "
        f"latest at {clock_text(lease['frees_by'])}"
    )
    # nor may the second one command the camera
    sent_before = site.onvif.stats.requests
    pushed = await site.ptz("city-operator-2", "move", {"mode": "absolute", "pan": 0.9})
    assert pushed.status_code == 409
    assert pushed.json()["message"] == (
        f"you do not control camera {camera}: take control first "
        f"(it is controlled by city-operator ({CITY}, centre operator))"
    )
    assert site.onvif.stats.requests == sent_before
    assert near(site.where(), SPOTS["crossing"])

    await site.aim("city-operator", PtzPosition(0.3, -0.4, 0.5))
    released = await site.ptz("city-operator", "release")
    assert released.status_code == 200, released.text
    assert released.json()["returns_to"] == f"enforcement tour of camera {camera}"

    # now the second gets it (from the tour, which ranks below a centre operator)
    second = await site.ptz(
        "city-operator-2", "control", {"purpose": "crime_prevention", "reason": "a lost child"}
    )
    assert second.status_code == 200, second.text
    assert second.json()["holder"]["name"] == "city-operator-2"
    assert second.json()["preempted"]["previous"]["kind"] == "tour"
    await site.aim("city-operator-2", PtzPosition(-0.5, 0.3, 0.7))
    assert (await site.ptz("city-operator-2", "release")).status_code == 200

    # the tour goes on: it waits for gate's revisit, and the camera goes back to gate for it
    # rather than staying where the second operator left it
    await site.settles_at(SPOTS["gate"])
    status = await site.tour_state("running", "wait")
    assert status["tour"]["current"]["preset"] == gate
    assert [p["preset"] for p in status["tour"]["pending_revisits"]] == [gate, crossing]
    assert status["tour"]["missed_revisits"] == []

    assert commands(await site.audit(), site.users) == [
        ("ptz.acquire", "allow", "city-operator"),
        ("ptz.acquire", "deny", "city-operator-2"),
        ("ptz.absolute_move", "deny", "city-operator-2"),
        ("ptz.absolute_move", "allow", "city-operator"),
        ("ptz.release", "allow", "city-operator"),
        ("ptz.acquire", "allow", "city-operator-2"),
        ("ptz.absolute_move", "allow", "city-operator-2"),
        ("ptz.release", "allow", "city-operator-2"),
    ]


async def test_a_refusal_by_policy_sends_nothing_to_the_camera(site: Site) -> None:
    sent_before = site.onvif.stats.requests
    reasons: dict[str, str] = {}
    for user, purpose, case in (
        ("seo-operator", "crime_prevention", None),  # 서구: no agreement with 북구
        ("police-112", "investigation", "112-2026-0001"),  # no incident lists the camera
    ):
        refused = await site.ptz(
            user, "control", {"purpose": purpose, "reason": "just looking", "case_number": case}
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "ptz_refused"
        reasons[user] = refused.json()["message"]
        assert reasons[user] == f"no agreement covers {BUK} 교통단속 cameras for ptz"
        # the message is authorize's own reason, as its decision was audited
        assert await site.access_reasons(user) == [reasons[user]]
    pushed = await site.ptz("seo-operator", "move", {"mode": "relative", "pan": 0.5})
    assert pushed.status_code == 409
    assert "take control first" in pushed.json()["message"]
    assert site.onvif.stats.requests == sent_before  # not one request reached the camera
    assert len(site.unit) == 0  # the unit was never commanded
    assert near(site.where(), PtzPosition(0.0, 0.0, 0.0))

    # the centre's operator, whom the agreement covers, does reach it
    took = await site.ptz(
        "city-operator", "control", {"purpose": "crime_prevention", "reason": "patrol"}
    )
    assert took.status_code == 200, took.text
    assert (await site.ptz("city-operator", "move", {"mode": "relative", "pan": 0.5})).is_success
    await site.settles_at(PtzPosition(0.5, 0.0, 0.0))
    assert site.onvif.stats.requests > sent_before

    entries = await site.audit()
    assert commands(entries, site.users) == [
        ("ptz.acquire", "deny", "seo-operator"),
        ("ptz.acquire", "deny", "police-112"),
        ("ptz.relative_move", "deny", "seo-operator"),
        ("ptz.acquire", "allow", "city-operator"),
        ("ptz.relative_move", "allow", "city-operator"),
    ]
    assert [e["reason"] for e in entries[:2]] == [reasons["seo-operator"], reasons["police-112"]]
