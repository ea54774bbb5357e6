"""WS-Discovery over real UDP on 127.0.0.1: a Probe finds every announced camera with its
XAddrs and scopes, Types and Scopes narrow the answer, junk is ignored, and what was found is
enough to steer the camera."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from argus.onvif.client import OnvifDevice
from argus.onvif.discovery import DiscoveryResponder, build_probe, endpoint_address, probe
from argus.onvif.simulator import OnvifSimulator, SimulatedDevice, default_device

WSD_TYPES = "{http://www.onvif.org/ver10/network/wsdl}NetworkVideoTransmitter"


def devices(camera_id: int) -> SimulatedDevice:
    device = default_device(camera_id)
    if camera_id % 10 == 0:
        return replace(device, ptz=False, location="gwangju/buk-gu")
    return device


@pytest.fixture
async def responder() -> AsyncIterator[tuple[OnvifSimulator, DiscoveryResponder]]:
    async with OnvifSimulator(port=0, devices=devices, camera_ids=range(1, 200)) as onvif:
        discovery = DiscoveryResponder(onvif, range(1, 41))
        await discovery.start("127.0.0.1", 0)
        try:
            yield onvif, discovery
        finally:
            discovery.close()


async def test_probe_finds_every_camera(responder) -> None:
    onvif, discovery = responder
    matches = await probe(discovery.port, expect=40, timeout=5)
    assert len(matches) == 40
    by_address = {m.address: m for m in matches}
    seven = by_address[endpoint_address(7)]
    assert seven.xaddrs == (onvif.device_url(7),)
    assert WSD_TYPES in seven.types
    assert "onvif://www.onvif.org/name/argus-sim-7" in seven.scopes
    assert "onvif://www.onvif.org/type/ptz" in seven.scopes
    assert seven.metadata_version == 1
    assert endpoint_address(7) == endpoint_address(7) != endpoint_address(8)
    # what discovery found is where the camera answers
    async with OnvifDevice(seven.xaddrs[0], "admin", "admin") as device:
        assert (await device.information()).serial == "ARGUS0000000007"


async def test_types_and_scopes_narrow_the_answer(responder) -> None:
    _, discovery = responder
    ptz = await probe(discovery.port, scopes=["onvif://www.onvif.org/type/ptz"], timeout=0.3)
    assert len(ptz) == 36
    located = await probe(discovery.port, scopes=["onvif://www.onvif.org/location/gwangju"],
                          timeout=0.3)  # fmt: skip
    assert sorted(m.xaddrs[0].split("/")[-2] for m in located) == ["10", "20", "30", "40"]
    exact = await probe(discovery.port, scopes=["onvif://www.onvif.org/name/argus-sim-3"],
                        timeout=0.3)  # fmt: skip
    assert [m.address for m in exact] == [endpoint_address(3)]
    none = await probe(discovery.port, types=["tds:Printer"], timeout=0.3)
    assert none == []
    devices_only = await probe(discovery.port, types=["tds:Device"], expect=40, timeout=3)
    assert len(devices_only) == 40


async def test_junk_is_ignored_and_the_responder_goes_on(responder) -> None:
    _, discovery = responder
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.settimeout(0.3)
        for junk in (
            b"",
            b"<oops",
            b"\xff" * 100,
            b"<a/>",
            build_probe("x").replace(b"Probe", b"Prob"),
        ):
            sender.sendto(junk, ("127.0.0.1", discovery.port))
        with pytest.raises(TimeoutError):
            sender.recvfrom(65536)  # nothing is sent back for junk
    await asyncio.sleep(0.05)
    assert discovery.ignored == 5 and discovery.probes == 0
    assert len(await probe(discovery.port, expect=40, timeout=5)) == 40
    assert discovery.probes == 1
