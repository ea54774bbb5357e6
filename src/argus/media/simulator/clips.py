"""Simulator clips: encoded once with PyAV, cached on disk, pre-packetized for looping.

A clip is a whole number of GOPs of the simulated picture (labelled with a camera id or not,
and for a PTZ camera showing one heading: a clip per pan sector, made when first needed),
H.264 (libx264, no B-frames) or H.265 (libx265, no B-frames), parameter sets repeated at every
keyframe. On disk it is kept under a name that spells out its encoding settings; in memory as
RTP payloads per frame, so that sending costs only a 12-byte header per packet.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import struct
import tempfile
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from argus.media.nal import split_annexb
from argus.media.packetize import packetizer_for
from argus.media.rtsp.server import h264_fmtp, h265_fmtp
from argus.media.simulator.picture import Pattern, label_box

log = logging.getLogger(__name__)

Codec = Literal["h264", "h265"]
PATTERN_VERSION = 1
"""Bump when the picture changes, so that cached clips are made anew."""

_MAGIC = b"ARGUS-CLIP 1\n"
_LENGTH = struct.Struct("!I")


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """How one stream kind (main or sub) is encoded and sent."""

    width: int = 1280
    height: int = 720
    fps: float = 15.0
    bitrate: int = 1_000_000
    gop_seconds: float = 2.0
    clip_seconds: float = 4.0
    h264_profile: Literal["baseline", "main"] = "main"
    mtu: int = 1400

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2 or self.width < 16 or self.height < 16:
            raise ValueError(f"stream size {self.width}x{self.height} must be even, ≥ 16x16")
        if not 1 <= self.fps <= 120:
            raise ValueError(f"fps {self.fps} is not between 1 and 120")
        if self.bitrate < 10_000 or self.gop_seconds <= 0 or self.clip_seconds <= 0:
            raise ValueError("bitrate, GOP and clip length must be positive (bitrate ≥ 10 kbit/s)")
        if not 200 <= self.mtu <= 65000:
            raise ValueError(f"MTU {self.mtu} is not between 200 and 65000")

    @property
    def gop_frames(self) -> int:
        return max(1, round(self.fps * self.gop_seconds))

    @property
    def frame_count(self) -> int:
        """Frames in the clip: a whole number of GOPs, so that the loop restarts at a keyframe."""
        return self.gop_frames * max(1, round(self.clip_seconds / self.gop_seconds))


MAIN_STREAM = StreamSettings()
SUB_STREAM = StreamSettings(width=640, height=360, bitrate=300_000)


@dataclass(frozen=True, slots=True)
class ClipKey:
    """Everything a clip's bytes depend on."""

    codec: Codec
    settings: StreamSettings
    label: int | None  # the camera id drawn in the picture, or None for the unlabelled clip
    heading: int | None = None  # degrees a PTZ camera's picture shows, None: not a PTZ picture

    @property
    def filename(self) -> str:
        s = self.settings
        profile = f"-{s.h264_profile}" if self.codec == "h264" else ""
        label = f"cam{self.label}" if self.label is not None else "nolabel"
        if self.heading is not None:
            label += f"-hdg{self.heading:03d}"
        digest = hashlib.sha256(self.describe().encode()).hexdigest()[:8]
        return (
            f"{self.codec}{profile}-{s.width}x{s.height}-{s.fps:g}fps-{s.bitrate // 1000}k"
            f"-gop{s.gop_frames}-{s.frame_count}f-{label}-v{PATTERN_VERSION}-{digest}.clip"
        )

    def describe(self) -> str:
        """The encoding settings as one JSON line (the MTU, which only packetizing uses, aside)."""
        settings = asdict(self.settings)
        settings.pop("mtu")
        record: dict[str, object] = {
            "codec": self.codec,
            "label": self.label,
            "pattern": PATTERN_VERSION,
        }
        if self.heading is not None:  # absent otherwise: the clips made before keep their names
            record["heading"] = self.heading
        return json.dumps({**record, **settings}, sort_keys=True)


def encode_clip(key: ClipKey) -> list[bytes]:
    """Encode the clip with PyAV: one Annex-B access unit per frame, in order."""
    import av  # PyAV: imported here, where it is needed, to keep importing the package cheap

    s = key.settings
    gop = s.gop_frames
    kbps = max(10, s.bitrate // 1000)
    rate = Fraction(s.fps).limit_denominator(1001)
    if key.codec == "h264":
        codec = av.CodecContext.create("libx264", "w")
        params = (
            f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:repeat-headers=1:"
            f"vbv-maxrate={kbps}:vbv-bufsize={kbps}"
        )
        options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "profile": s.h264_profile,
            "x264-params": params,
        }
    else:
        codec = av.CodecContext.create("libx265", "w")
        params = (
            f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:open-gop=0:repeat-headers=1:"
            f"vbv-maxrate={kbps}:vbv-bufsize={kbps}:log-level=error"
        )
        options = {"preset": "ultrafast", "tune": "zerolatency", "x265-params": params}
    codec.width = s.width
    codec.height = s.height
    codec.pix_fmt = "yuv420p"
    codec.time_base = 1 / rate
    codec.framerate = rate
    codec.bit_rate = s.bitrate
    codec.gop_size = gop
    codec.max_b_frames = 0
    codec.options = options
    pattern = Pattern(s.width, s.height)
    label = label_box(key.label, s.width, s.height)[2] if key.label is not None else None
    units: list[bytes] = []
    for index in range(s.frame_count):
        picture = pattern.frame(index, label, heading=key.heading)
        frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        frame.pts = index
        units.extend(bytes(packet) for packet in codec.encode(frame))
    units.extend(bytes(packet) for packet in codec.encode(None))
    if len(units) != s.frame_count:
        raise RuntimeError(f"the encoder gave {len(units)} packets for {s.frame_count} frames")
    return units


def write_clip_file(path: Path, key: ClipKey, units: list[bytes]) -> None:
    """Write atomically: magic, one JSON line of settings, then length-prefixed AUs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = key.describe()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(_MAGIC + header.encode() + b"\n")
            for unit in units:
                out.write(_LENGTH.pack(len(unit)) + unit)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_clip_file(path: Path) -> list[bytes] | None:
    """The AUs of a clip file, or None when it is missing or not a whole clip file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data.startswith(_MAGIC):
        return None
    pos = data.find(b"\n", len(_MAGIC))
    if pos < 0:
        return None
    pos += 1
    units: list[bytes] = []
    while pos < len(data):
        if pos + 4 > len(data):
            return None
        (length,) = _LENGTH.unpack_from(data, pos)
        pos += 4
        if pos + length > len(data):
            return None
        units.append(data[pos : pos + length])
        pos += length
    return units or None


def _is_vcl(codec: Codec, nal: bytes) -> bool:
    if codec == "h264":
        return 1 <= nal[0] & 0x1F <= 5
    return (nal[0] >> 1) & 0x3F < 32


def _is_aud(codec: Codec, nal: bytes) -> bool:
    return nal[0] & 0x1F == 9 if codec == "h264" else (nal[0] >> 1) & 0x3F == 35


def _is_keyframe(codec: Codec, nals: list[bytes]) -> bool:
    if codec == "h264":
        return any(nal[0] & 0x1F == 5 for nal in nals)
    return any(16 <= (nal[0] >> 1) & 0x3F <= 23 for nal in nals)


Payload = tuple[int, bytes]
"""(second RTP header byte: marker bit and payload type, payload)."""


@dataclass(frozen=True, slots=True)
class ClipFrame:
    """One AU as RTP payloads: the part before the stamp SEI (parameter sets) and after it."""

    keyframe: bool
    head: tuple[Payload, ...]
    body: tuple[Payload, ...]


@dataclass(frozen=True, slots=True)
class PacketizedClip:
    """A clip ready to loop: frames of payloads, the SDP fmtp line, its size in bytes."""

    key: ClipKey
    frames: tuple[ClipFrame, ...]
    fmtp: str
    payload_type: int
    nbytes: int

    @property
    def codec(self) -> Codec:
        return self.key.codec

    @property
    def settings(self) -> StreamSettings:
        return self.key.settings


def packetize_clip(key: ClipKey, units: list[bytes], payload_type: int = 96) -> PacketizedClip:
    """Cut each AU into RTP payloads; the marker bit is set on each AU's last packet."""
    packetizer = packetizer_for(key.codec, ssrc=0, payload_type=payload_type, mtu=key.settings.mtu)
    frames: list[ClipFrame] = []
    parameter_sets: dict[int, bytes] = {}
    nbytes = 0
    for unit in units:
        nals = [nal for nal in split_annexb(unit) if not _is_aud(key.codec, nal)]
        first_vcl = next((i for i, nal in enumerate(nals) if _is_vcl(key.codec, nal)), len(nals))
        for nal in nals[:first_vcl]:
            kind = nal[0] & 0x1F if key.codec == "h264" else (nal[0] >> 1) & 0x3F
            parameter_sets.setdefault(kind, nal)
        head = packetizer.payloads(nals[:first_vcl])
        body = packetizer.payloads(nals[first_vcl:])
        if not body:
            raise RuntimeError("an access unit of the clip has no picture")
        nbytes += sum(len(p) for p in head) + sum(len(p) for p in body)
        frames.append(
            ClipFrame(
                keyframe=_is_keyframe(key.codec, nals),
                head=tuple((payload_type, p) for p in head),
                body=(*((payload_type, p) for p in body[:-1]), (0x80 | payload_type, body[-1])),
            )
        )
    if not frames or not frames[0].keyframe:
        raise RuntimeError("a clip must start with a keyframe")
    if key.codec == "h264":
        fmtp = h264_fmtp(parameter_sets[7], parameter_sets[8])
    else:
        fmtp = h265_fmtp(parameter_sets[32], parameter_sets[33], parameter_sets[34])
    return PacketizedClip(key, tuple(frames), fmtp, payload_type, nbytes)


class ClipStore:
    """Clips by key: from memory, else from the disk cache, else encoded (in a worker thread).

    Labelled clips are kept in memory up to `memory_limit` bytes, least recently used first
    out (a stream that plays one keeps its own reference); unlabelled ones always stay.
    """

    def __init__(self, cache_dir: Path | None, *, memory_limit: int = 512 * 1024 * 1024) -> None:
        self.cache_dir = cache_dir
        self.memory_limit = memory_limit
        self.encoded = 0
        self.loaded = 0
        self._clips: OrderedDict[ClipKey, PacketizedClip] = OrderedDict()
        self._bytes = 0
        self._pending: dict[ClipKey, asyncio.Future[PacketizedClip]] = {}
        self._prefetching: set[asyncio.Task[PacketizedClip]] = set()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argus-clips")

    def close(self) -> None:
        for task in list(self._prefetching):
            task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    @property
    def in_memory(self) -> int:
        """Clips held in memory now."""
        return len(self._clips)

    def cached(self, key: ClipKey) -> PacketizedClip | None:
        clip = self._clips.get(key)
        if clip is not None:
            self._clips.move_to_end(key)
        return clip

    def prefetch(self, key: ClipKey) -> PacketizedClip | None:
        """The clip if it is in memory; else None, and it is loaded or encoded in the background.

        For callers that cannot wait (a stream's frame tick): ask again later.
        """
        clip = self.cached(key)
        if clip is not None or key in self._pending:
            return clip
        task = asyncio.get_running_loop().create_task(self.get(key), name=f"clip {key.filename}")
        self._prefetching.add(task)
        task.add_done_callback(self._prefetched)
        return None

    def _prefetched(self, task: asyncio.Task[PacketizedClip]) -> None:
        self._prefetching.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a simulator clip could not be made", exc_info=task.exception())

    async def get(self, key: ClipKey) -> PacketizedClip:
        """The clip for `key`; concurrent requests for one key share one encoding."""
        clip = self.cached(key)
        if clip is not None:
            return clip
        pending = self._pending.get(key)
        if pending is None:
            loop = asyncio.get_running_loop()
            pending = loop.run_in_executor(self._executor, self._make, key)
            self._pending[key] = pending
            pending.add_done_callback(lambda _: self._pending.pop(key, None))
        clip = await asyncio.shield(pending)
        self._remember(clip)
        return clip

    def _make(self, key: ClipKey) -> PacketizedClip:
        path = self.cache_dir / key.filename if self.cache_dir is not None else None
        units = read_clip_file(path) if path is not None else None
        if units is not None:
            self.loaded += 1
        else:
            log.info("encoding simulator clip %s", key.filename)
            units = encode_clip(key)
            self.encoded += 1
            if path is not None:
                write_clip_file(path, key, units)
        return packetize_clip(key, units)

    def _remember(self, clip: PacketizedClip) -> None:
        if clip.key in self._clips:
            self._clips.move_to_end(clip.key)
            return
        self._clips[clip.key] = clip
        self._bytes += clip.nbytes
        for key in list(self._clips):
            if self._bytes <= self.memory_limit:
                break
            if key.label is None or key == clip.key:
                continue
            self._bytes -= self._clips.pop(key).nbytes
