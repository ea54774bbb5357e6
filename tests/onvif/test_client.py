"""onvif-zeep-async against the ONVIF simulator over real sockets on 127.0.0.1.

First the library on its own (`ONVIFService`, its bundled WSDL) as an independent client:
device information, profiles, stream URI, a refused login, malformed SOAP that faults while the
server goes on serving. Then `OnvifPtzDriver`: every PTZ operation changes GetStatus as it
should, and failures (wrong password, no PTZ, no server, a server that never answers) become
`PtzDriverError`s that say what happened.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import numpy as np
import pytest
import zeep.exceptions

from argus.onvif.client import OnvifDevice, OnvifError, OnvifPtzDriver
from argus.onvif.motion import MotionSettings
from argus.onvif.ptz_state import PtzRegistry
from argus.onvif.simulator import FixedMedia, OnvifSimulator, SimulatedDevice, default_device
from argus.onvif.simulator.camera import ServiceUrls
from argus.ptz.driver import PtzDriverError, PtzPosition
from tests.onvif.soap_requests import fault_code, fault_subcodes, signed

SPEED = MotionSettings(pan_tilt_seconds=0.4, zoom_seconds=0.2, default_timeout_s=5.0)


def devices(camera_id: int) -> SimulatedDevice:
    device = default_device(camera_id)
    if camera_id == 2:  # a Hikvision-like camera: its own login, 401 for a refused one
        return replace(device, username="op", password="pa55", auth_fault_status=401)
    if camera_id == 3:
        return replace(device, ptz=False, model="Fixed dome")
    return device


@pytest.fixture
async def sim() -> AsyncIterator[OnvifSimulator]:
    media = FixedMedia(port=18554)
    simulator = OnvifSimulator(port=0, ptz=PtzRegistry(motion=SPEED), media=media, devices=devices)
    async with simulator:
        yield simulator


def wsdl(name: str) -> str:
    import onvif  # type: ignore[import-untyped, unused-ignore]

    return str(Path(onvif.__file__).parent / "wsdl" / name)


async def library_service(url: str, wsdl_name: str, binding: str, user: str, password: str):
    """The library's own service client, with its bundled WSDL (no Argus code involved)."""
    from onvif import ONVIFService  # type: ignore[import-untyped, unused-ignore]

    service = ONVIFService(url, user, password, wsdl(wsdl_name), no_cache=True,
                           binding_name=binding)  # fmt: skip
    await service.setup()
    return service


DEVICE = "{http://www.onvif.org/ver10/device/wsdl}DeviceBinding"
MEDIA = "{http://www.onvif.org/ver10/media/wsdl}MediaBinding"
PTZ = "{http://www.onvif.org/ver20/ptz/wsdl}PTZBinding"


async def test_the_library_reads_device_profiles_and_stream_uri(sim: OnvifSimulator) -> None:
    urls = sim.urls(42)
    device = await library_service(urls.device, "devicemgmt.wsdl", DEVICE, "admin", "admin")
    media = await library_service(urls.media, "media.wsdl", MEDIA, "admin", "admin")
    try:
        info = await device.GetDeviceInformation()
        assert (info.Manufacturer, info.SerialNumber) == ("Argus", "ARGUS0000000042")
        services = await device.GetServices({"IncludeCapability": False})
        assert {s.XAddr for s in services} == {urls.device, urls.media, urls.ptz}
        profiles = await media.GetProfiles()
        assert [p.token for p in profiles] == ["main", "sub"]
        main = profiles[0]
        assert main.VideoEncoderConfiguration.Encoding == "H264"
        assert main.VideoEncoderConfiguration.Resolution.Width == 1280
        assert main.PTZConfiguration.NodeToken == "PTZNode1"
        assert main.PTZConfiguration.DefaultPTZTimeout == dt.timedelta(seconds=5)
        setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
        uri = await media.GetStreamUri({"ProfileToken": "sub", "StreamSetup": setup})
        assert uri.Uri == "rtsp://127.0.0.1:18554/cameras/42/sub"
        when = await device.GetSystemDateAndTime()
        assert abs(when.UTCDateTime.Date.Year - dt.datetime.now(dt.UTC).year) <= 1
    finally:
        await device.close()
        await media.close()


@pytest.mark.parametrize(("camera_id", "status"), [(1, 400), (2, 401)])
async def test_a_refused_login_is_a_not_authorized_fault(sim, camera_id, status) -> None:
    urls = sim.urls(camera_id)
    ptz = await library_service(urls.ptz, "ptz.wsdl", PTZ, "admin", "nope")
    try:
        with pytest.raises(zeep.exceptions.Fault) as refused:
            await ptz.GetStatus({"ProfileToken": "main"})
        assert [code.localname for code in refused.value.subcodes] == ["NotAuthorized"]
    finally:
        await ptz.close()
    request = signed("<tds:GetScopes/>", "x", "y")
    async with (
        aiohttp.ClientSession() as http,  # the HTTP status real cameras use
        http.post(urls.device, data=request) as answer,
    ):
        assert answer.status == status
        assert answer.content_type == "application/soap+xml"
        assert fault_subcodes(await answer.read()) == ["NotAuthorized"]


async def test_malformed_soap_faults_and_the_server_serves_others(sim: OnvifSimulator) -> None:
    urls = sim.urls(5)
    async with aiohttp.ClientSession() as http:
        for body in (b"<oops", b"\x00\x01\x02", b""):
            async with http.post(urls.ptz, data=body) as answer:
                assert answer.status == 400
                assert fault_subcodes(await answer.read()) == ["WellFormed"]
        async with http.post(urls.ptz, data=b"<a/>" * 100_000) as answer:
            assert answer.status == 413
            assert fault_code(await answer.read()) == "Sender"
        async with http.post(urls.device.replace("/5/", "/5x/"), data=b"<a/>") as answer:
            assert answer.status == 404
        async with http.get(urls.device) as answer:
            assert answer.status == 405
    driver = OnvifPtzDriver(sim.device_url(6), "admin", "admin")
    try:
        await driver.absolute_move(0.2, 0.0, 0.0)
        assert (await driver.status()).moving
    finally:
        await driver.close()
    assert sim.ptz.status(5).position == PtzPosition(0.0, 0.0, 0.0)  # untouched by the junk


async def wait_idle(driver: OnvifPtzDriver, timeout: float = 5.0):
    async with asyncio.timeout(timeout):
        while True:
            status = await driver.status()
            if not status.moving:
                return status
            await asyncio.sleep(0.05)


def close_to(position: PtzPosition, pan: float, tilt: float, zoom: float) -> bool:
    return all(
        abs(a - b) < 1e-6
        for a, b in zip(
            (position.pan, position.tilt, position.zoom), (pan, tilt, zoom), strict=True
        )
    )


async def test_every_ptz_operation_changes_the_status(sim: OnvifSimulator) -> None:
    async with OnvifPtzDriver(sim.device_url(7), "admin", "admin") as driver:
        assert driver.profile_token == "main"
        start = await driver.status()
        assert not start.moving and close_to(start.position, 0, 0, 0)
        # continuous move, then stop: moving, then still somewhere to the right
        await driver.continuous_move(0.5, 0.0, 0.0, timeout_s=10)
        await asyncio.sleep(0.2)
        moving = await driver.status()
        assert moving.moving and moving.position.pan > 0.05
        await driver.stop()
        stopped = await driver.status()
        assert not stopped.moving and 0.05 < stopped.position.pan < 0.9
        await asyncio.sleep(0.2)
        assert (await driver.status()).position == stopped.position
        # a continuous move ends at its timeout
        await driver.continuous_move(0.0, -1.0, 0.0, timeout_s=0.1)
        tilted = await wait_idle(driver)
        assert -0.8 < tilted.position.tilt < -0.2
        # absolute
        await driver.absolute_move(-0.5, 0.25, 0.75)
        assert (await driver.status()).moving
        assert close_to((await wait_idle(driver)).position, -0.5, 0.25, 0.75)
        # relative, from there
        await driver.relative_move(0.25, -0.25, -0.5)
        assert close_to((await wait_idle(driver)).position, -0.25, 0.0, 0.25)
        # presets: set, list, go, overwrite, remove
        gate = await driver.set_preset("gate")
        await driver.absolute_move(0.6, -0.1, 0.0)
        await wait_idle(driver)
        square = await driver.set_preset("square")
        presets = {p.token: p for p in await driver.presets()}
        assert presets[gate].name == "gate" and presets[square].name == "square"
        gate_position = presets[gate].position
        assert gate_position is not None and close_to(gate_position, -0.25, 0.0, 0.25)
        await driver.goto_preset(gate)
        assert close_to((await wait_idle(driver)).position, -0.25, 0.0, 0.25)
        assert await driver.set_preset("gate, again", gate) == gate
        assert {p.name for p in await driver.presets()} == {"gate, again", "square"}
        with pytest.raises(PtzDriverError, match="PresetExist"):
            await driver.set_preset("square")
        ptz = await library_service(sim.urls(7).ptz, "ptz.wsdl", PTZ, "admin", "admin")
        try:  # RemovePreset and SetHomePosition are not in the driver protocol: the library
            await ptz.RemovePreset({"ProfileToken": "main", "PresetToken": square})
            assert [p.token for p in await driver.presets()] == [gate]
            with pytest.raises(PtzDriverError, match=r"ter:NoToken"):
                await driver.goto_preset(square)
            # home: the default home first, then one set here
            await driver.goto_home()
            assert close_to((await wait_idle(driver)).position, 0, 0, 0)
            await driver.absolute_move(0.3, 0.3, 0.1)
            await wait_idle(driver)
            await ptz.SetHomePosition({"ProfileToken": "main"})
            await driver.absolute_move(-0.3, 0.0, 0.0)
            await wait_idle(driver)
            await driver.goto_home()
            assert close_to((await wait_idle(driver)).position, 0.3, 0.3, 0.1)
        finally:
            await ptz.close()
    assert sim.ptz.position(7) == PtzPosition(0.3, 0.3, 0.1)


async def test_concurrent_commands_share_one_connection(sim: OnvifSimulator) -> None:
    driver = OnvifPtzDriver(sim.device_url(13), "admin", "admin")
    try:
        statuses = await asyncio.gather(*(driver.status() for _ in range(20)))
        assert {s.position for s in statuses} == {PtzPosition(0.0, 0.0, 0.0)}
        await asyncio.gather(driver.absolute_move(0.4, 0.0, 0.0), driver.status())
        assert sim.ptz.status(13).moving
    finally:
        await driver.close()


async def test_device_helpers(sim: OnvifSimulator) -> None:
    async with OnvifDevice(sim.device_url(3), "admin", "admin") as device:
        info = await device.information()
        assert (info.model, info.serial) == ("Fixed dome", "ARGUS0000000003")
        profiles = await device.profiles()
        assert [(p.token, p.width, p.ptz_configuration) for p in profiles] == [
            ("main", 1280, None),
            ("sub", 640, None),
        ]
        assert await device.stream_uri("main") == "rtsp://127.0.0.1:18554/cameras/3/main"
        assert not device.has_service("ptz")
        with pytest.raises(OnvifError, match="no ptz service"):
            await device.call("ptz", "GetNodes")


async def test_driver_failures_say_what_happened(sim: OnvifSimulator) -> None:
    wrong = OnvifPtzDriver(sim.device_url(2), "op", "wrong")
    with pytest.raises(PtzDriverError, match="refused the user name or password"):
        await wrong.status()
    await wrong.close()
    right = OnvifPtzDriver(sim.device_url(2), "op", "pa55")
    assert not (await right.status()).moving
    await right.close()
    fixed = OnvifPtzDriver(sim.device_url(3), "admin", "admin")
    with pytest.raises(PtzDriverError, match="no PTZ service"):
        await fixed.connect()
    await fixed.close()
    other = OnvifPtzDriver(sim.device_url(4), "admin", "admin", profile_token="third")
    with pytest.raises(PtzDriverError, match="no media profile 'third'"):
        await other.stop()
    await other.close()
    async with OnvifPtzDriver(sim.device_url(4), "admin", "admin") as driver:
        with pytest.raises(PtzDriverError, match="InvalidPosition"):
            await driver.absolute_move(1.5, 0.0, 0.0)
        with pytest.raises(PtzDriverError, match="velocity 2 is not in"):
            await driver.continuous_move(2.0, 0.0, 0.0)
        with pytest.raises(PtzDriverError, match="finite"):
            await driver.relative_move(float("nan"), 0.0, 0.0)
    with pytest.raises(PtzDriverError, match="not an ONVIF device service URL"):
        OnvifPtzDriver("rtsp://127.0.0.1/x", "a", "b")


async def test_the_client_stays_on_the_host_and_port_it_was_given(sim, monkeypatch) -> None:
    given = sim.urls(8).device
    announced = sim.urls

    def elsewhere(camera_id: int) -> ServiceUrls:  # the camera announces port 1 (closed)
        urls = announced(camera_id)
        moved = (u.replace(f":{sim.port}/", ":1/") for u in (urls.device, urls.media, urls.ptz,
                                                            urls.snapshot))  # fmt: skip
        return ServiceUrls(*moved)

    monkeypatch.setattr(sim, "urls", elsewhere)
    async with OnvifPtzDriver(given, "admin", "admin") as pinned:
        await pinned.absolute_move(0.1, 0.0, 0.0)
    unpinned = OnvifPtzDriver(given, "admin", "admin", pin_host=False)
    with pytest.raises(PtzDriverError, match="cannot connect"):
        await unpinned.status()
    await unpinned.close()


async def test_no_server_and_a_silent_server(unused_tcp_port: int) -> None:
    gone = OnvifPtzDriver(f"http://127.0.0.1:{unused_tcp_port}/onvif/1/device_service", "a", "b")
    with pytest.raises(PtzDriverError, match="cannot connect"):
        await gone.status()
    await gone.close()

    held: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.read(65536)

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    silent = OnvifPtzDriver(
        f"http://127.0.0.1:{port}/onvif/device_service", "a", "b", timeout_s=0.5
    )
    try:
        with pytest.raises(PtzDriverError, match=r"no answer within 0.5 s"):
            await silent.stop()
    finally:
        await silent.close()
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_not_soap_at_all(unused_tcp_port: int) -> None:
    from aiohttp import web

    async def teapot(request: web.Request) -> web.Response:
        return web.Response(status=418, text="")

    app = web.Application()
    app.router.add_post("/onvif/device_service", teapot)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        driver = OnvifPtzDriver(f"http://127.0.0.1:{unused_tcp_port}/onvif/device_service",
                                "a", "b")  # fmt: skip
        with pytest.raises(PtzDriverError, match="HTTP 418 without a SOAP answer"):
            await driver.status()
        await driver.close()
    finally:
        await runner.cleanup()


async def test_h265_camera_profiles(tmp_path: Path) -> None:
    from argus.media.simulator import Simulator

    async with (
        Simulator(port=0, cache_dir=tmp_path, h265={9}) as rtsp,
        OnvifSimulator(port=0, media=rtsp) as onvif,
        OnvifDevice(onvif.device_url(9), "admin", "admin") as device,
    ):
        profiles = await device.profiles()
        assert {p.encoding for p in profiles} == {"H265"}
        assert await device.stream_uri("main") == rtsp.url(9, "main")


async def test_snapshot_uri_serves_the_cameras_picture(sim: OnvifSimulator) -> None:
    from argus.media.simulator.picture import heading_box

    async with OnvifDevice(sim.device_url(12), "admin", "admin") as device:
        answer = await device.call("media", "GetSnapshotUri", {"ProfileToken": "sub"})
    assert answer.Uri == f"{sim.urls(12).snapshot}?profile=sub"
    login = {"Authorization": aiohttp.encode_basic_auth("admin", "admin")}

    async def heading_errors() -> dict[int, float]:
        async with aiohttp.ClientSession() as http, http.get(answer.Uri, headers=login) as image:
            assert image.status == 200 and image.content_type == "image/jpeg"
            jpeg = await image.read()
        assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
        luma = decode_jpeg(jpeg)
        assert luma.shape == (360, 640)  # the sub profile's size
        errors = {}
        for heading in (0, 90):
            y, x, label = heading_box(heading, 640, 360)
            region = luma[y : y + label.shape[0], x : x + label.shape[1]]
            errors[heading] = float(np.abs(region - label.astype(np.float64)).mean())
        return errors

    async with aiohttp.ClientSession() as http, http.get(answer.Uri) as refused:
        assert refused.status == 401 and "Basic" in refused.headers["WWW-Authenticate"]
    before = await heading_errors()
    assert before[0] + 5 < before[90]
    sim.ptz.absolute_move(12, 0.5, 0.0, 0.0)
    await asyncio.sleep(0.5)  # the move takes 0.1 s
    after = await heading_errors()
    assert after[90] + 5 < after[0]


def decode_jpeg(data: bytes) -> np.ndarray:
    import io

    import av

    with av.open(io.BytesIO(data), "r") as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="gray").astype(np.float64)
