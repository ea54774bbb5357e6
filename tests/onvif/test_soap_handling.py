"""The simulator's SOAP handling in process (`OnvifSimulator.handle`, no sockets): the captures
load as templates, answers carry the camera's state, WS-Security is checked, and anything
malformed gets a SOAP fault and changes nothing (invariant 7), fuzzed with hypothesis."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argus.onvif.captures import CaptureError, Templates, captures_dir, strip_dot_markers
from argus.onvif.motion import MotionSettings
from argus.onvif.ptz_state import PtzRegistry
from argus.onvif.simulator import OnvifSimulator, SimulatedDevice, default_device
from argus.ptz.driver import PtzPosition
from tests.onvif.soap_requests import (
    ENV,
    TDS,
    TPTZ,
    TRT,
    TT,
    envelope,
    fault_code,
    fault_subcodes,
    parse,
    ptz,
    security,
    signed,
    vector,
)
from tests.shared import SHARED_DATA


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def devices(camera_id: int) -> SimulatedDevice:
    device = default_device(camera_id)
    if camera_id == 2:
        return replace(device, username="op", password="s3cret", auth_fault_status=401)
    if camera_id == 3:
        return replace(device, ptz=False, model="Fixed")
    return device


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> OnvifSimulator:
    registry = PtzRegistry(motion=MotionSettings(pan_tilt_seconds=1.0), clock=clock)
    return OnvifSimulator(port=0, ptz=registry, devices=devices, camera_ids=range(100))


def test_captures_are_found_in_the_shared_data_and_loaded() -> None:
    assert captures_dir() == SHARED_DATA.resolve() or captures_dir().samefile(SHARED_DATA)
    templates = Templates.load()
    presets = templates.envelope("GetPresets")
    assert b"{{" not in parse_bytes(presets)  # doT markers gone, every preset kept
    assert len(presets.findall(f".//{{{TPTZ}}}Preset")) == 46
    snapshot = templates.envelope("GetSnapshotUri")  # the capture that lacks the env prefix
    assert snapshot.tag == f"{{{ENV}}}Envelope"
    for name in ("GetDeviceInformation", "GetStatus"):  # the echoed 2014 login is gone
        assert b"Security" not in parse_bytes(templates.envelope(name))
    assert strip_dot_markers(b"<a>{{? it.x }}<b/>{{?}}</a>", "t") == b"<a><b/></a>"
    with pytest.raises(CaptureError):
        strip_dot_markers(b"<a>{{= it.x }}</a>", "t")


def parse_bytes(element: object) -> bytes:
    from lxml import etree  # type: ignore[import-untyped, unused-ignore]

    return bytes(etree.tostring(element))


def test_device_answers_carry_the_camera(sim: OnvifSimulator) -> None:
    status, answer = sim.handle(42, "device", signed("<tds:GetDeviceInformation/>"))
    assert status == 200
    root = parse(answer)
    assert root.findtext(f".//{{{TDS}}}SerialNumber") == "ARGUS0000000042"
    assert root.findtext(f".//{{{TDS}}}Manufacturer") == "Argus"
    # GetCapabilities is served before authentication, with this camera's XAddrs only
    status, answer = sim.handle(42, "device", envelope("<tds:GetCapabilities/>"))
    assert status == 200
    xaddrs = [e.text for e in parse(answer).iter(f"{{{TT}}}XAddr")]
    base = sim.urls(42)
    assert xaddrs == [base.device, base.media, base.ptz]
    _, answer = sim.handle(3, "device", envelope("<tds:GetServices/>"))  # no PTZ on camera 3
    namespaces = [e.text for e in parse(answer).iter(f"{{{TDS}}}Namespace")]
    assert namespaces == [TDS, TRT]
    _, answer = sim.handle(3, "device", signed("<tds:GetScopes/>"))
    scopes = [e.text for e in parse(answer).iter(f"{{{TT}}}ScopeItem")]
    assert "onvif://www.onvif.org/name/argus-sim-3" in scopes
    assert "onvif://www.onvif.org/type/ptz" not in scopes
    _, answer = sim.handle(42, "device", signed("<tds:GetHostname/>"))
    assert parse(answer).findtext(f".//{{{TT}}}Name") == "argus-sim-42"
    _, answer = sim.handle(42, "device", envelope("<tds:GetSystemDateAndTime/>"))
    year = parse(answer).findtext(f".//{{{TT}}}UTCDateTime/{{{TT}}}Date/{{{TT}}}Year")
    assert int(str(year)) == datetime.now(UTC).year


def test_media_profiles_and_stream_uri(sim: OnvifSimulator) -> None:
    _, answer = sim.handle(8, "media", signed("<trt:GetProfiles/>"))
    profiles = parse(answer).findall(f".//{{{TRT}}}Profiles")
    assert [p.get("token") for p in profiles] == ["main", "sub"]
    widths = [p.findtext(f".//{{{TT}}}Resolution/{{{TT}}}Width") for p in profiles]
    assert widths == ["1280", "640"]
    assert all(p.find(f"{{{TT}}}PTZConfiguration") is not None for p in profiles)
    _, answer = sim.handle(3, "media", signed("<trt:GetProfiles/>"))  # a fixed camera
    assert parse(answer).find(f".//{{{TT}}}PTZConfiguration") is None
    body = "<trt:GetStreamUri><trt:ProfileToken>sub</trt:ProfileToken></trt:GetStreamUri>"
    _, answer = sim.handle(8, "media", signed(body))
    assert parse(answer).findtext(f".//{{{TT}}}Uri") == "rtsp://127.0.0.1:8554/cameras/8/sub"
    body = "<trt:GetStreamUri><trt:ProfileToken>x</trt:ProfileToken></trt:GetStreamUri>"
    status, answer = sim.handle(8, "media", signed(body))
    assert status == 400 and fault_subcodes(answer) == ["InvalidArgVal", "NoProfile"]


def test_ptz_status_follows_the_shared_state(sim: OnvifSimulator, clock: Clock) -> None:
    status, _ = sim.handle(5, "ptz", ptz("AbsoluteMove", vector("Position", 0.5, 0.25, 0.5)))
    assert status == 200
    _, answer = sim.handle(5, "ptz", ptz("GetStatus"))
    root = parse(answer)
    assert root.findtext(f".//{{{TT}}}MoveStatus/{{{TT}}}PanTilt") == "MOVING"
    clock.now += 5
    _, answer = sim.handle(5, "ptz", ptz("GetStatus"))
    root = parse(answer)
    pan_tilt = root.find(f".//{{{TT}}}Position/{{{TT}}}PanTilt")
    assert (pan_tilt.get("x"), pan_tilt.get("y")) == ("0.5", "0.25")
    assert root.findtext(f".//{{{TT}}}MoveStatus/{{{TT}}}PanTilt") == "IDLE"
    assert sim.ptz.position(5) == PtzPosition(0.5, 0.25, 0.5)
    # a space that is not the generic one is refused, and nothing moves
    odd = '<tptz:Position><tt:PanTilt x="0" y="0" space="urn:degrees"/></tptz:Position>'
    status, answer = sim.handle(5, "ptz", ptz("AbsoluteMove", odd))
    assert status == 400 and fault_subcodes(answer) == ["InvalidArgVal", "SpaceNotSupported"]
    status, answer = sim.handle(5, "ptz", ptz("AbsoluteMove", vector("Position", 3, 0, 0)))
    assert status == 400 and fault_subcodes(answer) == ["InvalidArgVal", "InvalidPosition"]
    timeout = "<tptz:Timeout>P1Y</tptz:Timeout>"
    velocity = vector("Velocity", 0.5, 0, 0)
    status, answer = sim.handle(5, "ptz", ptz("ContinuousMove", velocity + timeout))
    assert status == 400 and fault_subcodes(answer) == ["InvalidArgVal"]
    clock.now += 5
    assert sim.ptz.position(5) == PtzPosition(0.5, 0.25, 0.5)


def test_authentication(sim: OnvifSimulator) -> None:
    request = "<tds:GetDeviceInformation/>"
    status, answer = sim.handle(2, "device", envelope(request))  # no token at all
    assert status == 401 and fault_subcodes(answer) == ["NotAuthorized"]
    assert fault_code(answer) == "Sender"
    status, answer = sim.handle(2, "device", signed(request, "op", "wrong"))
    assert status == 401 and fault_subcodes(answer) == ["NotAuthorized"]
    assert sim.handle(2, "device", signed(request, "op", "s3cret"))[0] == 200
    status, answer = sim.handle(1, "device", signed(request, "op", "s3cret"))  # camera 1's login
    assert status == 400 and fault_subcodes(answer) == ["NotAuthorized"]
    stale = datetime.now(UTC) - timedelta(hours=1)
    old = envelope(f"<tds:GetScopes/>", security("admin", "admin", created=stale))  # noqa: F541
    assert fault_subcodes(sim.handle(1, "device", old)[1]) == ["NotAuthorized"]
    replayed = envelope("<tds:GetScopes/>", security("admin", "admin", nonce=b"once"))
    assert sim.handle(1, "device", replayed)[0] == 200
    assert fault_subcodes(sim.handle(1, "device", replayed)[1]) == ["NotAuthorized"]
    # PasswordText is accepted too
    text = security("admin", "admin").replace("#PasswordDigest", "#PasswordText")
    token_start = text.index('">', text.index("<wsse:Password")) + 2
    token_end = text.index("</wsse:Password>")
    text = text[:token_start] + "admin" + text[token_end:]
    assert sim.handle(1, "device", envelope(request, text))[0] == 200
    assert sim.stats.faults["NotAuthorized"] == 5


@pytest.mark.parametrize(
    ("body", "status", "code", "subcodes"),
    [
        (b"", 400, "Sender", ["WellFormed"]),
        (b"<not-closed", 400, "Sender", ["WellFormed"]),
        (b"\xff\xfe garbage", 400, "Sender", ["WellFormed"]),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', 400, "Sender", ["WellFormed"]),
        (b"<plain/>", 400, "Sender", ["WellFormed"]),
        (
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/>'
            b"</e:Envelope>",
            500,
            "VersionMismatch",
            [],
        ),
        (envelope(""), 400, "Sender", ["InvalidArgs"]),
        # signed when the test runs, not when it is collected: a login is good for 5 minutes
        (lambda: signed("<tds:Reboot/>"), 500, "Receiver", ["ActionNotSupported"]),
        (lambda: signed("<tptz:GetStatus/>"), 500, "Receiver", ["ActionNotSupported"]),
    ],
)
def test_malformed_requests_get_faults(sim, body, status, code, subcodes) -> None:
    payload = body() if callable(body) else body
    got_status, answer = sim.handle(1, "device", payload)
    assert (got_status, fault_code(answer), fault_subcodes(answer)) == (status, code, subcodes)
    assert parse(answer).find(f".//{{{ENV}}}Reason/{{{ENV}}}Text").text


def test_ptz_arguments_are_checked_before_anything_moves(sim: OnvifSimulator) -> None:
    for request, subcodes in (
        (ptz("AbsoluteMove"), ["InvalidArgVal"]),  # no Position
        (
            ptz("AbsoluteMove", '<tptz:Position><tt:PanTilt x="nan" y="0"/></tptz:Position>'),
            ["InvalidArgVal"],
        ),
        (
            ptz("AbsoluteMove", '<tptz:Position><tt:PanTilt x="0.1"/></tptz:Position>'),
            ["InvalidArgVal"],
        ),
        (
            ptz("RelativeMove", vector("Translation", 0.1, 0, 0), profile="nope"),
            ["InvalidArgVal", "NoProfile"],
        ),
        (ptz("Stop", "<tptz:PanTilt>maybe</tptz:PanTilt>"), ["InvalidArgVal"]),
        (
            ptz("GotoPreset", "<tptz:PresetToken>7</tptz:PresetToken>"),
            ["InvalidArgVal", "NoToken"],
        ),
        (ptz("ContinuousMove", vector("Velocity", 2, 0, 0)), ["InvalidArgVal", "InvalidVelocity"]),
    ):
        status, answer = sim.handle(9, "ptz", request)
        assert status == 400 and fault_subcodes(answer) == subcodes, answer
    assert len(sim.ptz) == 0  # not even state was made for the camera


_VALID = [
    ptz("AbsoluteMove", vector("Position", 0.3, -0.2, 0.1)),
    ptz("ContinuousMove", vector("Velocity", -0.4, 0.2, 0.0) + "<tptz:Timeout>PT2S</tptz:Timeout>"),
    ptz("RelativeMove", vector("Translation", 0.1, 0.1, 0.1)),
    ptz("SetPreset", "<tptz:PresetName>p</tptz:PresetName>"),
    ptz("GotoHomePosition"),
]


@given(
    request=st.sampled_from(_VALID),
    cut=st.integers(0, 2000),
    junk=st.binary(max_size=40),
    flip=st.integers(0, 2000),
)
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_mangled_requests_fault_and_change_nothing(sim, clock, request, cut, junk, flip) -> None:
    """A valid request cut short, or with bytes changed, either still means a valid request or
    gets a fault; after a fault the unit is exactly as before."""
    mangled = bytearray(request[:cut] + junk + request[cut:])
    if mangled:
        mangled[flip % len(mangled)] ^= 0x5A
    before = (sim.ptz.status(9), sim.ptz.presets(9), sim.ptz.home(9))
    status, answer = sim.handle(9, "ptz", bytes(mangled))
    assert parse(answer).tag == f"{{{ENV}}}Envelope"
    if status != 200:
        assert fault_code(answer) in ("Sender", "Receiver", "VersionMismatch")
        assert (sim.ptz.status(9), sim.ptz.presets(9), sim.ptz.home(9)) == before
    assert sim.ptz.position(9) in sim.ptz.spaces
    clock.now += 0.1


def test_a_handler_bug_is_a_receiver_fault_for_that_request_only(sim, monkeypatch) -> None:
    from argus.onvif.simulator import server

    def broken(call, request):
        raise RuntimeError("boom")

    operations = dict(server._SERVICES["media"][1], GetProfiles=broken)
    monkeypatch.setitem(server._SERVICES, "media", (TRT, operations))
    status, answer = sim.handle(4, "media", signed("<trt:GetProfiles/>"))
    assert status == 500 and fault_code(answer) == "Receiver"
    assert sim.handle(4, "device", signed("<tds:GetDeviceInformation/>"))[0] == 200


def test_nonce_is_base64_and_required_for_a_digest(sim: OnvifSimulator) -> None:
    token = security("admin", "admin").replace(
        f"<wsse:Nonce>{base64.b64encode(b'x').decode()}", "<wsse:Nonce>"
    )
    no_nonce = security("admin", "admin")
    start = no_nonce.index("<wsse:Nonce>")
    end = no_nonce.index("</wsse:Nonce>") + len("</wsse:Nonce>")
    no_nonce = no_nonce[:start] + no_nonce[end:]
    for header in (no_nonce, token.replace("<wsse:Nonce>", "<wsse:Nonce>!!")):
        status, answer = sim.handle(1, "device", envelope("<tds:GetScopes/>", header))
        assert status == 400 and fault_subcodes(answer) == ["NotAuthorized"], header
