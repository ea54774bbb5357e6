"""SDP of DESCRIBE responses: codecs, control URLs, parameter sets, quirks, fuzzing."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.media.rtsp import (
    Headers,
    MessageParser,
    Response,
    RtspError,
    SessionDescription,
    parse_describe,
    parse_sdp,
    resolve_control,
)
from tests.media.rtsp_transcripts import read, transcript_files

REQUEST_URL = "rtsp://camera.invalid/stream"


def describe(name: str) -> SessionDescription:
    (message,) = MessageParser().feed(read(name))
    assert isinstance(message, Response)
    return parse_describe(message, REQUEST_URL)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_hikvision_absolute_controls_and_metadata_track():
    session = describe("hikvision_describe.txt")
    base = "rtsp://192.168.5.106:554/Streaming/Channels/101/"
    assert session.base_url == base
    assert session.control_url == base + "?transportmode=unicast&profile=Profile_1"
    assert [m.media for m in session.media] == ["video", "application"]
    video = session.first_video()
    assert video is session.media[0]
    assert video.codec == "h264"
    assert (video.payload_type, video.encoding_name, video.clock_rate) == (96, "H264", 90000)
    assert video.control_url == base + "trackID=1?transportmode=unicast&profile=Profile_1"
    assert video.h264 is not None
    assert video.h264.profile_level_id == "420029"
    assert video.h264.profile_level_id_bytes == b"\x42\x00\x29"
    assert video.h264.packetization_mode == 1
    assert [b64(u) for u in video.h264.sps] == ["Z00AKZpkA8ARPyzUBAQFAAADA+gAAOpgBA=="]
    assert [b64(u) for u in video.h264.pps] == ["aO48gA=="]
    metadata = session.media[1]
    assert not metadata.is_video and metadata.codec is None
    assert metadata.encoding_name == "vnd.onvif.metadata"
    assert metadata.control_url.startswith(base + "trackID=3")


def test_dahua_h265_with_pcma_audio():
    session = describe("dahua_describe_h265_pcma.txt")
    base = "rtsp://cam-driveway/cam/realmonitor?channel=1&subtype=2/"
    assert session.control_url == base  # a=control:*
    video = session.first_video()
    assert video is not None and video.codec == "h265" and video.h264 is None
    assert video.control_url == base + "trackID=0"
    assert video.h265 is not None
    assert [b64(u) for u in video.h265.vps] == ["QAEMAf//AWAAAAMAsAAAAwAAAwBarAwAAAMABAAAAwAyqA=="]
    assert [b64(u) for u in video.h265.sps] == [
        "QgEBAWAAAAMAsAAAAwAAAwBaoAWCAeFja5JFL83BQYFBAAADAAEAAAMADKE="
    ]
    assert [b64(u) for u in video.h265.pps] == ["RAHA8saNA7NA"]
    assert (video.h265.vps[0][0] >> 1) & 0x3F == 32  # NAL type VPS
    audio = session.media[1]
    assert (audio.media, audio.encoding_name, audio.clock_rate) == ("audio", "PCMA", 8000)
    assert audio.control_url == base + "trackID=1"


def test_dahua_h264_aac_onvif_keeps_the_query_of_content_base():
    session = describe("dahua_describe_h264_aac_onvif.txt")
    base = "rtsp://192.168.5.111:554/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif/"
    assert [(m.media, m.is_video, m.control_url) for m in session.media] == [
        ("video", True, base + "trackID=0"),
        ("audio", False, base + "trackID=1"),
        ("application", False, base + "trackID=4"),
    ]
    video = session.first_video()
    assert video is not None and video.h264 is not None
    assert video.h264.profile_level_id == "64001E"
    assert session.media[1].fmtp["mode"] == "AAC-hbr"
    assert session.media[1].fmtp["config"] == "1188"


def test_reolink_control_first_matches_reolink():
    first = describe("reolink_describe_control_first.txt")
    plain = describe("reolink_describe.txt")
    for session in (first, plain):
        assert session.control_url == "rtsp://192.168.5.206/h264Preview_01_main/"
        video = session.first_video()
        assert video is not None and video.h264 is not None
        assert video.control_url == "rtsp://192.168.5.206/h264Preview_01_main/trackID=1"
        assert [b64(u) for u in video.h264.sps] == ["Z2QAM6zoAoALWQ=="]
        assert [b64(u) for u in video.h264.pps] == ["aO48MA=="]
        assert session.media[1].control_url.endswith("/trackID=2")
    assert first.media == plain.media


def test_gw_security_relative_control_and_start_code_in_parameter_sets():
    session = describe("gw_main_describe.txt")
    base = "rtsp://192.168.1.110:5050/H264?channel=1&subtype=0&unicast=true&proto=Onvif"
    video = session.first_video()
    assert video is not None and video.h264 is not None
    assert video.control_url == base + "/video"
    assert session.media[1].control_url == base + "/audio"
    assert video.h264.profile_level_id == "5046314"  # not 6 hex digits: kept, not decoded
    assert video.h264.profile_level_id_bytes is None
    # The camera appends an Annex-B start code; we drop it.
    assert video.h264.sps == (base64.b64decode("Z00AKpWoHgCJ+WbgICAgQAAAAAE=")[:-4],)
    assert video.h264.pps == (b"\x68\xee\x3c\x80",)
    audio = session.media[1]
    assert (audio.encoding_name, audio.clock_rate, audio.encoding_parameters) == ("PCMU", 8000, "1")
    assert audio.fmtp == {"vad": "no"}


def test_bunny_audio_first_then_video():
    session = describe("bunny_describe.txt")
    assert session.media[0].media == "audio"
    video = session.first_video()
    assert video is session.media[1]
    assert video.control_url.endswith("BigBuckBunny_115k.mov/trackID=2")
    assert session.name == "BigBuckBunny_115k.mov"


def test_every_describe_transcript_has_a_video_track():
    names = [p.name for p in transcript_files() if "describe" in p.name]
    assert len(names) >= 7
    for name in names:
        video = describe(name).first_video()
        assert video is not None, name
        params = video.h264 or video.h265
        assert params is not None and params.sps and params.pps, name


def test_base_url_falls_back_to_content_location_then_request_url():
    sdp = b"v=0\r\ns=x\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n"
    head = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n"
    for extra, expected in (
        (b"Content-Location: rtsp://loc/x/\r\n", "rtsp://loc/x/track1"),
        (b"", REQUEST_URL + "/track1"),
    ):
        data = head + extra + b"Content-Length: %d\r\n\r\n" % len(sdp) + sdp
        (message,) = MessageParser().feed(data)
        assert isinstance(message, Response)
        session = parse_describe(message, REQUEST_URL)
        assert session.media[0].control_url == expected
        assert session.media[0].h264 is not None
        assert session.media[0].h264.packetization_mode == 0  # the default


@pytest.mark.parametrize(
    ("base", "control", "expected"),
    [
        ("rtsp://h/a/", "*", "rtsp://h/a/"),
        ("rtsp://h/a/", None, "rtsp://h/a/"),
        ("rtsp://h/a", "trackID=1", "rtsp://h/a/trackID=1"),
        ("rtsp://h/a/", "trackID=1", "rtsp://h/a/trackID=1"),
        ("rtsp://h/a?x=1", "video", "rtsp://h/a?x=1/video"),
        ("rtsp://h/a/", "rtsp://other/b", "rtsp://other/b"),
        ("rtsp://h/a/", "RTSP://other/b", "RTSP://other/b"),
    ],
)
def test_resolve_control(base: str, control: str | None, expected: str):
    assert resolve_control(base, control) == expected


def test_quirks_mismatched_fmtp_static_payload_type_lf_endings():
    sps, pps, vps = b"\x42\x01\x01", b"\x44\x01\xc0", b"\x40\x01\x0c"
    sdp = (
        "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=S\nt=0 0\na=control:*\n"
        "m=video 0 RTP/AVP 98\na=control:trackID=0\na=rtpmap:98 H265/90000\n"
        f"a=fmtp:62 sprop-vps={b64(vps)};sprop-sps={b64(sps)};sprop-pps={b64(pps)}\n"
        "m=audio 0 RTP/AVP 8\na=control:trackID=4\n"
    )
    session = parse_sdp(sdp, "rtsp://h/cam/")
    video = session.first_video()
    assert video is not None and video.h265 is not None
    assert (video.h265.vps, video.h265.sps, video.h265.pps) == ((vps,), (sps,), (pps,))
    audio = session.media[1]
    assert (audio.encoding_name, audio.clock_rate) == ("PCMA", 8000)
    assert audio.control_url == "rtsp://h/cam/trackID=4"


def test_no_video_track():
    session = parse_sdp("v=0\r\nm=audio 0 RTP/AVP 0\r\n", "rtsp://h/")
    assert session.first_video() is None
    mjpeg = parse_sdp("v=0\r\nm=video 0 RTP/AVP 26\r\n", "rtsp://h/")
    assert mjpeg.media[0].is_video and mjpeg.first_video() is None


@pytest.mark.parametrize(
    ("sdp", "words"),
    [
        ("", "SDP is empty"),
        ("o=- 1 1 IN IP4 0.0.0.0\r\n", "does not start with a v= line"),
        ("v=0\r\nthis is not sdp\r\n", "not of the form x=value"),
        ("v=0\r\nm=video\r\n", "m= line is too short"),
        ("v=0\r\nm=video x RTP/AVP 96\r\n", "bad port"),
        ("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/0\r\n", "bad clock rate"),
        (
            "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
            "a=fmtp:96 sprop-parameter-sets=***,aO48gA==\r\n",
            "sprop-parameter-sets is not base64",
        ),
        (
            "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
            "a=fmtp:96 packetization-mode=7\r\n",
            "packetization-mode",
        ),
    ],
)
def test_bad_sdp_fails_clearly(sdp: str, words: str):
    with pytest.raises(RtspError, match=words):
        parse_sdp(sdp, "rtsp://h/")


def test_describe_errors():
    not_found = Response("RTSP/1.0", 404, "Not Found", Headers())
    with pytest.raises(RtspError, match="DESCRIBE failed: 404 Not Found"):
        parse_describe(not_found, REQUEST_URL)
    (html,) = MessageParser().feed(
        b"RTSP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nhi"
    )
    assert isinstance(html, Response)
    with pytest.raises(RtspError, match="not application/sdp"):
        parse_describe(html, REQUEST_URL)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=2000))
def test_random_text_raises_only_rtsp_error(text: str):
    with contextlib.suppress(RtspError):
        parse_sdp(text, "rtsp://h/")


_LINES = st.sampled_from(
    [
        "v=0",
        "m=video 0 RTP/AVP 96",
        "m=audio 0 RTP/AVP 0 8",
        "m=application 0 RTP/AVP 107",
        "a=rtpmap:96 H264/90000",
        "a=rtpmap:96 H265/90000",
        "a=rtpmap:96 H264",
        "a=rtpmap:x",
        "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z00AKQ==,aO48gA==",
        "a=fmtp:96 sprop-vps=QAEM;sprop-sps=QgEB;sprop-pps=RAHA",
        "a=fmtp:96 sprop-parameter-sets=,,",
        "a=fmtp:96",
        "a=control:*",
        "a=control:trackID=1",
        "a=control:rtsp://x/y",
        "a=recvonly",
        "s=",
        "c=IN IP4 0.0.0.0",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_LINES, st.text(max_size=30)), max_size=30))
def test_random_sdp_like_lines_raise_only_rtsp_error(lines: list[str]):
    try:
        session = parse_sdp("\r\n".join(["v=0", *lines]), "rtsp://h/")
    except RtspError:
        return
    for section in session.media:
        assert section.control_url
        _ = section.codec
