"""The link to the picture: a PTZ move made over ONVIF shows in what that camera's RTSP stream
sends, in the stamp SEI (exactly) and in the picture (the heading label, at the next keyframe
once the heading's clip is made), read with the repository's RTSP client and decoded with PyAV.
Also the stamp extension on its own, and `run_simulator` serving RTSP, ONVIF and WS-Discovery
together."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import av
import numpy as np
import pytest

from argus.config import Settings
from argus.media.nal import AccessUnit
from argus.media.rtsp.client import RtspClient
from argus.media.sei import (
    STAMP_UUID,
    Codec,
    Stamp,
    build_stamp_nal,
    read_stamp,
    read_stamp_annexb,
)
from argus.media.simulator import Simulator, StreamSettings, run_simulator
from argus.media.simulator.picture import heading_box, label_box
from argus.media.simulator.ptz_view import sector_heading
from argus.onvif.client import OnvifPtzDriver
from argus.onvif.discovery import probe
from argus.onvif.motion import MotionSettings
from argus.onvif.ptz_state import PtzRegistry
from argus.onvif.simulator import OnvifSimulator
from argus.ptz.driver import PtzPosition

SMALL = StreamSettings(width=192, height=144, bitrate=100_000, gop_seconds=0.5, clip_seconds=1.0)


def test_stamp_extension_round_trip_and_old_layout() -> None:
    where = PtzPosition(0.5, -0.25, 0.125)
    codecs: tuple[Codec, ...] = ("h264", "h265")
    for codec in codecs:
        nal = build_stamp_nal(codec, 42, 1_700_000_000_000_000_000, 9, where)
        assert read_stamp(codec, [nal]) == Stamp(42, 1_700_000_000_000_000_000, 9, where)
        plain = build_stamp_nal(codec, 42, 5, 9)
        assert read_stamp(codec, [plain]) == Stamp(42, 5, 9) and Stamp(42, 5, 9).position is None
    # a reader of the old layout (version byte + 16 bytes, read from the payload's start) still
    # reads a stamp with a position: the body is unchanged and first
    nal = build_stamp_nal("h264", 7, 123, 4, where)
    from argus.media.nal import remove_emulation_prevention

    rbsp = remove_emulation_prevention(nal[1:])
    payload = rbsp[2 : 2 + rbsp[1]]
    assert payload.startswith(STAMP_UUID) and len(payload) == 16 + 17 + 25
    body = payload[16:33]
    assert body[0] == 1 and int.from_bytes(body[1:5], "big") == 7
    with pytest.raises(ValueError):
        build_stamp_nal("h264", 1, 1, 1, PtzPosition(float("nan"), 0, 0))


def test_sector_headings() -> None:
    assert sector_heading(0.0) == 0 and sector_heading(0.5) == 90 and sector_heading(-0.5) == 270
    assert sector_heading(1.0) == 180 == sector_heading(-1.0)
    assert sector_heading(0.08) == 0 and sector_heading(0.09) == 30  # 14.4° and 16.2°
    assert sector_heading(0.5, sectors=4) == 90 and sector_heading(0.3, sectors=1) == 0


class Watcher:
    """Access units of one stream: stamps as they arrive, and decoded lumas."""

    def __init__(self) -> None:
        self.stamps: list[tuple[float, Stamp]] = []
        self.decoder = av.CodecContext.create("h264", "r")
        self.lumas: list[tuple[float, np.ndarray]] = []

    def __call__(self, au: AccessUnit, media_time: int, wall: float | None) -> None:
        now = time.monotonic()
        stamp = read_stamp("h264", au.nal_units)
        if stamp is not None:
            self.stamps.append((now, stamp))
        units = list(au.nal_units)
        sets = au.parameter_sets
        if au.is_keyframe and sets.sps and sets.pps:
            units = [sets.sps, sets.pps, *units]
        data = b"".join(b"\x00\x00\x00\x01" + unit for unit in units)
        for packet in self.decoder.parse(data):
            for frame in self.decoder.decode(packet):
                self.lumas.append((now, frame.to_ndarray()[: frame.height]))


def heading_error(luma: np.ndarray, heading: int) -> float:
    y, x, expected = heading_box(heading, luma.shape[1], luma.shape[0])
    region = luma[y : y + expected.shape[0], x : x + expected.shape[1]].astype(np.int16)
    return float(np.abs(region - expected.astype(np.int16)).mean())


def shows(luma: np.ndarray, heading: int, *others: int) -> bool:
    """The heading label drawn is `heading`'s, clearly closer than any of `others`."""
    right = heading_error(luma, heading)
    wrong = [heading_error(luma, other) for other in others]
    print(f"heading {heading}: error {right:.1f}, others {[round(w, 1) for w in wrong]}")
    return right < 10 and all(w > right + 5 for w in wrong)


async def test_a_ptz_move_shows_in_the_stream(tmp_path: Path) -> None:
    registry = PtzRegistry(motion=MotionSettings(pan_tilt_seconds=0.5, zoom_seconds=0.5))
    async with (
        Simulator(port=0, cache_dir=tmp_path, main=SMALL, sub=SMALL, ptz=registry) as rtsp,
        OnvifSimulator(port=0, ptz=registry, media=rtsp) as onvif,
        OnvifPtzDriver(onvif.device_url(42), "admin", "admin") as driver,
    ):
        await rtsp.prepare([42], ["sub"], headings=[0, 90])  # encode both pictures up front
        watcher = Watcher()
        async with RtspClient(rtsp.url(42, "sub"), on_access_unit=watcher):
            await asyncio.sleep(0.6)
            moved_at = time.monotonic()
            await driver.absolute_move(0.5, -0.2, 0.3)
            async with asyncio.timeout(5):
                while (await driver.status()).moving:
                    await asyncio.sleep(0.05)
            settled_at = time.monotonic()
            await asyncio.sleep(1.2)  # past the next keyframe (every 0.5 s)
    before = [s for t, s in watcher.stamps if t < moved_at]
    after = [s for t, s in watcher.stamps if t > settled_at + 0.1]
    assert len(before) >= 5 and len(after) >= 10
    assert {s.camera_id for _, s in watcher.stamps} == {42}
    assert all(s.position == PtzPosition(0.0, 0.0, 0.0) for s in before)
    assert all(s.position == PtzPosition(0.5, -0.2, 0.3) for s in after)
    during = [s.position for t, s in watcher.stamps if moved_at < t < settled_at]
    assert any(p is not None and 0.0 < p.pan < 0.5 for p in during)  # seen on the way
    # the picture: heading 000 before, 090 once the stream reached a keyframe after the move
    first = watcher.lumas[2][1]
    last = watcher.lumas[-1][1]
    assert shows(first, 0, 90, 270) and shows(last, 90, 0, 270)
    y, x, id_label = label_box(42, SMALL.width, SMALL.height)  # the camera id stays drawn
    region = last[y : y + id_label.shape[0], x : x + id_label.shape[1]].astype(np.int16)
    assert float(np.abs(region - id_label.astype(np.int16)).mean()) < 20


async def test_the_picture_follows_once_a_new_heading_is_encoded(tmp_path: Path) -> None:
    """Without preparing: the stream keeps its clip while the new one is encoded, then switches."""
    registry = PtzRegistry(motion=MotionSettings(pan_tilt_seconds=0.2))
    async with Simulator(port=0, cache_dir=tmp_path, main=SMALL, sub=SMALL, ptz=registry) as rtsp:
        watcher = Watcher()
        async with RtspClient(rtsp.url(5, "sub"), on_access_unit=watcher):
            await asyncio.sleep(0.3)
            registry.absolute_move(5, -0.5, 0.0, 0.0)  # heading 270
            await asyncio.sleep(2.5)
        assert rtsp.stats.clips_encoded == 2
    assert shows(watcher.lumas[0][1], 0, 270, 90) and shows(watcher.lumas[-1][1], 270, 0, 90)
    numbers = [s.frame_no for _, s in watcher.stamps]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # no frame skipped


async def test_run_simulator_serves_rtsp_onvif_and_discovery(tmp_path: Path) -> None:
    ports = []
    for kind in (socket.SOCK_STREAM, socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    rtsp_port, onvif_port, discovery_port = ports
    ready = asyncio.Event()
    task = asyncio.create_task(
        run_simulator(
            Settings(data_dir=tmp_path),
            port=rtsp_port,
            ready=ready,
            main=SMALL,
            sub=SMALL,
            camera_ids=range(1, 4),
            onvif_port=onvif_port,
            discovery_port=discovery_port,
        )
    )
    try:
        async with asyncio.timeout(10):
            await ready.wait()
        matches = await probe(discovery_port, expect=3, timeout=3)
        xaddrs = sorted(m.xaddrs[0] for m in matches)
        assert xaddrs == [
            f"http://127.0.0.1:{onvif_port}/onvif/{n}/device_service" for n in (1, 2, 3)
        ]
        async with OnvifPtzDriver(xaddrs[1], "admin", "admin") as driver:
            await driver.absolute_move(-1.0, 0.0, 0.0)
            uri = await driver.device.stream_uri("main")
        assert uri == f"rtsp://127.0.0.1:{rtsp_port}/cameras/2/main"
        watcher = Watcher()
        async with RtspClient(uri, on_access_unit=watcher):
            await asyncio.sleep(2.5)
        assert watcher.stamps[-1][1].position == PtzPosition(-1.0, 0.0, 0.0)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_stamps_from_annexb_keep_the_position() -> None:
    where = PtzPosition(-1.0, 1.0, 1.0)
    nal = build_stamp_nal("h265", 3, 4, 5, where)
    assert read_stamp_annexb("h265", b"\x00\x00\x00\x01" + nal) == Stamp(3, 4, 5, where)
