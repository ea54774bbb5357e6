"""WS-Discovery for the simulated cameras: a Probe responder, and `probe()` that asks one.

ONVIF devices answer a WS-Discovery (2005/04) Probe, normally multicast to 239.255.255.250:3702,
with ProbeMatches naming their endpoint, types, scopes and device service XAddrs. The simulator
listens for unicast probes only, on 127.0.0.1 and a port of its choosing, joins no multicast
group and sends nothing but replies to whoever probed it. Each camera answers as a device of its
own, one ProbeMatches datagram per camera, built from the captured answer (Probe.xml): its
stable endpoint UUID (derived from the camera id), the captured types, its scopes as GetScopes
lists them, its device service URL. A Probe naming Types or Scopes gets only the cameras that
have all of them (scopes matched by RFC 3986 prefix, the default MatchBy, or exactly with
strcmp0). A datagram that is not a Probe is ignored: UDP has no one to tell.

`probe(port)` sends one Probe to 127.0.0.1:port and gathers the ProbeMatches that answer it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from lxml import etree  # type: ignore[import-untyped, unused-ignore]
from lxml.builder import ElementMaker  # type: ignore[import-untyped, unused-ignore]

from argus.onvif.captures import SOAP_ENV, body_payload
from argus.onvif.simulator.device_service import device_scopes
from argus.onvif.simulator.server import OnvifSimulator
from argus.onvif.soap import Element, to_bytes

log = logging.getLogger(__name__)

WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
NETWORK = "http://www.onvif.org/ver10/network/wsdl"
DEVICE = "http://www.onvif.org/ver10/device/wsdl"
PROBE_ACTION = f"{WSD}/Probe"
DISCOVERY_TO = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
ANONYMOUS = f"{WSA}/role/anonymous"
MATCH_RFC3986 = f"{WSD}/rfc3986"
MATCH_STRCMP0 = f"{WSD}/strcmp0"
DEFAULT_PORT = 3702
_NAMESPACE = uuid.UUID("5d0c1f0e-8f3b-4d2e-9a57-3b1c0e7f4a21")  # Argus's, for endpoint UUIDs
_MAX_DATAGRAM = 65507
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def endpoint_address(camera_id: int) -> str:
    """The stable WS-Addressing endpoint of a simulated camera."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'argus-onvif-camera-{camera_id}')}"


@dataclass(frozen=True, slots=True)
class ProbeMatch:
    """One device's answer: endpoint, types (QNames as Clark names), scopes, XAddrs."""

    address: str
    types: tuple[str, ...]
    scopes: tuple[str, ...]
    xaddrs: tuple[str, ...]
    metadata_version: int


@dataclass(frozen=True, slots=True)
class _Probe:
    message_id: str
    types: tuple[str, ...]
    scopes: tuple[str, ...]
    match_by: str


def _qnames(element: Element | None) -> tuple[str, ...]:
    """A list of QNames (`dn:NetworkVideoTransmitter tds:Device`) as Clark names."""
    if element is None or not element.text:
        return ()
    out = []
    for token in str(element.text).split():
        prefix, _, local = token.rpartition(":")
        namespace = element.nsmap.get(prefix or None)
        out.append(f"{{{namespace}}}{local}" if namespace else local)
    return tuple(out)


def _read_probe(data: bytes) -> _Probe | None:
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return None
    if root.tag != f"{{{SOAP_ENV}}}Envelope" or root.getroottree().docinfo.doctype:
        return None
    probe = root.find(f"{{{SOAP_ENV}}}Body/{{{WSD}}}Probe")
    if probe is None:
        return None
    message_id = root.findtext(f"{{{SOAP_ENV}}}Header/{{{WSA}}}MessageID")
    scopes = probe.find(f"{{{WSD}}}Scopes")
    return _Probe(
        message_id=str(message_id or "").strip(),
        types=_qnames(probe.find(f"{{{WSD}}}Types")),
        scopes=tuple(str(scopes.text or "").split()) if scopes is not None else (),
        match_by=scopes.get("MatchBy", MATCH_RFC3986) if scopes is not None else MATCH_RFC3986,
    )


def _scope_matches(wanted: str, offered: str, match_by: str) -> bool:
    if match_by == MATCH_STRCMP0:
        return wanted == offered
    wanted_parts = wanted.rstrip("/").split("/")
    offered_parts = offered.rstrip("/").split("/")
    return offered_parts[: len(wanted_parts)] == wanted_parts


class DiscoveryResponder(asyncio.DatagramProtocol):
    """Answers unicast Probes for `camera_ids` of an `OnvifSimulator`."""

    def __init__(self, onvif: OnvifSimulator, camera_ids: Iterable[int]) -> None:
        self.onvif = onvif
        self.camera_ids = list(camera_ids)
        self.probes = 0
        self.ignored = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._messages = itertools.count(1)
        self._instance = int(time.time())
        self._replies: set[asyncio.Task[None]] = set()
        template = onvif.templates.original("ProbeMatches")
        self._types = _qnames(body_payload(template).find(f"{{{WSD}}}ProbeMatch/{{{WSD}}}Types"))

    # lifecycle -------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))

    @property
    def port(self) -> int:
        if self._transport is None:
            raise RuntimeError("the discovery responder is not listening")
        return int(self._transport.get_extra_info("sockname")[1])

    def close(self) -> None:
        for task in list(self._replies):
            task.cancel()
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (3.11's selector transport does not subclass DatagramTransport, so no isinstance)
        self._transport = cast(asyncio.DatagramTransport, transport)

    # probes ----------------------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: tuple[str | int, int]) -> None:
        probe = _read_probe(data)
        if probe is None:
            self.ignored += 1
            return
        self.probes += 1
        task = asyncio.get_running_loop().create_task(self._answer(probe, addr))
        self._replies.add(task)
        task.add_done_callback(self._replies.discard)

    def matches(
        self,
        camera_id: int,
        probe_types: Iterable[str],
        scopes: Iterable[str],
        match_by: str = MATCH_RFC3986,
    ) -> bool:
        """Whether a camera answers a Probe for these types and scopes."""
        if not set(probe_types) <= set(self._types):
            return False
        offered = [
            item for _, item in device_scopes(self.onvif.templates, self.onvif.devices(camera_id))
        ]
        return all(any(_scope_matches(w, o, match_by) for o in offered) for w in scopes)

    async def _answer(self, probe: _Probe, addr: tuple[str | int, int]) -> None:
        for count, camera_id in enumerate(self.camera_ids, start=1):
            transport = self._transport
            if transport is None:
                return
            if not self.onvif.known(camera_id) or not self.matches(
                camera_id, probe.types, probe.scopes, probe.match_by
            ):
                continue
            reply = self.reply(camera_id, probe.message_id)
            if len(reply) <= _MAX_DATAGRAM:
                transport.sendto(reply, addr)
            if count % 32 == 0:
                await asyncio.sleep(0.001)  # let the prober read; a burst would overflow it

    def reply(self, camera_id: int, relates_to: str) -> bytes:
        """The ProbeMatches of one camera, from the captured answer."""
        envelope = self.onvif.templates.envelope("ProbeMatches")
        header = envelope.find(f"{{{SOAP_ENV}}}Header")
        header.find(f"{{{WSA}}}MessageID").text = f"urn:uuid:{uuid.uuid4()}"
        header.find(f"{{{WSA}}}RelatesTo").text = relates_to
        sequence = header.find(f"{{{WSD}}}AppSequence")
        sequence.set("MessageNumber", str(next(self._messages)))
        sequence.set("InstanceId", str(self._instance))
        match = body_payload(envelope).find(f"{{{WSD}}}ProbeMatch")
        match.find(f"{{{WSA}}}EndpointReference/{{{WSA}}}Address").text = endpoint_address(
            camera_id
        )
        device = self.onvif.devices(camera_id)
        scopes = " ".join(item for _, item in device_scopes(self.onvif.templates, device))
        match.find(f"{{{WSD}}}Scopes").text = scopes
        match.find(f"{{{WSD}}}XAddrs").text = self.onvif.device_url(camera_id)
        match.find(f"{{{WSD}}}MetadataVersion").text = "1"
        return to_bytes(envelope)


# --- the prober ------------------------------------------------------------------------------


def build_probe(
    message_id: str,
    types: Iterable[str] = ("dn:NetworkVideoTransmitter",),
    scopes: Iterable[str] = (),
) -> bytes:
    """A WS-Discovery Probe for ONVIF devices (types as `prefix:local` with dn and tds known)."""
    nsmap = {"s": SOAP_ENV, "a": WSA, "d": WSD, "dn": NETWORK, "tds": DEVICE}
    soap = ElementMaker(namespace=SOAP_ENV, nsmap=nsmap)
    wsa = ElementMaker(namespace=WSA, nsmap=nsmap)
    wsd = ElementMaker(namespace=WSD, nsmap=nsmap)
    probe = wsd.Probe()
    type_list = " ".join(types)
    if type_list:
        probe.append(wsd.Types(type_list))
    scope_list = " ".join(scopes)
    if scope_list:
        probe.append(wsd.Scopes(scope_list))
    must = {f"{{{SOAP_ENV}}}mustUnderstand": "true"}
    envelope = soap.Envelope(
        soap.Header(
            wsa.Action(PROBE_ACTION, must),
            wsa.MessageID(message_id),
            wsa.ReplyTo(wsa.Address(ANONYMOUS)),
            wsa.To(DISCOVERY_TO, must),
        ),
        soap.Body(probe),
    )
    return to_bytes(envelope)


def parse_matches(data: bytes, relates_to: str | None = None) -> list[ProbeMatch]:
    """The ProbeMatch entries of a ProbeMatches datagram ([] for anything else)."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return []
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        return []
    if relates_to is not None:
        related = root.findtext(f"{{{SOAP_ENV}}}Header/{{{WSA}}}RelatesTo")
        if str(related or "").strip() != relates_to:
            return []
    out = []
    for match in root.iterfind(f"{{{SOAP_ENV}}}Body/{{{WSD}}}ProbeMatches/{{{WSD}}}ProbeMatch"):
        address = match.findtext(f"{{{WSA}}}EndpointReference/{{{WSA}}}Address") or ""
        version = str(match.findtext(f"{{{WSD}}}MetadataVersion") or "0").strip()
        out.append(
            ProbeMatch(
                address=str(address).strip(),
                types=_qnames(match.find(f"{{{WSD}}}Types")),
                scopes=tuple(str(match.findtext(f"{{{WSD}}}Scopes") or "").split()),
                xaddrs=tuple(str(match.findtext(f"{{{WSD}}}XAddrs") or "").split()),
                metadata_version=int(version) if version.isdigit() else 0,
            )
        )
    return out


class _Collector(asyncio.DatagramProtocol):
    def __init__(self, message_id: str, expect: int | None) -> None:
        self.message_id = message_id
        self.expect = expect
        self.matches: dict[str, ProbeMatch] = {}
        self.enough = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str | int, int]) -> None:
        for match in parse_matches(data, self.message_id):
            self.matches.setdefault(match.address, match)
        if self.expect is not None and len(self.matches) >= self.expect:
            self.enough.set()


async def probe(
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    *,
    timeout: float = 1.0,
    expect: int | None = None,
    types: Iterable[str] = ("dn:NetworkVideoTransmitter",),
    scopes: Iterable[str] = (),
) -> list[ProbeMatch]:
    """Send one Probe to host:port (unicast) and return the devices that answered within
    `timeout` seconds, sooner once `expect` of them have; one entry per endpoint."""
    message_id = f"urn:uuid:{uuid.uuid4()}"
    loop = asyncio.get_running_loop()
    transport, collector = await loop.create_datagram_endpoint(
        lambda: _Collector(message_id, expect), remote_addr=(host, port)
    )
    try:
        transport.sendto(build_probe(message_id, types, scopes))
        try:
            async with asyncio.timeout(timeout):
                await collector.enough.wait()
        except TimeoutError:
            pass
    finally:
        transport.close()
    return list(collector.matches.values())
