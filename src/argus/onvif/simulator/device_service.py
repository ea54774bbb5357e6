"""The simulated device service: who the camera is, which services it has, its clock, its scopes.

Each answer is its capture with this camera's values in place: the XAddrs point at this
simulator's paths for the camera (only the device, media and, for a PTZ camera, PTZ services
are offered, so the capture's events, imaging and device-IO entries are dropped), the identity
comes from its `SimulatedDevice`, the clock is the simulator's UTC time.
"""

from __future__ import annotations

from urllib.parse import quote

from argus.onvif.captures import Templates, body_payload
from argus.onvif.simulator.camera import CameraCall, Handler, SimulatedDevice
from argus.onvif.soap import NS, Element, SoapFault, clone, qname, set_text, take_entries

SERVICE_NAMESPACES = {
    "device": NS["tds"],
    "media": NS["trt"],
    "ptz": NS["tptz"],
}
_CAPABILITY_CATEGORIES = {"Device": "device", "Media": "media", "PTZ": "ptz"}
_SCOPE = "onvif://www.onvif.org/"


def get_device_information(call: CameraCall, request: Element) -> Element:
    envelope = call.templates.envelope("GetDeviceInformation")
    response = body_payload(envelope)
    device = call.device
    for field, value in (
        ("Manufacturer", device.manufacturer),
        ("Model", device.model),
        ("FirmwareVersion", device.firmware),
        ("SerialNumber", device.serial),
        ("HardwareId", device.hardware_id),
    ):
        set_text(response, f"tds:{field}", value)
    return envelope


def _offered(call: CameraCall) -> dict[str, str]:
    """Service name → XAddr of what this camera offers."""
    offered = {"device": call.urls.device, "media": call.urls.media}
    if call.device.ptz:
        offered["ptz"] = call.urls.ptz
    return offered


def _point_or_drop(parent: Element, entry: Element, path: str, xaddr: str | None) -> None:
    """Point a captured service entry at this camera's XAddr, or drop it (None: not offered)."""
    if xaddr is None:
        parent.remove(entry)
    else:
        set_text(entry, path, xaddr)


def get_capabilities(call: CameraCall, request: Element) -> Element:
    wanted = {str(c.text).strip() for c in request.findall(qname("tds", "Category")) if c.text}
    offered = _offered(call)
    if wanted and "All" not in wanted:
        unknown = [c for c in wanted if _CAPABILITY_CATEGORIES.get(c) not in offered]
        if unknown:
            raise SoapFault(
                f"no {unknown[0][:20]} service on this device",
                "ActionNotSupported",
                "NoSuchService",
                code="Receiver",
            )
    envelope = call.templates.envelope("GetCapabilities")
    capabilities = body_payload(envelope).find("tds:Capabilities", NS)
    for element in list(capabilities):
        name = element.tag.split("}")[-1]
        service = _CAPABILITY_CATEGORIES.get(name)
        asked = not wanted or "All" in wanted or name in wanted
        xaddr = offered.get(service) if service is not None and asked else None
        _point_or_drop(capabilities, element, "tt:XAddr", xaddr)
    return envelope


def get_services(call: CameraCall, request: Element) -> Element:
    envelope = call.templates.envelope("GetServices")
    response = body_payload(envelope)
    by_namespace = {SERVICE_NAMESPACES[name]: url for name, url in _offered(call).items()}
    for service in response.findall("tds:Service", NS):
        namespace = service.findtext("tds:Namespace", namespaces=NS)
        _point_or_drop(response, service, "tds:XAddr", by_namespace.get(namespace))
    return envelope


def get_system_date_and_time(call: CameraCall, request: Element) -> Element:
    envelope = call.templates.envelope("GetSystemDateAndTime")
    answer = body_payload(envelope).find("tds:SystemDateAndTime", NS)
    set_text(answer, "tt:DateTimeType", "NTP")
    set_text(answer, "tt:DaylightSavings", "false")
    set_text(answer, "tt:TimeZone/tt:TZ", "KST-9")  # POSIX TZ of Asia/Seoul
    now = call.now
    utc = answer.find("tt:UTCDateTime", NS)
    for path, value in (
        ("tt:Time/tt:Hour", now.hour),
        ("tt:Time/tt:Minute", now.minute),
        ("tt:Time/tt:Second", now.second),
        ("tt:Date/tt:Year", now.year),
        ("tt:Date/tt:Month", now.month),
        ("tt:Date/tt:Day", now.day),
    ):
        set_text(utc, path, str(value))
    return envelope


def device_scopes(templates: Templates, device: SimulatedDevice) -> list[tuple[str, str]]:
    """(definition, scope URI) of a camera: the captured scopes with its own name, hardware and
    location (also what WS-Discovery announces)."""
    out: list[tuple[str, str]] = []
    replace = {
        f"{_SCOPE}hardware/": device.model,
        f"{_SCOPE}name/": device.name or device.hostname,
        f"{_SCOPE}location/": device.location,
    }
    for scopes in body_payload(templates.original("GetScopes")).findall("tds:Scopes", NS):
        item = str(scopes.findtext("tt:ScopeItem", default="", namespaces=NS)).strip()
        definition = str(scopes.findtext("tt:ScopeDef", default="Fixed", namespaces=NS)).strip()
        if item == f"{_SCOPE}type/ptz" and not device.ptz:
            continue
        for prefix, value in replace.items():
            if item.startswith(prefix):
                item = prefix + quote(value, safe="/")
        out.append((definition, item))
    return out


def get_scopes(call: CameraCall, request: Element) -> Element:
    envelope = call.templates.envelope("GetScopes")
    response = body_payload(envelope)
    prototype = take_entries(response, "tds:Scopes")[0]
    for definition, item in device_scopes(call.templates, call.device):
        element = clone(prototype)
        set_text(element, "tt:ScopeDef", definition)
        set_text(element, "tt:ScopeItem", item)
        response.append(element)
    return envelope


def get_hostname(call: CameraCall, request: Element) -> Element:
    envelope = call.templates.envelope("GetHostname")
    info = body_payload(envelope).find("tds:HostnameInformation", NS)
    set_text(info, "tt:FromDHCP", "false")
    set_text(info, "tt:Name", call.device.hostname)
    return envelope


OPERATIONS: dict[str, Handler] = {
    "GetDeviceInformation": get_device_information,
    "GetCapabilities": get_capabilities,
    "GetServices": get_services,
    "GetSystemDateAndTime": get_system_date_and_time,
    "GetScopes": get_scopes,
    "GetHostname": get_hostname,
}
PRE_AUTH = frozenset({"GetSystemDateAndTime", "GetCapabilities", "GetServices"})
"""Operations ONVIF serves without authentication (PRE_AUTH access class)."""
