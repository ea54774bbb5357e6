"""The real ONVIF responses the simulator answers with, loaded as templates at run time.

They are the captures in the shared data folder, `onvif-soap-captures` (see its SOURCE.md:
Hikvision-derived responses of the agsh/onvif mock-up server, and responses recorded from
Milesight, Axis and other devices in hammeraj/onvif's fixtures), read from there and never
copied into the repository. The folder is found as the scenario readers find the shared data
(`argus.scenario.writer.find_data_dir`: given, ARGUS_REFERENCE_DATA, or ../shared/data).

Three clean-ups happen on loading. Some agsh files are doT templates: their conditional markers
(`{{? …}}` and `{{?}}`) are removed and everything between them kept, since the simulator
adds and drops elements itself; any other doT construct is refused. One capture
(GetSnapshotUri.xml) uses the SOAP-ENV prefix without declaring it: the SOAP 1.2 envelope
namespace is declared for it. And the WS-Security header that the mock-ups echo (a request's
UsernameToken from 2014) is removed; other header blocks (WS-Addressing of the Probe answer)
stay. Every response is a
deep copy of its template with the camera's state filled in.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from argus.errors import ArgusError

CAPTURES = Path("onvif-soap-captures")
_AGSH = CAPTURES / "agsh_onvif" / "test" / "serverMockup"
_HAMMERAJ = CAPTURES / "hammeraj_onvif" / "test"

TEMPLATE_FILES: dict[str, Path] = {
    # device service
    "GetDeviceInformation": _AGSH / "GetDeviceInformation.xml",
    "GetCapabilities": _AGSH / "GetCapabilities.xml",
    "GetServices": _AGSH / "GetServices.xml",
    "GetSystemDateAndTime": _AGSH / "GetSystemDateAndTime.xml",
    "GetScopes": _AGSH / "GetScopes.xml",
    "GetHostname": _AGSH / "GetHostname.xml",
    # media service
    "GetProfiles": _AGSH / "GetProfiles.xml",
    "GetStreamUri": _AGSH / "GetStreamUri.xml",
    "GetSnapshotUri": _AGSH / "GetSnapshotUri.xml",
    # PTZ service
    "GetNodes": _HAMMERAJ / "ptz" / "fixtures" / "get_nodes_success.xml",
    "GetConfigurations": _AGSH / "GetConfigurations.xml",
    "GetStatus": _AGSH / "GetStatus.xml",
    "GetPresets": _AGSH / "ptz.GetPresets.xml",
    "GotoPreset": _AGSH / "ptz.GotoPreset.xml",
    "SetPreset": _AGSH / "ptz.SetPreset.xml",
    "RemovePreset": _AGSH / "ptz.RemovePreset.xml",
    "GotoHomePosition": _AGSH / "ptz.GotoHomePosition.xml",
    "SetHomePosition": _AGSH / "ptz.SetHomePosition.xml",
    "ContinuousMove": _AGSH / "ptz.ContinuousMove.xml",
    "RelativeMove": _AGSH / "ptz.RelativeMove.xml",
    "AbsoluteMove": _AGSH / "ptz.AbsoluteMove.xml",
    "Stop": _AGSH / "ptz.Stop.xml",
    # a fault with a two-level subcode, and WS-Discovery's answer to a Probe
    "Fault": _HAMMERAJ / "media" / "ver10" / "fixtures" / "delete_osd_nonexistent.xml",
    "ProbeMatches": _AGSH / "Probe.xml",
}

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_DOT_CONDITIONAL = re.compile(rb"\{\{\?[^{}]*\}\}")
_UNDECLARED_ENV = re.compile(rb"<SOAP-ENV:Envelope(?![^>]*xmlns:SOAP-ENV=)")


class CaptureError(ArgusError):
    """The ONVIF captures are missing or not what the simulator expects."""


def captures_dir(data_dir: Path | None = None) -> Path:
    """The onvif-soap-captures folder of the shared data (or of `data_dir` if given)."""
    from argus.scenario.writer import find_data_dir  # the repository's one way to find it

    try:
        base = find_data_dir(data_dir)
    except ArgusError as exc:
        raise CaptureError(f"the ONVIF captures were not found: {exc}") from exc
    folder = base / CAPTURES
    if not folder.is_dir():
        raise CaptureError(f"the ONVIF captures folder {folder} is missing")
    return folder.parent


def strip_dot_markers(raw: bytes, name: str) -> bytes:
    """The file without doT conditional markers; other doT constructs are an error."""
    text = _DOT_CONDITIONAL.sub(b"", raw)
    if b"{{" in text:
        raise CaptureError(f"{name}: a doT construct the simulator cannot render")
    return text


def declare_envelope_prefix(raw: bytes) -> bytes:
    """Declare the SOAP-ENV prefix on an envelope that uses it undeclared."""
    declaration = f' xmlns:SOAP-ENV="{SOAP_ENV}"'.encode()
    return _UNDECLARED_ENV.sub(lambda m: m.group(0) + declaration, raw, count=1)


_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)


def parse_capture(path: Path) -> etree._Element:
    """One capture as an envelope: doT markers stripped, no echoed WS-Security header."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CaptureError(f"cannot read the capture {path}: {exc}") from exc
    try:
        text = declare_envelope_prefix(strip_dot_markers(raw, path.name))
        root = etree.fromstring(text, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise CaptureError(f"{path.name} is not well-formed XML: {exc}") from exc
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise CaptureError(f"{path.name} is not a SOAP 1.2 envelope")
    header = root.find(f"{{{SOAP_ENV}}}Header")
    if header is not None:
        for child in header.findall(f"{{{_WSSE}}}Security"):
            header.remove(child)
    return root


class Templates:
    """The parsed captures by name; `envelope(name)` is a fresh copy to fill in."""

    def __init__(self, envelopes: dict[str, etree._Element]) -> None:
        missing = sorted(set(TEMPLATE_FILES) - set(envelopes))
        if missing:
            raise CaptureError(f"templates missing: {', '.join(missing)}")
        self._envelopes = envelopes

    @classmethod
    def load(cls, data_dir: Path | None = None) -> Templates:
        base = captures_dir(data_dir)
        return cls({name: parse_capture(base / path) for name, path in TEMPLATE_FILES.items()})

    def envelope(self, name: str) -> etree._Element:
        return copy.deepcopy(self._envelopes[name])

    def original(self, name: str) -> etree._Element:
        """The template itself, shared: to read or to clone parts of, never to change."""
        return self._envelopes[name]


@cache
def shared_templates(data_dir: Path | None = None) -> Templates:
    """The templates, loaded once per process (they are only ever copied)."""
    return Templates.load(data_dir)


def body_payload(envelope: etree._Element) -> etree._Element:
    """The one element inside an envelope's Body (the response or the fault)."""
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    if body is None or len(body) == 0:
        raise CaptureError("a template envelope has an empty Body")
    return body[0]
