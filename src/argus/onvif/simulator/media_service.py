"""The simulated media service: the camera's profiles and the URIs of its streams.

Two profiles, `main` and `sub` (the profile capture's token is `main`; `sub` is a copy), each
describing its RTSP stream as the RTSP simulator encodes it (codec, size, frame rate, bit rate,
GOP) and, on a PTZ camera, carrying the PTZ configuration, which is how clients find the
profile to steer with. GetStreamUri answers the simulator's RTSP URL of that stream.
"""

from __future__ import annotations

from argus.onvif.captures import body_payload
from argus.onvif.simulator.camera import PROFILE_KINDS, CameraCall, Handler, StreamKind
from argus.onvif.simulator.ptz_service import fill_configuration
from argus.onvif.soap import (
    NS,
    Element,
    child,
    clone,
    invalid_arg,
    qname,
    required_text,
    set_text,
    take_entries,
    text_of,
)

_ENCODER_NAMES = {"main": "Main stream encoder", "sub": "Sub stream encoder"}


def profile_kind(request: Element) -> StreamKind:
    token = required_text(request, "trt", "ProfileToken")
    kind = PROFILE_KINDS.get(token)
    if kind is None:
        raise invalid_arg(f"no profile {token[:40]!r}", "NoProfile")
    return kind


def _fill_profile(call: CameraCall, profile: Element, kind: StreamKind) -> None:
    media = call.media
    settings = media.settings[kind]
    main = media.settings["main"]
    codec = media.codec_of(call.camera_id)
    profile.set("token", kind)
    set_text(profile, "tt:Name", kind)
    source = profile.find("tt:VideoSourceConfiguration", NS)
    bounds = source.find("tt:Bounds", NS)
    bounds.set("width", str(main.width))
    bounds.set("height", str(main.height))
    encoder = profile.find("tt:VideoEncoderConfiguration", NS)
    encoder.set("token", kind)
    set_text(encoder, "tt:Name", _ENCODER_NAMES[kind])
    set_text(encoder, "tt:Encoding", "H264" if codec == "h264" else "H265")
    set_text(encoder, "tt:Resolution/tt:Width", str(settings.width))
    set_text(encoder, "tt:Resolution/tt:Height", str(settings.height))
    set_text(encoder, "tt:RateControl/tt:FrameRateLimit", str(round(settings.fps)))
    set_text(encoder, "tt:RateControl/tt:EncodingInterval", "1")
    set_text(encoder, "tt:RateControl/tt:BitrateLimit", str(settings.bitrate // 1000))
    h264 = encoder.find("tt:H264", NS)
    if codec == "h264":
        set_text(h264, "tt:GovLength", str(settings.gop_frames))
        set_text(h264, "tt:H264Profile", settings.h264_profile.capitalize())
    else:  # Media 1 describes H.264 only; an H.265 camera reports its encoding and no H264 part
        encoder.remove(h264)
    ptz = profile.find("tt:PTZConfiguration", NS)
    if call.device.ptz:
        fill_configuration(call, ptz)
    else:
        profile.remove(ptz)


def get_profiles(call: CameraCall, request: Element) -> Element:
    envelope = call.templates.envelope("GetProfiles")
    response = body_payload(envelope)
    prototype = take_entries(response, "trt:Profiles")[0]
    for kind in PROFILE_KINDS.values():
        profile = clone(prototype)
        _fill_profile(call, profile, kind)
        response.append(profile)
    return envelope


def get_profile(call: CameraCall, request: Element) -> Element:
    kind = profile_kind(request)
    envelope = get_profiles(call, request)
    response = body_payload(envelope)
    response.tag = qname("trt", "GetProfileResponse")
    for profile in response.findall("trt:Profiles", NS):
        if profile.get("token") == kind:
            profile.tag = qname("trt", "Profile")
        else:
            response.remove(profile)
    return envelope


def get_stream_uri(call: CameraCall, request: Element) -> Element:
    kind = profile_kind(request)
    setup = child(request, "trt", "StreamSetup")
    if setup is not None:
        stream = text_of(setup, "tt", "Stream", required=False)
        if stream is not None and stream != "RTP-Unicast":
            raise invalid_arg(f"stream type {stream[:20]} is not offered", "InvalidStreamSetup")
        transport = child(setup, "tt", "Transport")
        protocol = (
            text_of(transport, "tt", "Protocol", required=False) if transport is not None else None
        )
        if protocol is not None and protocol not in ("RTSP", "TCP", "UDP"):
            raise invalid_arg(f"transport {protocol[:20]} is not offered", "InvalidStreamSetup")
    envelope = call.templates.envelope("GetStreamUri")
    uri = body_payload(envelope).find("trt:MediaUri", NS)
    set_text(uri, "tt:Uri", call.media.url(call.camera_id, kind))
    set_text(uri, "tt:InvalidAfterConnect", "false")
    set_text(uri, "tt:InvalidAfterReboot", "false")
    set_text(uri, "tt:Timeout", "PT0S")
    return envelope


def get_snapshot_uri(call: CameraCall, request: Element) -> Element:
    kind = profile_kind(request)
    envelope = call.templates.envelope("GetSnapshotUri")
    uri = body_payload(envelope).find("trt:MediaUri", NS)
    set_text(uri, "tt:Uri", f"{call.urls.snapshot}?profile={kind}")
    return envelope


OPERATIONS: dict[str, Handler] = {
    "GetProfiles": get_profiles,
    "GetProfile": get_profile,
    "GetStreamUri": get_stream_uri,
    "GetSnapshotUri": get_snapshot_uri,
}
