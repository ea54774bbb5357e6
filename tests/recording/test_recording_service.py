"""The recording service inside the media plane: plans and triggers (recording on incident)
start and stop recorders by themselves, as `make demo` and `argus serve` run them.

The camera side replays a real H.264 sample into the hub at 15 fps (tests/media/replay.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from argus.api.app import create_app
from argus.config import Settings
from argus.db import make_sessionmaker, transaction
from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.recording.check import check
from argus.recording.models import Segment
from argus.recording.plans import parse_windows, set_plans
from argus.recording.volumes import volumes_of
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose
from tests.media.replay import ReplayFactory

PASSWORD = "Gwangju-2026!"


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.fixture
def media(
    settings: Settings, engine: Engine, registry: Registry
) -> Iterator[tuple[TestClient, list[int], int]]:
    buk = registry.create_agency(
        AgencyCreate(name="광주광역시 북구", kind=AgencyKind.DISTRICT, district="북구")
    ).id
    other = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    site = registry.create_site(SiteCreate(owner_id=buk, lat=35.174, lon=126.912))
    cameras = [
        registry.create_camera(
            CameraCreate(
                site_id=site.id,
                purpose=Purpose.TRAFFIC_ENFORCEMENT,
                main_stream_url=f"rtsp://127.0.0.1:8554/cameras/{n}/main",
            )
        ).id
        for n in range(3)
    ]
    fast = settings.model_copy(
        update={
            "recording_plan_seconds": 0.1,
            "recording_sync_seconds": 0.1,
            "recording_segment_seconds": 1.0,
            "media_linger": 0.2,
        }
    )
    app = create_app(fast, engine, puller_factory=ReplayFactory(fps=15))
    for name, agency, role in [
        ("buk-operator", buk, Role.OPERATOR),
        ("city-operator", other, Role.OPERATOR),
    ]:
        app.state.identity.users.create_user(
            Console("test"),
            UserCreate(username=name, agency_id=agency, roles=[role], password=PASSWORD),
        )
    with TestClient(app) as client:
        yield client, cameras, buk


def segments(engine: Engine, camera: int) -> list[Segment]:
    with make_sessionmaker(engine)() as session:
        return list(
            session.scalars(select(Segment).where(Segment.camera_id == camera).order_by(Segment.id))
        )


def bearer(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_plans_start_and_stop_recorders_by_themselves(media, settings, engine) -> None:
    _, (continuous, scheduled, _), _ = media
    sessions = make_sessionmaker(engine)
    # a window that is not now (12 hours away) records nothing
    hour = (time.gmtime().tm_hour + 12 + 9) % 24  # in Asia/Seoul
    window = parse_windows([{"start": f"{hour:02d}:00", "end": f"{hour:02d}:30"}])
    with transaction(sessions) as session:
        set_plans(session, [continuous], "continuous", "main", [], "Asia/Seoul")
        set_plans(session, [scheduled], "scheduled", "main", window, "Asia/Seoul")
    wait_for(lambda: len([s for s in segments(engine, continuous) if s.state == "closed"]) >= 2)
    assert segments(engine, scheduled) == []
    with transaction(sessions) as session:
        set_plans(session, [continuous], "off", "main", [], "Asia/Seoul")
    wait_for(lambda: all(s.state == "closed" for s in segments(engine, continuous)))
    count = len(segments(engine, continuous))
    time.sleep(0.5)
    assert len(segments(engine, continuous)) == count  # stopped: nothing new
    report = check(sessions, volumes_of(settings), deep=True)
    assert report.ok, report.as_json()


def test_a_trigger_records_a_camera_until_it_is_stopped(media, engine) -> None:
    client, (_, _, camera), _ = media
    operator = bearer(client, "buk-operator")
    # another agency's staff may not make this camera record
    refused = client.post(
        "/api/recordings/triggers",
        json={"camera_ids": [camera], "minutes": 5, "reason": "112 신고: 폭행"},
        headers=bearer(client, "city-operator"),
    )
    assert refused.status_code == 403
    for bad in ({"minutes": 0}, {"minutes": 24 * 60 + 1}, {"reason": " "}, {"camera_ids": [999]}):
        body = {"camera_ids": [camera], "minutes": 5, "reason": "112 신고: 폭행", **bad}
        r = client.post("/api/recordings/triggers", json=body, headers=operator)
        assert r.status_code in (404, 422), (bad, r.text)
    assert client.get("/api/recordings/triggers", headers=operator).json() == []
    made = client.post(
        "/api/recordings/triggers",
        json={"camera_ids": [camera], "minutes": 5, "reason": "112 신고: 폭행", "incident_id": 7},
        headers=operator,
    )
    assert made.status_code == 201, made.text
    trigger = made.json()[0]
    wait_for(lambda: any(s.frames > 0 for s in segments(engine, camera)))
    listed = client.get("/api/recordings/triggers", headers=operator).json()
    assert [t["id"] for t in listed] == [trigger["id"]] and listed[0]["incident_id"] == 7
    stopped = client.post(f"/api/recordings/triggers/{trigger['id']}/stop", headers=operator)
    assert stopped.status_code == 200, stopped.text
    wait_for(lambda: all(s.state == "closed" for s in segments(engine, camera)))
    again = client.post(f"/api/recordings/triggers/{trigger['id']}/stop", headers=operator)
    assert again.status_code == 409
    assert client.get("/api/recordings/triggers", headers=operator).json() == []
