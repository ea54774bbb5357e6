"""Incidents end to end over real sockets: the real API server (uvicorn), the signed webhook as
a 112 room's system sends it, the police responder's real WebSocket live view decoded by PyAV,
the push to the screens, and the close that ends the view within a second; then the PIPA
ledger of the camera's owner shows the provision with the incident as its basis."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import Engine

from argus.api.app import create_app
from argus.config import Settings
from argus.incidents.webhook import load_key, sign
from argus.registry.service import Registry
from tests.agreements import bearer
from tests.incidents.world import PASSWORD, POINT, World, build_world
from tests.media.live_server import serve
from tests.media.replay import ReplayFactory
from tests.media.test_live_ws import connect, decode, receive_view

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class Site:
    base: str
    ws: str
    world: World
    key: bytes
    app: Any

    def headers(self, username: str) -> dict[str, str]:
        return bearer(self.base, username, PASSWORD)

    def webhook(self, message: dict[str, Any]) -> httpx.Response:
        body = json.dumps(message).encode()
        headers = {"Content-Type": "application/json", **sign(self.key, body)}
        return httpx.post(f"{self.base}/api/incidents/webhook", content=body, headers=headers)

    def token(self, username: str, camera: int, capability: str = "live") -> httpx.Response:
        return httpx.post(
            f"{self.base}/api/access/token",
            headers=self.headers(username),
            json={"camera_id": camera, "capability": capability, "purpose": "crime_prevention"},
        )


@pytest.fixture
def site(settings: Settings, engine: Engine, registry: Registry) -> Iterator[Site]:
    app = create_app(
        settings.model_copy(update={"media_linger": 0.5}),
        engine,
        puller_factory=ReplayFactory(fps=15),
    )
    world = build_world(registry, app)
    with serve(app) as base:
        yield Site(base, base.replace("http", "ws"), world, load_key(settings.data_dir), app)


def assault(external_id: str = "112-2026-0001") -> dict[str, Any]:
    return {
        "action": "raise",
        "incident": {
            "source": "112",
            "type": "assault",
            "at": {"lat": POINT[0], "lon": POINT[1]},
            "title": "초등학교 앞 폭행 신고",
            "external_id": external_id,
        },
    }


async def next_incident(ws: websockets.ClientConnection) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if message["type"] == "incident":
            return dict(message)


async def test_a_112_assault_reaches_the_police_and_closing_ends_the_view(
    site: Site, tmp_path: Path
) -> None:
    w = site.world
    push_url = f"{site.ws}/api/incidents/events"
    police = site.headers("police-112")
    async with (
        websockets.connect(push_url, additional_headers=police) as police_push,
        websockets.connect(push_url, additional_headers=site.headers("city-operator")) as centre,
    ):
        hello = json.loads(await asyncio.wait_for(police_push.recv(), 5))
        assert hello == {"type": "hello", "live": []}
        await asyncio.wait_for(centre.recv(), 5)

        t0 = time.perf_counter()
        raised = site.webhook(assault())
        assert raised.status_code == 201, raised.text
        incident = raised.json()
        pushed = await next_incident(police_push)
        assert time.perf_counter() - t0 < 1.0  # intake → the responder's screen
        assert pushed["change"] == "raised" and pushed["for_you"] is True
        assert pushed["incident"]["id"] == incident["id"]
        on_wall = await next_incident(centre)  # the centre's wall hears of it too
        assert on_wall["incident"]["id"] == incident["id"] and on_wall["for_you"] is False

        # the cameras within 500 m, the one facing the point first; the far one left out
        cameras = [c["camera_id"] for c in incident["cameras"]]
        assert set(cameras) == {w.facing, w.away, w.ptz, w.city_cam}
        assert cameras[0] in (w.facing, w.city_cam)
        assert incident["provides"] is True
        assert incident["responding_agency_id"] == w.police

        # the police responder watches 북구's camera: no agreement, the incident is the basis
        token = site.token("police-112", w.facing)
        assert token.status_code == 200, token.text
        assert token.json()["grant"] == f"incident:{incident['id']}"
        url = f"{site.ws}/api/live/{w.facing}?token={token.json()['token']}"
        async with connect(url) as view:
            _init, segment, media, _first = await receive_view(view, 20)
            clip = tmp_path / "view.mp4"
            clip.write_bytes(segment + b"".join(media))
            assert len(decode(clip)) >= 15

            closed = httpx.post(
                f"{site.base}/api/incidents/{incident['id']}/close",
                headers=police,
                json={"reason": "상황 종료"},
            )
            assert closed.status_code == 200, closed.text
            t1 = time.perf_counter()
            with pytest.raises(websockets.ConnectionClosed) as ended:
                while True:
                    await asyncio.wait_for(view.recv(), 5)
            assert time.perf_counter() - t1 < 1.0
            assert ended.value.rcvd is not None and ended.value.rcvd.code == 4403
            assert f"incident {incident['id']} was closed" in ended.value.rcvd.reason
        assert (await next_incident(police_push))["change"] == "closed"

    again = site.token("police-112", w.facing)
    assert again.status_code == 403 and "closed" in again.json()["message"]
    # playback of what happened lingers after the close
    assert site.token("police-112", w.facing, "playback").status_code == 200

    ledger = httpx.get(f"{site.base}/api/ledger", headers=site.headers("buk-auditor")).json()
    provided = [r for r in ledger["rows"] if r["kind"] == "제공"]
    assert provided, ledger
    row = provided[0]
    assert row["recipient"].startswith("광주경찰청 112치안종합상황실")
    assert f"incident {incident['id']}" in row["legal_basis"]
    assert "개인정보 보호법" in row["legal_basis"]


async def test_the_incident_grant_ends_at_the_police_and_reaches_no_one_else(site: Site) -> None:
    w = site.world
    incident = site.webhook(assault("112-2026-0002")).json()
    refused = site.token("fire-119", w.facing)  # another room: not the responding agency
    assert refused.status_code == 403
    assert refused.json()["code"] == "no_agreement"
    # nor does the incident lend the police a camera it did not select
    outside = site.token("police-112", w.far)
    assert outside.status_code == 403
    listed = httpx.get(f"{site.base}/api/incidents", headers=site.headers("fire-119")).json()
    assert incident["id"] not in [i["id"] for i in listed]


async def test_an_emergency_bell_pops_up_the_nearest_camera_on_the_centre_screen(
    site: Site,
) -> None:
    w = site.world
    async with websockets.connect(
        f"{site.ws}/api/incidents/events", additional_headers=site.headers("city-operator")
    ) as centre:
        await asyncio.wait_for(centre.recv(), 5)
        raised = site.webhook(
            {
                "action": "raise",
                "incident": {
                    "source": "emergency_bell",
                    "type": "emergency_bell",
                    "at": {"lat": POINT[0], "lon": POINT[1]},
                    "external_id": "bell-17-20261203T1502",
                },
            }
        )
        assert raised.status_code == 201, raised.text
        pushed = await next_incident(centre)
    assert pushed["for_you"] is True  # the centre responds to its bells
    first = raised.json()["cameras"][0]["camera_id"]
    assert pushed["popup_camera_id"] == first
    assert first in (w.facing, w.away, w.city_cam)


async def test_a_browser_page_signs_in_to_the_push_with_its_first_message(site: Site) -> None:
    token = site.headers("police-112")["Authorization"].removeprefix("Bearer ")
    async with websockets.connect(f"{site.ws}/api/incidents/events") as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert hello["type"] == "hello"
        raised = site.webhook(assault("112-2026-0003")).json()
        assert (await next_incident(ws))["incident"]["id"] == raised["id"]
    for first in ({"type": "auth", "token": "not-a-token"}, {"type": "hello"}):
        async with websockets.connect(f"{site.ws}/api/incidents/events") as ws:
            await ws.send(json.dumps(first))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
