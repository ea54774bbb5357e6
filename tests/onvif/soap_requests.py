"""SOAP 1.2 requests written by hand for the simulator's in-process tests (`handle`), with a
WS-Security UsernameToken computed as the OASIS profile says (independently of the simulator)."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

ENV = "http://www.w3.org/2003/05/soap-envelope"
TT = "http://www.onvif.org/ver10/schema"
TDS = "http://www.onvif.org/ver10/device/wsdl"
TRT = "http://www.onvif.org/ver10/media/wsdl"
TPTZ = "http://www.onvif.org/ver20/ptz/wsdl"
TER = "http://www.onvif.org/ver10/error"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)


def security(user: str, password: str, *, created: datetime | None = None,
             nonce: bytes | None = None) -> str:  # fmt: skip
    nonce = nonce if nonce is not None else os.urandom(16)
    stamp = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    digest = base64.b64encode(hashlib.sha1(nonce + stamp.encode() + password.encode()).digest())
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
        f"<wsse:Username>{user}</wsse:Username>"
        f'<wsse:Password Type="{DIGEST}">{digest.decode()}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{stamp}</wsu:Created></wsse:UsernameToken></wsse:Security>"
    )


def envelope(body: str, header: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{ENV}" '
        f'xmlns:tt="{TT}" xmlns:tds="{TDS}" xmlns:trt="{TRT}" xmlns:tptz="{TPTZ}">'
        f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def signed(body: str, user: str = "admin", password: str = "admin") -> bytes:
    return envelope(body, security(user, password))


def vector(name: str, pan: float | None, tilt: float | None, zoom: float | None) -> str:
    parts = ""
    if pan is not None and tilt is not None:
        parts += f'<tt:PanTilt x="{pan!r}" y="{tilt!r}"/>'
    if zoom is not None:
        parts += f'<tt:Zoom x="{zoom!r}"/>'
    return f"<tptz:{name}>{parts}</tptz:{name}>"


def ptz(operation: str, inner: str = "", profile: str = "main") -> bytes:
    return signed(
        f"<tptz:{operation}><tptz:ProfileToken>{profile}</tptz:ProfileToken>{inner}"
        f"</tptz:{operation}>"
    )


def parse(payload: bytes) -> etree._Element:
    return etree.fromstring(payload)


def fault_subcodes(payload: bytes) -> list[str]:
    """The ter: subcodes of a fault answer, outermost first ([] if it is no fault)."""
    root = parse(payload)
    values = root.iterfind(f".//{{{ENV}}}Fault/{{{ENV}}}Code//{{{ENV}}}Subcode/{{{ENV}}}Value")
    return [str(v.text).split(":")[-1] for v in values]


def fault_code(payload: bytes) -> str | None:
    root = parse(payload)
    value = root.findtext(f".//{{{ENV}}}Fault/{{{ENV}}}Code/{{{ENV}}}Value")
    return None if value is None else str(value).split(":")[-1]
