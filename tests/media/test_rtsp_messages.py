"""RTSP message codec: every camera transcript, header quirks, limits, and fuzzing."""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argus.errors import ArgusError
from argus.media.rtsp import (
    Event,
    InterleavedPacket,
    MessageParser,
    Request,
    Response,
    RtspError,
    build_request,
    parse_challenges,
    parse_describe,
    parse_public,
    parse_rtp_info,
    parse_session,
    parse_ssrc,
    parse_transport,
)
from tests.media.rtsp_transcripts import read, transcript_files

# Transcripts we cannot use, with the words our error must say. None today: every file parses.
EXPECTED_FAILURES: dict[str, str] = {}


def parse_all(data: bytes) -> list[Event]:
    parser = MessageParser()
    events = parser.feed(data)
    events += parser.feed(b"")
    assert parser.buffered == 0
    return events


def response(name: str) -> Response:
    events = parse_all(read(name))
    assert len(events) == 1
    assert isinstance(events[0], Response)
    return events[0]


def test_the_transcripts_are_there():
    names = {path.name for path in transcript_files()}
    assert len(names) >= 20
    assert {"hikvision_describe.txt", "dahua_setup.txt", "request.txt"} <= names


@pytest.mark.parametrize("path", transcript_files(), ids=lambda path: path.name)
def test_every_transcript_parses_or_fails_clearly(path: Path):
    data = path.read_bytes()
    if path.name in EXPECTED_FAILURES:
        with pytest.raises(RtspError, match=EXPECTED_FAILURES[path.name]):
            parse_all(data)
        return
    events = parse_all(data)
    assert len(events) == 1
    message = events[0]
    if isinstance(message, Request):
        assert message.method == "DESCRIBE"
        return
    assert isinstance(message, Response)
    assert message.cseq is not None
    headers = message.headers
    if message.status == 401:
        assert parse_challenges(headers.get_all("WWW-Authenticate"))
    elif "describe" in path.name or message.body:
        session = parse_describe(message, "rtsp://camera.invalid/stream")
        video = session.first_video()
        assert video is not None and video.codec in ("h264", "h265")
        assert video.control_url.startswith("rtsp://")
    if (value := headers.get("Session")) is not None:
        assert parse_session(value).id
    if (value := headers.get("Transport")) is not None:
        transport = parse_transport(value)
        assert transport.interleaved is not None or transport.server_port is not None
    if (value := headers.get("RTP-Info")) is not None:
        assert parse_rtp_info(value)
    if (value := headers.get("Public")) is not None:
        assert "PLAY" in parse_public(value)
    if "setup" in path.name:
        assert headers.get("Transport") is not None and headers.get("Session") is not None
    if "play" in path.name:
        assert headers.get("RTP-Info") is not None


@pytest.mark.parametrize("path", transcript_files(), ids=lambda path: path.name)
def test_every_transcript_parses_the_same_one_byte_at_a_time(path: Path):
    data = path.read_bytes()
    if path.name in EXPECTED_FAILURES:
        pytest.skip("expected to fail")
    parser = MessageParser()
    events: list[Event] = []
    for i in range(len(data)):
        events += parser.feed(data[i : i + 1])
    assert events == parse_all(data)


def test_request_transcript():
    (request,) = parse_all(read("request.txt"))
    assert isinstance(request, Request)
    assert request.url == "rtsp://192.168.5.225/h264Preview_01_main"
    assert request.version == "RTSP/1.0"
    assert request.cseq == 1
    assert request.headers.get("accept") == "application/sdp"


def test_hikvision_setup_session_and_transport():
    message = response("hikvision_setup.txt")
    session = parse_session(message.headers.get("session") or "")
    assert (session.id, session.timeout) == ("708345999", 60)
    transport = parse_transport(message.headers.get("TRANSPORT") or "")
    assert transport.lower_transport == "TCP"
    assert transport.interleaved == (0, 1)
    assert transport.ssrc == 0x4CACC3D1
    assert transport.mode == "PLAY"


def test_ssrc_with_a_space_and_seven_hex_digits():
    transport = parse_transport(response("hikvision_setup_ssrc_space.txt").headers["Transport"])
    assert transport.ssrc == 0x0D6D6627


def test_dahua_setup_and_options():
    setup = response("dahua_setup.txt")
    assert parse_session(setup.headers["Session"]).timeout == 60
    assert parse_transport(setup.headers["Transport"]).ssrc == 0x30A98EE7
    options = response("dahua_options.txt")
    session = parse_session(options.headers["Session"])
    assert (session.id, session.timeout, session.timeout_or_default) == ("136527041864", None, 60)
    assert parse_public(options.headers["Public"]) >= {"GET_PARAMETER", "SETUP", "TEARDOWN"}


def test_gw_security_session_with_space_before_timeout():
    message = response("gw_main_setup_audio.txt")
    assert parse_session(message.headers["Session"]).timeout == 60
    transport = parse_transport(message.headers["Transport"])
    assert transport.interleaved == (2, 3)
    assert (transport.source, transport.destination) == ("192.168.1.110", "192.168.1.210")
    play = response("gw_main_play.txt")
    assert parse_session(play.headers["Session"]) == parse_session("9a90de54;timeout=120")
    (info,) = parse_rtp_info(play.headers["RTP-Info"])
    assert (info.url, info.seq, info.rtptime) == (
        "rtsp://192.168.1.110:5050/H264/video",
        271,
        1621990950,
    )


def test_play_rtp_info():
    infos = parse_rtp_info(response("dahua_play.txt").headers["RTP-Info"])
    assert [(i.url, i.seq, i.rtptime) for i in infos] == [
        ("trackID=0", 47121, 3475222385),
        ("trackID=1", 45186, 2234446919),
        ("trackID=4", 36583, 816418535),
    ]
    reolink = parse_rtp_info(response("reolink_play.txt").headers["RTP-Info"])
    assert [(i.seq, i.ssrc) for i in reolink] == [(16852, 0xDCC4A0D8), (39409, 0x9FC9FFF8)]
    hik = parse_rtp_info(response("hikvision_play.txt").headers["RTP-Info"])
    assert hik[0].url.endswith("trackID=1?transportmode=unicast&profile=Profile_1")
    assert parse_session(response("hikvision_play.txt").headers["Session"]).id == "708345999"


def test_rtp_info_tolerates_a_bad_rtptime_and_decimal_ssrc():
    infos = parse_rtp_info(
        "url=trackID=1;seq=1;rtptime=-1,url=rtsp://h/s/trackID=2;seq=x;rtptime=1"
    )
    assert [(i.url, i.seq, i.rtptime) for i in infos] == [
        ("trackID=1", 1, None),
        ("rtsp://h/s/trackID=2", None, 1),
    ]
    (info,) = parse_rtp_info("url=trackID=0;seq=13210;rtptime=1067824145;ssrc=4294962989")
    assert info.ssrc == 4294962989
    with pytest.raises(RtspError, match="no url"):
        parse_rtp_info("seq=1;rtptime=2")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4cacc3d1", 0x4CACC3D1),
        (" d6d6627", 0x0D6D6627),
        ("A046", 0xA046),
        ("0x6f7c", 0x6F7C),
        ('"30A98EE7"', 0x30A98EE7),
        ("4294962989", 4294962989),
        ("0", 0),
    ],
)
def test_ssrc_forms(text: str, expected: int):
    assert parse_ssrc(text) == expected


@pytest.mark.parametrize("text", ["", "0x", "zz", "99999999999", "0x1ffffffff", "12 34"])
def test_bad_ssrc(text: str):
    with pytest.raises(RtspError, match="SSRC"):
        parse_ssrc(text)


def test_transport_udp_ports_and_errors():
    transport = parse_transport(
        "RTP/AVP;ssrc=22345685;unicast;client_port=54060-54061;server_port=49152-49153"
    )
    assert transport.lower_transport == "UDP"
    assert transport.client_port == (54060, 54061)
    assert transport.server_port == (49152, 49153)
    assert transport.interleaved is None
    assert transport.ssrc == 0x22345685
    assert parse_transport("RTP/AVP/TCP;interleaved=4").interleaved == (4, 5)
    with pytest.raises(RtspError, match="not RTP"):
        parse_transport("RAW/RAW/UDP;unicast")
    with pytest.raises(RtspError, match="interleaved"):
        parse_transport("RTP/AVP/TCP;interleaved=a-b")


def test_session_errors():
    with pytest.raises(RtspError, match="no session id"):
        parse_session(" ;timeout=60")
    with pytest.raises(RtspError, match="timeout"):
        parse_session("abc;timeout=soon")


def test_headers_are_case_insensitive_and_repeatable():
    data = (
        b"RTSP/1.0 401 Unauthorized\r\ncseq: 2\r\n"
        b'WWW-Authenticate: Digest realm="r", nonce="n"\r\n'
        b'www-authenticate: Basic realm="r"\r\n\r\n'
    )
    (message,) = parse_all(data)
    assert isinstance(message, Response)
    assert (message.status, message.reason, message.cseq) == (401, "Unauthorized", 2)
    assert len(message.headers.get_all("WWW-AUTHENTICATE")) == 2
    assert [c.scheme for c in parse_challenges(message.headers.get_all("www-authenticate"))] == [
        "Digest",
        "Basic",
    ]


def test_interleaved_packets_between_messages():
    rtp = bytes(range(12)) + b"payload"
    data = (
        b"$\x00" + len(rtp).to_bytes(2, "big") + rtp
        + b"GET_PARAMETER rtsp://client/ RTSP/1.0\r\nCSeq: 9\r\n\r\n"
        + b"$\x01\x00\x00"
        + b"RTSP/1.0 200 OK\r\nCSeq: 4\r\nContent-Length: 5\r\n\r\nhello"
        + b"$\x02\x00\x02ab"
    )  # fmt: skip
    events = parse_all(data)
    assert events[0] == InterleavedPacket(0, memoryview(rtp))
    assert isinstance(events[0].payload, memoryview)
    assert isinstance(events[1], Request) and events[1].method == "GET_PARAMETER"
    assert events[2] == InterleavedPacket(1, memoryview(b""))
    assert isinstance(events[3], Response) and events[3].body == b"hello"
    assert events[4] == InterleavedPacket(2, memoryview(b"ab"))


def test_lf_only_line_endings():
    (message,) = parse_all(b"RTSP/1.0 200 OK\nCSeq: 1 \nContent-Length: 3\n\nabc")
    assert isinstance(message, Response)
    assert (message.cseq, message.body) == (1, b"abc")


def test_header_block_limit():
    parser = MessageParser()
    parser.feed(b"RTSP/1.0 200 OK\r\n")
    with pytest.raises(RtspError, match="header block exceeds the limit of 16384 bytes"):
        for _ in range(20):
            parser.feed(b"X-Filler: " + b"a" * 1000 + b"\r\n")
    with pytest.raises(RtspError, match="16384"):
        parser.feed(b"\r\n")  # a failed stream stays failed


def test_body_limit():
    with pytest.raises(RtspError, match="exceeds the limit of 1048576 bytes"):
        MessageParser().feed(b"RTSP/1.0 200 OK\r\nContent-Length: 1048577\r\n\r\n")
    (message,) = parse_all(b"RTSP/1.0 200 OK\r\nContent-Length: 1048576\r\n\r\n" + b"x" * 2**20)
    assert isinstance(message, Response) and len(message.body) == 2**20


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x00\x01garbage", "got byte 0x00"),
        (b"HTTP/1.1 200 OK\r\n\r\n", "malformed request or status line"),
        (b"RTSP/1.0 2x0 OK\r\n\r\n", "malformed status line"),
        (b"RTSP/1.0 200 OK\r\nno colon here\r\n\r\n", "malformed header line"),
        (b"RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length is not a number"),
        (b"RTSP/1.0 200 OK\r\nCSeq: one\r\n\r\n", None),
    ],
)
def test_bad_messages_fail_clearly(data: bytes, words: str | None):
    if words is None:
        (message,) = parse_all(data)
        assert isinstance(message, Response)
        with pytest.raises(RtspError, match="CSeq"):
            _ = message.cseq
        return
    with pytest.raises(RtspError, match=words):
        parse_all(data)


def test_events_before_bad_bytes_are_returned_then_the_error():
    parser = MessageParser()
    events = parser.feed(b"$\x00\x00\x01z\x00junk")
    assert events == [InterleavedPacket(0, memoryview(b"z"))]
    with pytest.raises(RtspError, match="0x00"):
        parser.feed(b"")


def test_rtsp_error_is_an_argus_error():
    assert issubclass(RtspError, ArgusError)


def test_build_request():
    data = build_request(
        "SETUP",
        "rtsp://cam/stream/trackID=1",
        3,
        {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1", "CSeq": "99"},
    )
    assert data == (
        b"SETUP rtsp://cam/stream/trackID=1 RTSP/1.0\r\nCSeq: 3\r\n"
        b"Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
    )
    with_body = build_request("SET_PARAMETER", "rtsp://cam/", 4, [("Session", "abc")], b"k: v\r\n")
    (request,) = parse_all(with_body)
    assert isinstance(request, Request)
    assert (request.method, request.cseq, request.body) == ("SET_PARAMETER", 4, b"k: v\r\n")
    assert request.headers.get("Session") == "abc"


@pytest.mark.parametrize(
    ("method", "url", "headers"),
    [
        ("PLAY", "rtsp://cam/\r\nX: y", {}),
        ("PL AY", "rtsp://cam/", {}),
        ("PLAY", "rtsp://cam/", {"Session": "a\r\nInjected: 1"}),
        ("PLAY", "rtsp://cam/", {"Bad Name": "x"}),
    ],
)
def test_build_request_refuses_injection(method: str, url: str, headers: dict[str, str]):
    with pytest.raises(RtspError):
        build_request(method, url, 1, headers)


# --- fuzzing ---------------------------------------------------------------------------------


def _valid_stream() -> bytes:
    names = ["hikvision_describe.txt", "dahua_setup.txt", "reolink_play.txt", "request.txt"]
    parts = [read(name) for name in names]
    rtp = b"\x80\x60" + bytes(range(40))
    parts.insert(1, b"$\x00" + len(rtp).to_bytes(2, "big") + rtp)
    parts.insert(3, b"$\x01\x00\x00")
    return b"".join(parts)


VALID_STREAM = _valid_stream()


def _collect(chunks: list[bytes]) -> tuple[list[Event], str | None]:
    parser = MessageParser(max_header_bytes=2048, max_body_bytes=4096)
    events: list[Event] = []
    try:
        for chunk in chunks:
            events += parser.feed(chunk)
        events += parser.feed(b"")
    except RtspError as err:
        return events, str(err)
    return events, None


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0), max_size=30))
def test_random_splits_of_valid_messages_give_the_same_events(cuts: list[int]):
    whole, whole_error = _collect([VALID_STREAM])
    assert whole_error is None and len(whole) == 6
    assert _collect(_split(VALID_STREAM, cuts)) == (whole, None)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), st.lists(st.integers(min_value=0), max_size=10))
def test_random_bytes_raise_only_rtsp_error_and_chunking_does_not_matter(
    data: bytes, cuts: list[int]
):
    whole = _collect([data])
    assert _collect(_split(data, cuts)) == whole


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=len(VALID_STREAM) - 1),
    st.binary(min_size=1, max_size=8),
    st.lists(st.integers(min_value=0), max_size=10),
)
def test_corrupted_valid_streams(position: int, noise: bytes, cuts: list[int]):
    data = VALID_STREAM[:position] + noise + VALID_STREAM[position + len(noise) :]
    whole = _collect([data])
    assert _collect(_split(data, cuts)) == whole
    for event in whole[0]:
        if isinstance(event, Response) and event.body:
            with contextlib.suppress(RtspError):
                parse_describe(event, "rtsp://camera.invalid/")
        if isinstance(event, Response | Request):
            for name, helper in (
                ("Session", parse_session),
                ("Transport", parse_transport),
                ("RTP-Info", parse_rtp_info),
                ("Public", parse_public),
            ):
                value = event.headers.get(name)
                if value is not None:
                    with contextlib.suppress(RtspError):
                        helper(value)
