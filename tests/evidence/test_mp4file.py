"""Evidence MP4 writer: files cut from our fMP4 recordings (real H.264 streams, libx265 output
with B-frames), read back by ffprobe, by PyAV's decoders and by a minimal box reader; the
sample tables on their own, including co64 for offsets past 4 GiB."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import struct
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import av
import av.logging
import pytest

from argus.evidence.mp4file import (
    Mp4Summary,
    OutSample,
    TrackSource,
    chunk_sizes,
    mdat_header,
    sample_table,
    write_mp4,
)
from argus.media.fmp4 import Sample, init_segment, sample_data, video_format
from argus.media.nal import ParameterSets, split_annexb
from argus.recording.fmp4_read import SampleRef, read_file
from tests.media.test_h265_sps import encode_hevc, parameter_sets
from tests.recording.test_fmp4_read import FRAME, build, find_box, h264_stream

UNIX_EPOCH_AFTER_1904 = 2082844800  # seconds from 1904-01-01 to 1970-01-01


# --- a minimal box reader -------------------------------------------------------------------------


def top_level(data: bytes) -> list[tuple[bytes, int, int]]:
    """Type, payload start and end of each top-level box (64-bit sizes too); they tile data."""
    out = []
    pos = 0
    while pos < len(data):
        size, kind = struct.unpack_from("!I4s", data, pos)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from("!Q", data, pos + 8)
            header = 16
        assert size >= header and pos + size <= len(data)
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def children(box: bytes, skip: int = 0) -> dict[bytes, bytes]:
    """The child boxes of a whole box (after `skip` bytes of its own fields), by type."""
    out: dict[bytes, bytes] = {}
    pos = 8 + skip
    while pos < len(box):
        size, kind = struct.unpack_from("!I4s", box, pos)
        assert 8 <= size <= len(box) - pos
        assert kind not in out
        out[kind] = box[pos : pos + size]
        pos += size
    assert pos == len(box)
    return out


def table(box: bytes, fmt: str) -> list[tuple[int, ...]]:
    """The entries of a full box holding a count and rows packed as `fmt`."""
    (count,) = struct.unpack_from("!I", box, 12)
    row = struct.calcsize("!" + fmt)
    assert len(box) == 16 + count * row
    return [struct.unpack_from("!" + fmt, box, 16 + i * row) for i in range(count)]


def stbl_of(data: bytes) -> dict[bytes, bytes]:
    return children(find_box(data, [b"moov", b"trak", b"mdia", b"minf", b"stbl"]))


# --- from recordings ------------------------------------------------------------------------------


def recording(tmp_path: Path, name: str) -> tuple[bytes, TrackSource, list[SampleRef]]:
    """A recording of a shared H.264 file (fragments of 4 frames) and its samples, as read back."""
    fmt, samples = h264_stream(name)
    path = tmp_path / "recording.mp4"
    path.write_bytes(build(fmt, samples, 4).data)
    info, scan = read_file(path)
    assert scan.error is None and scan.trailing == 0
    refs = [s for f in scan.fragments for s in f.samples]
    assert len(refs) == len(samples)
    return path.read_bytes(), TrackSource(info.stsd, info.timescale, info.width, info.height), refs


def export(
    path: Path, data: bytes, track: TrackSource, refs: list[SampleRef], **kwargs: datetime
) -> Mp4Summary:
    view = memoryview(data)
    samples = [OutSample(r.size, r.duration, r.is_sync, r.composition_offset) for r in refs]
    with path.open("wb") as out:
        return write_mp4(
            out, track, samples, (view[r.offset : r.offset + r.size] for r in refs), **kwargs
        )


def ffprobe_streams(path: Path) -> list[dict[str, object]]:
    if shutil.which("ffprobe") is None:
        pytest.fail("ffprobe is not installed: install Debian's ffmpeg package")
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stderr == ""
    streams: list[dict[str, object]] = json.loads(result.stdout)["streams"]
    return streams


def decode_all(path: Path) -> tuple[list[av.Packet[Any]], list[av.VideoFrame], list[object]]:
    """Every packet and decoded frame, and whatever FFmpeg logged at error level or worse."""
    previous = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    packets: list[av.Packet[Any]] = []
    frames: list[av.VideoFrame] = []
    try:
        with av.logging.Capture() as logs, av.open(str(path)) as container:
            for packet in container.demux(video=0):
                if packet.size:
                    packets.append(packet)
                frames += packet.decode()
    finally:
        av.logging.set_level(previous)
    return packets, frames, list(logs)


@pytest.mark.parametrize("name", ["BA_MW_D.264", "Zhling_1280x720.264", "Static.264"])
def test_export_of_a_recording_plays(name: str, tmp_path: Path) -> None:
    data, track, refs = recording(tmp_path, name)
    path = tmp_path / "evidence.mp4"
    summary = export(path, data, track, refs)
    written = path.read_bytes()
    count = len(refs)

    assert summary == Mp4Summary(
        bytes=len(written),
        frames=count,
        duration=count * FRAME / 90000,
        sha256=hashlib.sha256(written).hexdigest(),
    )
    assert summary.duration == pytest.approx(count / 15)
    # ftyp, moov, then the samples' bytes in one mdat
    boxes = top_level(written)
    assert [b[0] for b in boxes] == [b"ftyp", b"moov", b"mdat"]
    assert written[8:12] == b"isom" and written[16:32] == b"isomiso2avc1mp41"
    mdat = boxes[2]
    assert written[mdat[1] : mdat[2]] == b"".join(data[r.offset : r.offset + r.size] for r in refs)
    stbl = stbl_of(written)
    assert stbl[b"stsd"] == track.stsd
    assert (b"stss" in stbl) == (not all(r.is_sync for r in refs))
    assert b"ctts" not in stbl and b"co64" not in stbl
    # chunk offsets point at each GOP's first sample
    sync = [i for i, r in enumerate(refs) if r.is_sync]
    offsets = [row[0] for row in table(stbl[b"stco"], "I")]
    positions = [mdat[1] + sum(r.size for r in refs[:i]) for i in sync]
    assert offsets == positions

    (info,) = ffprobe_streams(path)
    assert info["codec_name"] == "h264"
    assert (info["width"], info["height"]) == (track.width, track.height)
    assert int(str(info["nb_read_frames"])) == count
    assert float(str(info["duration"])) == pytest.approx(count / 15, abs=1e-3)

    packets, frames, errors = decode_all(path)
    assert errors == []
    assert len(frames) == count
    assert {(f.width, f.height) for f in frames} == {(track.width, track.height)}
    assert [p.is_keyframe for p in packets] == [r.is_sync for r in refs]
    assert [p.size for p in packets] == [r.size for r in refs]
    assert [p.dts for p in packets] == [r.decode_time for r in refs]


@pytest.mark.parametrize("negative", [False, True], ids=["offsets", "negative-offsets"])
def test_export_with_b_frames(negative: bool, tmp_path: Path) -> None:
    packets = encode_hevc(320, 240, "yuv420p", 14, "keyint=6:min-keyint=6:scenecut=0:bframes=3")
    vps, sps, pps = parameter_sets(packets)
    fmt = video_format("h265", ParameterSets(vps, sps, pps))
    samples = []
    for i, (au, pts, dts, key) in enumerate(packets):
        offset = pts - i if negative else pts - dts  # decode times 0, 1, ... frames
        samples.append(Sample(sample_data(split_annexb(au), "h265"), FRAME, key, offset * FRAME))
    path = tmp_path / "recording.mp4"
    path.write_bytes(build(fmt, samples, "gop").data)
    info, scan = read_file(path)
    refs = [s for f in scan.fragments for s in f.samples]
    assert [r.composition_offset for r in refs] == [s.composition_offset for s in samples]
    assert (min(r.composition_offset for r in refs) < 0) == negative
    track = TrackSource(info.stsd, info.timescale, info.width, info.height)
    out = tmp_path / "evidence.mp4"
    export(out, path.read_bytes(), track, refs)
    written = out.read_bytes()

    stbl = stbl_of(written)
    ctts = stbl[b"ctts"]
    assert ctts[8] == (1 if negative else 0)
    runs = table(ctts, "Ii" if negative else "II")
    assert [value for count, value in runs for _ in range(count)] == [
        s.composition_offset for s in samples
    ]
    (probe,) = ffprobe_streams(out)
    assert probe["codec_name"] == "hevc"
    assert int(str(probe["nb_read_frames"])) == len(samples)
    demuxed, frames, errors = decode_all(out)
    assert errors == []
    assert len(frames) == len(samples)
    shifts = {
        int(p.pts or 0) - int(p.dts or 0) - s.composition_offset
        for p, s in zip(demuxed, samples, strict=True)
    }
    assert len(shifts) == 1  # each packet's pts - dts is its composition offset (FFmpeg may shift)
    assert sorted(f.pts for f in frames if f.pts is not None) == sorted(
        int(p.pts or 0) for p in demuxed
    )


def test_creation_time_and_header_fields(tmp_path: Path) -> None:
    data, track, refs = recording(tmp_path, "BA_MW_D.264")
    when = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=2)))
    path = tmp_path / "evidence.mp4"
    export(path, data, track, refs, creation_time=when)
    written = path.read_bytes()
    seconds = int(when.timestamp()) + UNIX_EPOCH_AFTER_1904
    duration = sum(r.duration for r in refs)
    mvhd = find_box(written, [b"moov", b"mvhd"])
    assert struct.unpack_from("!IIIII", mvhd, 8) == (0, seconds, seconds, 90000, duration)
    assert struct.unpack_from("!I", mvhd, len(mvhd) - 4)[0] == 2  # next_track_ID
    tkhd = find_box(written, [b"moov", b"trak", b"tkhd"])
    assert struct.unpack_from("!IIIII", tkhd, 8) == (7, seconds, seconds, 1, 0)
    assert struct.unpack_from("!I", tkhd, 28)[0] == duration
    assert struct.unpack_from("!II", tkhd, len(tkhd) - 8) == (176 << 16, 144 << 16)
    mdhd = find_box(written, [b"moov", b"trak", b"mdia", b"mdhd"])
    assert struct.unpack_from("!IIIIIH", mdhd, 8) == (0, seconds, seconds, 90000, duration, 0x55C4)
    hdlr = find_box(written, [b"moov", b"trak", b"mdia", b"hdlr"])
    assert hdlr[16:20] == b"vide"
    minf = find_box(written, [b"moov", b"trak", b"mdia", b"minf"])
    assert list(children(minf)) == [b"vmhd", b"dinf", b"stbl"]
    assert children(minf)[b"dinf"] == (
        b"\x00\x00\x00\x24dinf\x00\x00\x00\x1cdref\x00\x00\x00\x00\x00\x00\x00\x01"
        b"\x00\x00\x00\x0curl \x00\x00\x00\x01"
    )
    # without a time: zeros
    export(path, data, track, refs)
    mvhd = find_box(path.read_bytes(), [b"moov", b"mvhd"])
    assert struct.unpack_from("!II", mvhd, 12) == (0, 0)
    with pytest.raises(ValueError, match="time zone"):
        export(path, data, track, refs, creation_time=datetime(2025, 1, 1))


# --- refusals -------------------------------------------------------------------------------------


def small_track() -> TrackSource:
    fmt, _ = h264_stream("BA_MW_D.264")
    stsd = find_box(init_segment(fmt), [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"])
    return TrackSource(stsd, 90000, fmt.width, fmt.height)


def attempt(samples: list[OutSample], chunks: list[bytes | memoryview]) -> Mp4Summary:
    return write_mp4(io.BytesIO(), small_track(), samples, iter(chunks))


def test_chunk_bytes_must_match_the_sizes() -> None:
    samples = [OutSample(3, 3000, True), OutSample(2, 3000, False)]
    summary = attempt(samples, [b"abc", b"de"])
    assert (summary.frames, summary.duration) == (2, 3000 * 2 / 90000)
    assert attempt(samples, [b"a", b"bcd", memoryview(b"e")]).sha256 == summary.sha256
    with pytest.raises(ValueError, match="is 4 bytes but the samples' sizes add up to 5"):
        attempt(samples, [b"abc", b"d"])
    with pytest.raises(ValueError, match="runs past the 5 bytes"):
        attempt(samples, [b"abc", b"def"])
    with pytest.raises(ValueError, match="is 0 bytes"):
        attempt(samples, [])


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        ([], "at least one sample"),
        ([OutSample(1, 3000, False), OutSample(1, 3000, True)], "first sample is not a sync"),
        ([OutSample(1, 3000, True), OutSample(1, 0, False)], "sample 2 has duration 0"),
        ([OutSample(1, -5, True)], "sample 1 has duration -5"),
        ([OutSample(-1, 5, True)], "sample 1 has size -1"),
    ],
)
def test_bad_samples_are_refused(samples: list[OutSample], message: str) -> None:
    out = io.BytesIO()
    with pytest.raises(ValueError, match=message):
        write_mp4(out, small_track(), samples, [b"x" * max(0, sum(s.size for s in samples))])
    assert out.getvalue() == b""  # refused before writing anything


def test_bad_track_is_refused() -> None:
    good = small_track()
    samples = [OutSample(1, 1, True)]
    for track, message in [
        (TrackSource(good.stsd[:-1], 90000, 176, 144), "not one complete stsd box"),
        (TrackSource(good.stsd, 0, 176, 144), "timescale 0"),
        (TrackSource(good.stsd, 90000, 70000, 144), "70000x144"),
    ]:
        with pytest.raises(ValueError, match=message):
            write_mp4(io.BytesIO(), track, samples, [b"x"])


# --- the sample table -----------------------------------------------------------------------------


def test_sample_table_entries() -> None:
    samples = [
        OutSample(10, 3000, True),
        OutSample(20, 3000, False),
        OutSample(30, 6000, False),
        OutSample(40, 3000, True),
        OutSample(50, 3000, False),
        OutSample(60, 3000, True),
    ]
    counts = chunk_sizes(samples)
    assert counts == [3, 2, 1]
    stbl = children(
        sample_table(
            b"\x00\x00\x00\x10stsd\x00\x00\x00\x00\x00\x00\x00\x00",
            samples,
            counts,
            [100, 160, 250],
        )
    )
    assert list(stbl) == [b"stsd", b"stts", b"stss", b"stsz", b"stsc", b"stco"]
    assert table(stbl[b"stts"], "II") == [(2, 3000), (1, 6000), (3, 3000)]
    assert table(stbl[b"stss"], "I") == [(1,), (4,), (6,)]
    stsz = stbl[b"stsz"]
    assert struct.unpack_from("!II6I", stsz, 12) == (0, 6, 10, 20, 30, 40, 50, 60)
    assert table(stbl[b"stsc"], "III") == [(1, 3, 1), (2, 2, 1), (3, 1, 1)]
    assert table(stbl[b"stco"], "I") == [(100,), (160,), (250,)]
    # all sync: no stss; one chunk each, so one stsc entry
    every = [OutSample(5, 1000, True)] * 4
    stbl = children(
        sample_table(b"\x00\x00\x00\x08stsd", every, chunk_sizes(every), [8, 13, 18, 23])
    )
    assert b"stss" not in stbl
    assert table(stbl[b"stsc"], "III") == [(1, 1, 1)]
    with pytest.raises(ValueError, match="do not hold exactly"):
        sample_table(b"", every, [2, 1], [8, 13])


def test_sample_table_composition_offsets() -> None:
    stsd = b"\x00\x00\x00\x08stsd"
    positive = [OutSample(1, 10, True, 20), OutSample(1, 10, False, 20), OutSample(1, 10, False, 0)]
    ctts = children(sample_table(stsd, positive, [3], [0]))[b"ctts"]
    assert ctts[8] == 0 and table(ctts, "II") == [(2, 20), (1, 0)]
    negative = [OutSample(1, 10, True, -10), OutSample(1, 10, False, 30)]
    ctts = children(sample_table(stsd, negative, [2], [0]))[b"ctts"]
    assert ctts[8] == 1 and table(ctts, "Ii") == [(1, -10), (1, 30)]


def test_co64_only_past_4_gib() -> None:
    stsd = b"\x00\x00\x00\x08stsd"
    samples = [OutSample(2**31, 3000, True), OutSample(2**31, 3000, True), OutSample(9, 1, True)]
    small = children(sample_table(stsd, samples, [1, 1, 1], [1000, 2**31 + 1000, 2**32 - 1]))
    assert b"co64" not in small
    assert table(small[b"stco"], "I") == [(1000,), (2**31 + 1000,), (2**32 - 1,)]
    large = children(sample_table(stsd, samples, [1, 1, 1], [1000, 2**31 + 1000, 2**32 + 1000]))
    assert b"stco" not in large
    assert table(large[b"co64"], "Q") == [(1000,), (2**31 + 1000,), (2**32 + 1000,)]


def test_mdat_header_sizes() -> None:
    assert mdat_header(0) == b"\x00\x00\x00\x08mdat"
    assert mdat_header(2**32 - 9) == b"\xff\xff\xff\xffmdat"
    assert mdat_header(2**32 - 8) == struct.pack("!I4sQ", 1, b"mdat", 2**32 + 8)
    assert mdat_header(2**40) == struct.pack("!I4sQ", 1, b"mdat", 2**40 + 16)


def test_streaming_never_needs_the_whole_payload() -> None:
    """The moov is written before the first chunk is asked for."""
    out = io.BytesIO()
    samples = [OutSample(4, 3000, True)] * 3

    def chunks() -> Iterator[bytes]:
        assert top_level(out.getvalue() + b"\x00" * 12)[1][0] == b"moov"
        for _ in samples:
            yield b"abcd"

    summary = write_mp4(out, small_track(), samples, chunks())
    assert summary.bytes == len(out.getvalue())
    assert hashlib.sha256(out.getvalue()).hexdigest() == summary.sha256
