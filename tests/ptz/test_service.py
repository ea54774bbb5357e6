"""PtzService over a real database (SQLite and PostgreSQL), fake cameras and a virtual clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from argus.errors import FieldError
from argus.identity.principal import Role
from argus.ptz.commands import MoveMode
from argus.ptz.lease import EndCause, LeaseEnded, Preempted
from argus.ptz.service import ControlConflict, PtzCommandFailed, PtzRefused, PtzService
from argus.ptz.tours import MissedRevisit, build_tour
from tests.ptz.conftest import Cameras, FakeTours
from tests.ptz.fakes import START, FakeAuthorizer, Verdict, VirtualTime, person
from tests.ptz.world import World
from tests.sharing.world import audit_entries


def ptz_entries(engine: Engine) -> list[dict[str, Any]]:
    return [e for e in audit_entries(engine) if e["action"].startswith("ptz.")]


def stops(*dwells: int) -> list[dict[str, Any]]:
    return [{"preset": f"p{i}", "dwell_s": d} for i, d in enumerate(dwells)]


async def test_every_command_is_authorized_sent_and_audited(
    ptz: PtzService,
    world: World,
    cameras: Cameras,
    authorizer: FakeAuthorizer,
    engine: Engine,
) -> None:
    kim = person(7, world.buk, Role.OPERATOR, name="kim")
    camera = world.parking
    control = await ptz.acquire(kim, camera, "crime_prevention", "a fight reported at the market")
    assert control.lease.holder.agency_name == "광주광역시 북구"
    await ptz.move(kim, camera, MoveMode.ABSOLUTE, 0.5, -0.2, 0.3)
    await ptz.move(kim, camera, MoveMode.CONTINUOUS, 0.1, 0.0, 0.0, timeout_s=2.0)
    await ptz.move(kim, camera, MoveMode.RELATIVE, -0.1, 0.1, 0.0)
    await ptz.stop(kim, camera)
    await ptz.goto_preset(kim, camera, "gate")
    await ptz.home(kim, camera)
    await ptz.release(kim, camera)

    assert cameras.drivers[camera].calls == [
        ("absolute_move", 0.5, -0.2, 0.3),
        ("continuous_move", 0.1, 0.0, 0.0, 2.0),
        ("relative_move", -0.1, 0.1, 0.0),
        ("stop",),
        ("goto_preset", "gate"),
        ("goto_home",),
        ("stop",),  # control ended: nothing may keep moving
    ]
    # the callback decided every command, with the purpose declared when taking control
    assert [c[2] for c in authorizer.calls] == ["crime_prevention"] * 7
    entries = ptz_entries(engine)
    assert [e["action"] for e in entries] == [
        "ptz.acquire",
        "ptz.absolute_move",
        "ptz.continuous_move",
        "ptz.relative_move",
        "ptz.stop",
        "ptz.goto_preset",
        "ptz.home",
        "ptz.release",
    ]
    for entry in entries:
        assert entry["outcome"] == "allow"
        assert entry["target"] == f"camera:{camera}"
        assert entry["actor_user_id"] == 7 and entry["actor_agency_id"] == world.buk
        assert entry["owner_agency_id"] == world.buk
        assert entry["purpose"] == "crime_prevention"
        assert entry["grant"] == "ownership:1"
        assert entry["client"] == "192.0.2.9"
        assert entry["details"]["priority_class"] == "operator"
    assert entries[0]["reason"] == "a fight reported at the market"
    assert entries[1]["details"]["pan"] == 0.5


async def test_a_refusal_is_audited_and_nothing_reaches_the_camera(
    ptz: PtzService, world: World, cameras: Cameras, authorizer: FakeAuthorizer, engine: Engine
) -> None:
    lee = person(8, world.city, Role.OPERATOR, name="lee")
    authorizer.verdicts[(8, world.parking)] = Verdict(False, "no agreement covers 북구 cameras")
    with pytest.raises(PtzRefused, match="no agreement covers"):
        await ptz.acquire(lee, world.parking, "crime_prevention", "checking")
    with pytest.raises(ControlConflict, match="take control first"):
        await ptz.move(lee, world.parking, MoveMode.RELATIVE, 0.1, 0.0, 0.0)
    with pytest.raises(FieldError) as bad:
        await ptz.move(lee, world.parking, MoveMode.ABSOLUTE, 1.5, 0.0, 0.0)
    assert bad.value.field == "pan"
    with pytest.raises(FieldError) as no_reason:
        await ptz.acquire(lee, world.parking, "crime_prevention", "  ")
    assert no_reason.value.field == "reason"
    assert world.parking not in cameras.drivers or cameras.drivers[world.parking].calls == []
    entries = ptz_entries(engine)
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("ptz.acquire", "deny"),
        ("ptz.relative_move", "deny"),
    ]
    assert entries[0]["reason"] == "no agreement covers 북구 cameras"


async def test_a_higher_priority_takes_over_and_the_holder_is_told_who_and_why(
    ptz: PtzService,
    world: World,
    authorizer: FakeAuthorizer,
    notices: list[object],
    engine: Engine,
    vt: VirtualTime,
) -> None:
    centre = person(8, world.city, Role.OPERATOR, name="lee")
    other = person(9, world.city, Role.OPERATOR, name="park")
    police = person(20, world.police, Role.RESPONDER, name="choi")
    camera = world.parking
    authorizer.verdicts[(8, camera)] = Verdict(True, "agreement 7", 50, "agreement:7")
    authorizer.verdicts[(9, camera)] = Verdict(True, "agreement 7", 50, "agreement:7")
    authorizer.verdicts[(20, camera)] = Verdict(True, "incident 12 is open", None, "incident:12")

    await ptz.acquire(centre, camera, "crime_prevention", "watching the crossing")
    vt.now += timedelta(seconds=4)
    with pytest.raises(ControlConflict) as equal:
        await ptz.acquire(other, camera, "crime_prevention", "me too")
    text = str(equal.value)
    assert "lee (광주광역시, centre operator)" in text and "first come first served" in text
    assert "01:00:15 UTC" in text  # idle release 15 s after lee's last command

    vt.now += timedelta(seconds=2)
    taken = await ptz.acquire(police, camera, "investigation", "incident 12: assault", "112-77")
    assert taken.preempted is not None and taken.preempted.previous.name == "lee"
    [notice] = [n for n in notices if isinstance(n, Preempted)]
    assert notice.previous.user_id == 8
    assert (notice.by.name, notice.by.agency_name) == ("choi", "광주북부경찰서")
    assert notice.by.class_label == "incident link" and notice.by.reason == "incident 12: assault"

    with pytest.raises(ControlConflict) as told:
        await ptz.move(centre, camera, MoveMode.RELATIVE, 0.1, 0.0, 0.0)
    assert "choi (광주북부경찰서, incident link)" in str(told.value)
    assert "incident 12: assault" in str(told.value)
    entries = ptz_entries(engine)
    assert [(e["action"], e["outcome"], e["actor_user_id"]) for e in entries] == [
        ("ptz.acquire", "allow", 8),
        ("ptz.acquire", "deny", 9),
        ("ptz.acquire", "allow", 20),
        ("ptz.relative_move", "deny", 8),
    ]
    assert entries[2]["details"]["preempted"]["name"] == "lee"
    assert entries[2]["details"]["case_number"] == "112-77"
    assert entries[2]["details"]["priority_class"] == "incident"


async def test_the_tour_pauses_for_a_person_and_resumes_where_it_left_off(
    ptz: PtzService, world: World, cameras: Cameras, tours: FakeTours, vt: VirtualTime
) -> None:
    camera = world.parking
    tours.tours[camera] = build_tour(camera, "enforcement", stops(60, 60, 60), 300)
    await ptz.sync_tours()
    await vt.advance(0)
    await vt.advance(90)  # p0 done at 60, p1 since 60
    driver = cameras.drivers[camera]
    assert driver.presets_visited() == ["p0", "p1"]
    kim = person(7, world.buk, Role.SUPERVISOR, name="kim")
    await ptz.acquire(kim, camera, "crime_prevention", "a crowd at the market")
    state = ptz.tour_state(camera)
    assert state is not None and state.state == "paused"
    assert state.cause is not None and "kim (광주광역시 북구, centre supervisor)" in state.cause
    await ptz.goto_preset(kim, camera, "market")
    await vt.advance(10)
    await ptz.release(kim, camera)
    await vt.advance(1)
    # p1 was cut short at 90: it is photographed again; then p2; nothing while kim had it
    await vt.advance(60)
    assert driver.presets_visited() == ["p0", "p1", "market", "p1", "p2"]
    state = ptz.tour_state(camera)
    assert state is not None and state.state == "running"
    assert [p.preset for p in state.pending] == ["p0", "p1"]


async def test_idle_expiry_returns_the_camera_and_revisits_that_passed_are_reported(
    sessions: Any,
    world: World,
    cameras: Cameras,
    authorizer: FakeAuthorizer,
    tours: FakeTours,
    vt: VirtualTime,
    notices: list[object],
    engine: Engine,
) -> None:
    service = PtzService(
        sessions,
        cameras,
        authorizer,
        tours=tours,
        idle_release=timedelta(seconds=120),
        notify=notices.append,
        clock=vt,
        sleep=vt.sleep,
    )
    camera = world.parking
    try:
        tours.tours[camera] = build_tour(camera, "enforcement", stops(60, 60, 60, 60), 300)
        await service.sync_tours()
        await vt.advance(250)  # first photos at 0, 60, 120, 180; waiting for 300
        police = person(20, world.police, Role.RESPONDER, name="choi")
        await service.acquire(police, camera, "investigation", "incident 3: robbery", "112-3")
        for _ in range(3):  # commands at 360, 470, 580: the lease lasts until 700
            await vt.advance(110)
            await service.move(police, camera, MoveMode.RELATIVE, 0.05, 0.0, 0.0)
        await vt.advance(120)
        ended = await service.expire_due()
        assert [e.cause for e in ended] == [EndCause.IDLE]
        assert ended[0].at == START + timedelta(seconds=700)
        await vt.advance(1)
        await vt.advance(60)
        driver = cameras.drivers[camera]
        # p0's window closed at 600 and p1's at 660: missed; p2 and p3 are revisited now
        assert driver.presets_visited()[-2:] == ["p2", "p3"]
        missed = [n for n in notices if isinstance(n, MissedRevisit)]
        assert [m.preset for m in missed] == ["p0", "p1"]
        assert all("taken over by choi (광주북부경찰서" in m.cause for m in missed)
        assert any(isinstance(n, LeaseEnded) and n.cause is EndCause.IDLE for n in notices)
        state = service.tour_state(camera)
        assert state is not None and [m.preset for m in state.missed] == ["p0", "p1"]
        entries = ptz_entries(engine)
        assert [e["action"] for e in entries if e["action"] != "ptz.relative_move"] == [
            "ptz.acquire",
            "ptz.expire",
            "ptz.tour_missed",
            "ptz.tour_missed",
        ]
        expired = next(e for e in entries if e["action"] == "ptz.expire")
        assert expired["actor_user_id"] == 20 and expired["details"]["cause"] == "idle"
        gone = [e for e in entries if e["action"] == "ptz.tour_missed"]
        assert gone[0]["outcome"] == "error" and gone[0]["details"]["preset"] == "p0"
        assert gone[0]["target"] == f"camera:{camera}"
    finally:
        await service.close()


async def test_a_revoked_allow_ends_control_at_the_next_command(
    ptz: PtzService,
    world: World,
    cameras: Cameras,
    authorizer: FakeAuthorizer,
    tours: FakeTours,
    vt: VirtualTime,
    engine: Engine,
) -> None:
    camera = world.parking
    tours.tours[camera] = build_tour(camera, "patrol", stops(30, 30))
    await ptz.sync_tours()
    await vt.advance(5)
    lee = person(8, world.city, Role.OPERATOR, name="lee")
    authorizer.verdicts[(8, camera)] = Verdict(True, "agreement 7", 40, "agreement:7")
    await ptz.acquire(lee, camera, "crime_prevention", "watching")
    authorizer.verdicts[(8, camera)] = Verdict(False, "agreement 7 was revoked")
    with pytest.raises(PtzRefused, match="agreement 7 was revoked"):
        await ptz.move(lee, camera, MoveMode.ABSOLUTE, 0.0, 0.0, 0.5)
    assert ptz.leases.lease(camera) is None
    state = ptz.tour_state(camera)
    assert state is not None and state.state == "running"
    await vt.advance(1)
    assert cameras.drivers[camera].presets_visited() == ["p0", "p0"]  # the patrol again
    entries = ptz_entries(engine)
    assert (entries[-1]["action"], entries[-1]["outcome"]) == ("ptz.absolute_move", "deny")
    assert entries[-1]["reason"] == "agreement 7 was revoked"


async def test_a_camera_failure_is_audited_as_an_error(
    ptz: PtzService, world: World, cameras: Cameras, engine: Engine
) -> None:
    kim = person(7, world.buk, Role.OPERATOR, name="kim")
    await ptz.acquire(kim, world.parking, "traffic", "checking a plate")
    cameras(world.parking).fail_with = "preset 'nowhere' unknown"
    with pytest.raises(PtzCommandFailed, match="preset 'nowhere' unknown") as failed:
        await ptz.goto_preset(kim, world.parking, "nowhere")
    assert failed.value.status_code == 502
    last = ptz_entries(engine)[-1]
    assert (last["action"], last["outcome"]) == ("ptz.goto_preset", "error")
    assert "preset 'nowhere' unknown" in last["reason"]


async def test_status_names_the_holder_the_expiry_the_tour_and_the_position(
    ptz: PtzService, world: World, tours: FakeTours, vt: VirtualTime
) -> None:
    camera = world.parking
    tours.tours[camera] = build_tour(camera, "enforcement", stops(20), 300)
    await ptz.sync_tours()
    await vt.advance(0)
    idle = (await ptz.status(camera)).as_json()
    assert idle["control"] is None
    assert idle["background"]["name"] == f"enforcement tour of camera {camera}"
    assert idle["background"]["agency_name"] == "광주광역시 북구"
    assert idle["tour"]["state"] == "running" and idle["tour"]["current"]["preset"] == "p0"
    kim = person(7, world.buk, Role.OPERATOR, name="kim")
    await ptz.acquire(kim, camera, "traffic", "plate check")
    await ptz.move(kim, camera, MoveMode.ABSOLUTE, 0.25, 0.5, 0.75)
    view = (await ptz.status(camera)).as_json()
    assert view["control"]["holder"]["name"] == "kim"
    assert view["control"]["expires_at"] == (START + timedelta(seconds=15)).isoformat()
    assert view["tour"]["state"] == "paused"
    assert view["position"] == {"pan": 0.25, "tilt": 0.5, "zoom": 0.75, "moving": False}
    vt.now += timedelta(seconds=16)
    later = (await ptz.status(camera)).as_json()
    assert later["control"] is None and later["tour"]["state"] == "running"


async def test_a_mode_change_suspends_the_tour_and_gives_up_its_revisits(
    ptz: PtzService, world: World, tours: FakeTours, vt: VirtualTime, engine: Engine
) -> None:
    camera = world.parking
    tour = build_tour(camera, "enforcement", stops(30, 30), 300)
    tours.tours[camera] = tour
    await ptz.sync_tours()
    await vt.advance(70)
    tours.tours.clear()  # e.g. 22:00: crime prevention, and no patrol
    await ptz.sync_tours()
    state = ptz.tour_state(camera)
    assert state is not None and state.state == "suspended" and state.pending == ()
    assert ptz.leases.background(camera) is None
    gone = [e for e in ptz_entries(engine) if e["action"] == "ptz.tour_missed"]
    assert [g["details"]["preset"] for g in gone] == ["p0", "p1"]
    assert "schedule does not run" in gone[0]["reason"]
    tours.tours[camera] = tour  # 07:00 the next day: back where it was
    await ptz.sync_tours()
    state = ptz.tour_state(camera)
    assert state is not None and state.state == "running"


async def test_start_and_close_run_the_background_work(
    ptz: PtzService,
    world: World,
    tours: FakeTours,
    vt: VirtualTime,
    cameras: Cameras,
    engine: Engine,
) -> None:
    camera = world.parking
    tours.tours[camera] = build_tour(camera, "patrol", stops(10))
    await ptz.start()
    await vt.advance(0)
    assert cameras.drivers[camera].presets_visited() == ["p0"]
    kim = person(7, world.buk, Role.OPERATOR, name="kim")
    await ptz.acquire(kim, camera, "traffic", "plate check")
    await vt.advance(16)  # the sweeper ends the idle lease
    await asyncio.sleep(0.3)  # its audit entry is written in a thread
    await vt.advance(1)
    assert ptz.leases.lease(camera) is None
    assert [e["action"] for e in ptz_entries(engine)][-1] == "ptz.expire"
    await ptz.close()
    assert cameras.drivers[camera].closed


async def test_a_preset_the_camera_fails_is_skipped_and_the_tour_goes_on(
    ptz: PtzService, world: World, cameras: Cameras, tours: FakeTours, vt: VirtualTime
) -> None:
    camera = world.parking
    cameras(camera).broken_presets.add("p0")
    tours.tours[camera] = build_tour(camera, "patrol", stops(20, 20))
    await ptz.sync_tours()
    await vt.advance(0)
    state = ptz.tour_state(camera)
    assert state is not None and state.last_error == "preset 'p0': no preset 'p0'"
    await vt.advance(5)  # the retry pause, then the next stop
    assert cameras.drivers[camera].presets_visited() == ["p1"]
    state = ptz.tour_state(camera)
    assert state is not None and state.last_error is None and state.state == "running"
    await vt.advance(20)  # p0 fails again; p1 again after the pause
    await vt.advance(5)
    assert cameras.drivers[camera].presets_visited() == ["p1", "p1"]


async def test_closing_the_incident_ends_the_control_resting_on_it(
    ptz: PtzService,
    world: World,
    authorizer: FakeAuthorizer,
    notices: list[object],
    engine: Engine,
) -> None:
    police = person(20, world.police, Role.RESPONDER, name="choi")
    centre = person(8, world.city, Role.OPERATOR, name="lee")
    camera = world.parking
    authorizer.verdicts[(20, camera)] = Verdict(True, "incident 12 is open", None, "incident:12")
    authorizer.verdicts[(8, camera)] = Verdict(True, "agreement 7", 50, "agreement:7")
    await ptz.acquire(police, camera, "crime_prevention", "incident 12: assault")
    assert await ptz.end_grant("agreement:7") == []  # another grant: nothing ends
    [ended] = await ptz.end_grant("incident:12")
    assert ended.cause is EndCause.REVOKED and ended.holder.name == "choi"
    assert (await ptz.status(camera, position=False)).lease is None
    with pytest.raises(ControlConflict):
        await ptz.move(police, camera, MoveMode.RELATIVE, 0.1, 0.0, 0.0)
    assert (await ptz.acquire(centre, camera, "crime_prevention", "after the incident")).lease
    expired = [e for e in ptz_entries(engine) if e["action"] == "ptz.expire"]
    assert [(e["actor_user_id"], e["details"]["cause"]) for e in expired] == [(20, "revoked")]
    assert any(isinstance(n, LeaseEnded) and n.cause is EndCause.REVOKED for n in notices)
