"""Our RTSP client against an independent server: GStreamer's gst-rtsp-server (Debian),
streaming live x264 over real sockets; the access units are decoded by PyAV."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from argus.media.nal import AccessUnit
from argus.media.rtsp.client import RtspAuthError, RtspClient
from tests.media.test_media_e2e import free_port_pair

SERVER = Path(__file__).with_name("gst_rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def start(*auth: str) -> tuple[subprocess.Popen[str], int]:
    check = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
        capture_output=True,
    )
    if check.returncode != 0:
        pytest.fail(
            "GStreamer's RTSP server is missing: apt-get install python3-gi "
            "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly"
        )
    port = free_port_pair()
    proc = subprocess.Popen(
        [SYSTEM_PYTHON, str(SERVER), str(port), *auth], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc, port


@pytest.fixture
def gst() -> Iterator[int]:
    proc, port = start()
    yield port
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def gst_with_password() -> Iterator[int]:
    proc, port = start("viewer", "s3cret-pw")
    yield port
    proc.terminate()
    proc.wait(10)


async def pull(url: str, count: int, tmp_path: Path, **options: str) -> list[AccessUnit]:
    units: list[AccessUnit] = []
    done = asyncio.Event()

    def got(au: AccessUnit, media_time: int, wall_time: float | None) -> None:
        units.append(au)
        if len(units) >= count:
            done.set()

    async with RtspClient(url, on_access_unit=got, **options) as client:  # type: ignore[arg-type]
        await asyncio.wait_for(done.wait(), 20)
        assert client.codec == "h264"
    path = tmp_path / "gst.h264"
    path.write_bytes(b"".join(b"\0\0\0\1" + nal for au in units for nal in au.nal_units))
    with av.open(str(path), format="h264") as container:
        frames = list(container.decode(video=0))
    assert units[0].is_keyframe
    assert len(frames) >= count - 1
    assert (frames[0].width, frames[0].height) == (320, 240)
    return units


@pytest.mark.parametrize("transport", ["tcp", "udp"])
async def test_live_h264_from_gstreamer_decodes(gst: int, transport: str, tmp_path: Path) -> None:
    units = await pull(f"rtsp://127.0.0.1:{gst}/test", 30, tmp_path, transport=transport)
    assert sum(au.is_keyframe for au in units) >= 1


async def test_basic_authentication_with_gstreamer(gst_with_password: int, tmp_path: Path) -> None:
    url = f"rtsp://127.0.0.1:{gst_with_password}/test"
    await pull(url, 10, tmp_path, username="viewer", password="s3cret-pw")
    with pytest.raises(RtspAuthError):
        await pull(url, 10, tmp_path, username="viewer", password="wrong")
