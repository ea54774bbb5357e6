"""The simulated PTZ service: one node in ONVIF's generic spaces, steered through `PtzRegistry`.

Requests are read completely (profile token, vectors and their spaces, speeds, timeout) before
the registry is asked to act, and the registry checks everything before it changes anything,
so a refused command leaves the unit as it was. Answers are the captures filled in: the node's
ranges from the registry's spaces, the status from the unit's motion at this moment, the
presets with their positions. A space other than the generic one of its kind is refused
(ter:SpaceNotSupported); refusals of the unit become the ONVIF faults of the PTZ
specification (ter:InvalidPosition, ter:NoToken, ter:MovingPTZ, …).
"""

from __future__ import annotations

from collections.abc import Callable

from argus.onvif.captures import body_payload
from argus.onvif.durations import DurationError, format_duration, parse_duration
from argus.onvif.motion import FULL_SPEED, PtzSpeed, Range, both_ways
from argus.onvif.ptz_state import SPEED, VELOCITY, PtzCommandError
from argus.onvif.simulator.camera import PROFILE_KINDS, CameraCall, Handler
from argus.onvif.soap import (
    NS,
    Element,
    SoapFault,
    bool_text,
    child,
    clone,
    float_attr,
    invalid_arg,
    number,
    qname,
    required_text,
    set_text,
    take_entries,
    text_of,
)
from argus.ptz.driver import PtzPosition

NODE_TOKEN = "PTZNode1"
CONFIGURATION_TOKEN = "PTZConfiguration1"
_SPACES = "http://www.onvif.org/ver10/tptz/"
POSITION_SPACES = (
    f"{_SPACES}PanTiltSpaces/PositionGenericSpace",
    f"{_SPACES}ZoomSpaces/PositionGenericSpace",
)
TRANSLATION_SPACES = (
    f"{_SPACES}PanTiltSpaces/TranslationGenericSpace",
    f"{_SPACES}ZoomSpaces/TranslationGenericSpace",
)
VELOCITY_SPACES = (
    f"{_SPACES}PanTiltSpaces/VelocityGenericSpace",
    f"{_SPACES}ZoomSpaces/VelocityGenericSpace",
)
SPEED_SPACES = (
    f"{_SPACES}PanTiltSpaces/GenericSpeedSpace",
    f"{_SPACES}ZoomSpaces/ZoomGenericSpeedSpace",
)
_RECEIVER_FAULTS = {"TooManyPresets", "MovingPTZ"}  # ter:Action faults; the rest ter:InvalidArgVal

Vector = tuple[float | None, float | None, float | None]


def command_fault(error: PtzCommandError) -> SoapFault:
    if error.fault in _RECEIVER_FAULTS:
        return SoapFault(str(error), "Action", error.fault, code="Receiver")
    if error.fault == "InvalidArgVal":
        return invalid_arg(str(error))
    return invalid_arg(str(error), error.fault)


def _profile(request: Element) -> None:
    token = required_text(request, "tptz", "ProfileToken")
    if token not in PROFILE_KINDS:
        raise invalid_arg(f"no profile {token[:40]!r}", "NoProfile")


def _vector(request: Element, name: str, spaces: tuple[str, str]) -> Vector | None:
    """(pan, tilt, zoom) of a PTZVector or PTZSpeed argument, None for an axis not given."""
    element = child(request, "tptz", name)
    if element is None:
        return None
    pan = tilt = zoom = None
    pan_tilt = child(element, "tt", "PanTilt")
    if pan_tilt is not None:
        _space(pan_tilt, spaces[0], name)
        pan = float_attr(pan_tilt, "x", f"{name} PanTilt")
        tilt = float_attr(pan_tilt, "y", f"{name} PanTilt")
    zoom_element = child(element, "tt", "Zoom")
    if zoom_element is not None:
        _space(zoom_element, spaces[1], name)
        zoom = float_attr(zoom_element, "x", f"{name} Zoom")
    return pan, tilt, zoom


def _required_vector(request: Element, name: str, spaces: tuple[str, str]) -> Vector:
    vector = _vector(request, name, spaces)
    if vector is None:
        raise invalid_arg(f"{name} is missing")
    return vector


def _space(element: Element, expected: str, name: str) -> None:
    space = element.get("space")
    if space is not None and space.strip() != expected:
        raise invalid_arg(f"{name}: space {space[:80]} is not supported", "SpaceNotSupported")


def _speed(request: Element) -> PtzSpeed:
    speed = _vector(request, "Speed", SPEED_SPACES)
    return FULL_SPEED if speed is None else PtzSpeed(*speed)


def _act(action: Callable[[], object]) -> None:
    """Run a registry command given as a thunk, turning its refusal into the ONVIF fault."""
    try:
        action()
    except PtzCommandError as exc:
        raise command_fault(exc) from None


# --- node and configuration ------------------------------------------------------------------


def fill_configuration(call: CameraCall, configuration: Element) -> None:
    """A PTZConfiguration of the captures (in a profile or on its own) for this node."""
    configuration.set("token", CONFIGURATION_TOKEN)
    set_text(configuration, "tt:Name", "PTZ")
    set_text(configuration, "tt:UseCount", str(len(PROFILE_KINDS)))
    set_text(configuration, "tt:NodeToken", NODE_TOKEN)
    timeout = format_duration(call.ptz.motion.default_timeout_s)
    set_text(configuration, "tt:DefaultPTZTimeout", timeout)


def get_configurations(call: CameraCall, request: Element) -> Element:
    envelope = call.templates.envelope("GetConfigurations")
    fill_configuration(call, body_payload(envelope).find("tptz:PTZConfiguration", NS))
    return envelope


def get_configuration(call: CameraCall, request: Element) -> Element:
    token = required_text(request, "tptz", "PTZConfigurationToken")
    if token != CONFIGURATION_TOKEN:
        raise invalid_arg(f"no PTZ configuration {token[:40]!r}", "NoConfig")
    envelope = get_configurations(call, request)
    response = body_payload(envelope)
    response.tag = qname("tptz", "GetConfigurationResponse")
    return envelope


def _set_range(space: Element, axis: str, allowed: Range) -> None:
    set_text(space, f"tt:{axis}Range/tt:Min", number(allowed.low))
    set_text(space, f"tt:{axis}Range/tt:Max", number(allowed.high))


def get_nodes(call: CameraCall, request: Element) -> Element:
    envelope = call.templates.envelope("GetNodes")
    node = body_payload(envelope).find("tptz:PTZNode", NS)
    node.set("token", NODE_TOKEN)
    set_text(node, "tt:Name", "PTZ")
    supported = node.find("tt:SupportedPTZSpaces", NS)
    spaces = call.ptz.spaces
    for name, x, y in (
        ("AbsolutePanTiltPositionSpace", spaces.pan, spaces.tilt),
        ("AbsoluteZoomPositionSpace", spaces.zoom, None),
        ("RelativePanTiltTranslationSpace", both_ways(spaces.pan), both_ways(spaces.tilt)),
        ("RelativeZoomTranslationSpace", both_ways(spaces.zoom), None),
        ("ContinuousPanTiltVelocitySpace", VELOCITY, VELOCITY),
        ("ContinuousZoomVelocitySpace", VELOCITY, None),
        ("PanTiltSpeedSpace", SPEED, None),
        ("ZoomSpeedSpace", SPEED, None),
    ):
        space = supported.find(f"tt:{name}", NS)
        _set_range(space, "X", x)
        if y is not None:
            _set_range(space, "Y", y)
    set_text(node, "tt:MaximumNumberOfPresets", str(call.ptz.max_presets))
    set_text(node, "tt:HomeSupported", "true")
    for element in node.findall("tt:AuxiliaryCommands", NS) + node.findall("tt:Extension", NS):
        node.remove(element)  # no auxiliary commands, no preset tours
    return envelope


def get_node(call: CameraCall, request: Element) -> Element:
    token = required_text(request, "tptz", "NodeToken")
    if token != NODE_TOKEN:
        raise invalid_arg(f"no PTZ node {token[:40]!r}", "NoEntity")
    envelope = get_nodes(call, request)
    response = body_payload(envelope)
    response.tag = qname("tptz", "GetNodeResponse")
    return envelope


# --- status and presets ----------------------------------------------------------------------


def _fill_position(element: Element, position: PtzPosition) -> None:
    """A captured tt:Position (PanTilt x y, Zoom x) with this position."""
    pan_tilt = element.find("tt:PanTilt", NS)
    pan_tilt.set("space", POSITION_SPACES[0])
    pan_tilt.set("x", number(position.pan))
    pan_tilt.set("y", number(position.tilt))
    zoom = element.find("tt:Zoom", NS)
    zoom.set("space", POSITION_SPACES[1])
    zoom.set("x", number(position.zoom))


def get_status(call: CameraCall, request: Element) -> Element:
    _profile(request)
    status = call.ptz.status(call.camera_id)
    envelope = call.templates.envelope("GetStatus")
    answer = body_payload(envelope).find("tptz:PTZStatus", NS)
    _fill_position(answer.find("tt:Position", NS), status.position)
    set_text(answer, "tt:MoveStatus/tt:PanTilt", "MOVING" if status.pan_tilt_moving else "IDLE")
    set_text(answer, "tt:MoveStatus/tt:Zoom", "MOVING" if status.zoom_moving else "IDLE")
    set_text(answer, "tt:UtcTime", call.now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return envelope


def get_presets(call: CameraCall, request: Element) -> Element:
    _profile(request)
    envelope = call.templates.envelope("GetPresets")
    response = body_payload(envelope)
    captured = take_entries(response, "tptz:Preset")
    status_template = body_payload(call.templates.original("GetStatus"))
    position_template = status_template.find("tptz:PTZStatus/tt:Position", NS)
    for preset in call.ptz.presets(call.camera_id):
        element = clone(captured[0])
        element.set("token", preset.token)
        set_text(element, "tt:Name", preset.name)
        position = clone(position_template)
        position.tag = qname("tt", "PTZPosition")
        _fill_position(position, preset.position)
        element.append(position)
        response.append(element)
    return envelope


def goto_preset(call: CameraCall, request: Element) -> Element:
    _profile(request)
    token = required_text(request, "tptz", "PresetToken")
    speed = _speed(request)
    _act(lambda: call.ptz.goto_preset(call.camera_id, token, speed))
    return call.templates.envelope("GotoPreset")


def set_preset(call: CameraCall, request: Element) -> Element:
    _profile(request)
    name = text_of(request, "tptz", "PresetName", required=False)
    token = text_of(request, "tptz", "PresetToken", required=False)
    if name is not None and len(name) > 64:
        raise invalid_arg("a preset name has at most 64 characters", "InvalidPresetName")
    stored: list[str] = []
    _act(lambda: stored.append(call.ptz.set_preset(call.camera_id, name, token)))
    envelope = call.templates.envelope("SetPreset")
    set_text(body_payload(envelope), "tptz:PresetToken", stored[0])
    return envelope


def remove_preset(call: CameraCall, request: Element) -> Element:
    _profile(request)
    token = required_text(request, "tptz", "PresetToken")
    _act(lambda: call.ptz.remove_preset(call.camera_id, token))
    return call.templates.envelope("RemovePreset")


def goto_home_position(call: CameraCall, request: Element) -> Element:
    _profile(request)
    speed = _speed(request)
    _act(lambda: call.ptz.goto_home(call.camera_id, speed))
    return call.templates.envelope("GotoHomePosition")


def set_home_position(call: CameraCall, request: Element) -> Element:
    _profile(request)
    _act(lambda: call.ptz.set_home(call.camera_id))
    return call.templates.envelope("SetHomePosition")


# --- moves -----------------------------------------------------------------------------------


def continuous_move(call: CameraCall, request: Element) -> Element:
    _profile(request)
    velocity = _required_vector(request, "Velocity", VELOCITY_SPACES)
    raw_timeout = text_of(request, "tptz", "Timeout", required=False)
    timeout: float | None = None
    if raw_timeout is not None:
        try:
            timeout = parse_duration(raw_timeout)
        except DurationError as exc:
            raise invalid_arg(f"Timeout: {exc}") from None
    _act(lambda: call.ptz.continuous_move(call.camera_id, *velocity, timeout))
    return call.templates.envelope("ContinuousMove")


def relative_move(call: CameraCall, request: Element) -> Element:
    _profile(request)
    translation = _required_vector(request, "Translation", TRANSLATION_SPACES)
    speed = _speed(request)
    _act(lambda: call.ptz.relative_move(call.camera_id, *translation, speed))
    return call.templates.envelope("RelativeMove")


def absolute_move(call: CameraCall, request: Element) -> Element:
    _profile(request)
    position = _required_vector(request, "Position", POSITION_SPACES)
    speed = _speed(request)
    _act(lambda: call.ptz.absolute_move(call.camera_id, *position, speed))
    return call.templates.envelope("AbsoluteMove")


def stop(call: CameraCall, request: Element) -> Element:
    _profile(request)
    pan_tilt = bool_text(request, "tptz", "PanTilt", True)
    zoom = bool_text(request, "tptz", "Zoom", True)
    call.ptz.stop(call.camera_id, pan_tilt, zoom)
    return call.templates.envelope("Stop")


OPERATIONS: dict[str, Handler] = {
    "GetNodes": get_nodes,
    "GetNode": get_node,
    "GetConfigurations": get_configurations,
    "GetConfiguration": get_configuration,
    "GetStatus": get_status,
    "GetPresets": get_presets,
    "GotoPreset": goto_preset,
    "SetPreset": set_preset,
    "RemovePreset": remove_preset,
    "GotoHomePosition": goto_home_position,
    "SetHomePosition": set_home_position,
    "ContinuousMove": continuous_move,
    "RelativeMove": relative_move,
    "AbsoluteMove": absolute_move,
    "Stop": stop,
}
