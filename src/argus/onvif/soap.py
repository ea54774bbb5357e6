"""SOAP 1.2 as an ONVIF device speaks it: reading requests, writing responses and faults.

`parse_request` turns bytes into the envelope's Header and the one operation element in its
Body, or raises a `SoapFault` saying what is wrong (not XML, a DTD, SOAP 1.1, no operation),
parsed safely: no DTD, no entity expansion, no network, libxml2's size limits kept. A fault is
written from the fault capture (`Fault` template) with its code, ONVIF subcodes (`ter:…`) and
reason; its HTTP status follows the SOAP 1.2 HTTP binding (400 for env:Sender, 500 for the
rest) unless the fault names one (a refused login: 400 or 401, as real cameras differ).

The small readers (`text_of`, `float_attr`, …) read request arguments and raise a Sender fault
(ter:InvalidArgVal) for anything unusable, so a handler never sees half-parsed input.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from argus.onvif.captures import SOAP_ENV, Templates, body_payload

NS = {
    "env": SOAP_ENV,
    "tt": "http://www.onvif.org/ver10/schema",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tptz": "http://www.onvif.org/ver20/ptz/wsdl",
    "ter": "http://www.onvif.org/ver10/error",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CONTENT_TYPE = "application/soap+xml"
MAX_REQUEST_BYTES = 256 * 1024

Element = Any
"""An lxml element (lxml ships no type stubs here)."""


def qname(prefix: str, local: str) -> str:
    """Clark notation of a name in one of the namespaces of `NS`."""
    return f"{{{NS[prefix]}}}{local}"


class SoapFault(Exception):
    """A request refused with a SOAP fault: env code, ONVIF subcodes (outermost first), reason."""

    def __init__(
        self,
        reason: str,
        *subcodes: str,
        code: str = "Sender",
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.subcodes = subcodes
        self.code = code
        self.status = status if status is not None else (400 if code == "Sender" else 500)
        self.detail = detail


def invalid_arg(reason: str, *subcodes: str) -> SoapFault:
    """A Sender fault ter:InvalidArgVal (and a finer subcode if given)."""
    return SoapFault(reason, "InvalidArgVal", *subcodes)


@dataclass(frozen=True, slots=True)
class SoapRequest:
    envelope: Element
    header: Element | None
    operation: Element

    @property
    def name(self) -> str:
        return str(etree.QName(self.operation).localname)

    @property
    def namespace(self) -> str | None:
        namespace = etree.QName(self.operation).namespace
        return None if namespace is None else str(namespace)


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_request(body: bytes) -> SoapRequest:
    """The Header and the operation of a SOAP 1.2 request, or a SoapFault why not."""
    if not body.strip():
        raise SoapFault("Well-formed error: the request is empty", "WellFormed")
    if len(body) > MAX_REQUEST_BYTES:
        raise SoapFault(f"the request exceeds {MAX_REQUEST_BYTES} bytes", "WellFormed")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SoapFault(f"Well-formed error: {exc}"[:300], "WellFormed") from None
    if root.getroottree().docinfo.doctype:
        raise SoapFault("a document type declaration is not accepted", "WellFormed")
    if root.tag == f"{{{SOAP11_ENV}}}Envelope":
        raise SoapFault(
            "SOAP 1.1 is not supported; send a SOAP 1.2 envelope", code="VersionMismatch"
        )
    if root.tag != qname("env", "Envelope"):
        raise SoapFault("the request is not a SOAP 1.2 envelope", "WellFormed")
    header = root.find(qname("env", "Header"))
    body_element = root.find(qname("env", "Body"))
    if body_element is None:
        raise SoapFault("the envelope has no Body", "WellFormed")
    operations = [child for child in body_element if isinstance(child.tag, str)]
    if len(operations) != 1:
        raise SoapFault(
            f"the Body holds {len(operations)} elements; it must hold one operation",
            "InvalidArgs",
        )
    return SoapRequest(root, header, operations[0])


def to_bytes(envelope: Element) -> bytes:
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def _prefix(root: Element, namespace: str, fallback: str) -> str:
    for prefix, uri in root.nsmap.items():
        if uri == namespace and prefix:
            return str(prefix)
    return fallback


def render_fault(templates: Templates, fault: SoapFault) -> bytes:
    """The fault as an envelope built on the fault capture."""
    envelope = templates.envelope("Fault")
    element = body_payload(envelope)
    env = _prefix(envelope, SOAP_ENV, "env")
    ter = _prefix(envelope, NS["ter"], "ter")
    code = element.find(qname("env", "Code"))
    code.find(qname("env", "Value")).text = f"{env}:{fault.code}"
    subcode = code.find(qname("env", "Subcode"))
    parent = code
    for index, name in enumerate(fault.subcodes):
        if subcode is None:
            subcode = etree.SubElement(parent, qname("env", "Subcode"))
            etree.SubElement(subcode, qname("env", "Value"))
        subcode.find(qname("env", "Value")).text = f"{ter}:{name}"
        parent = subcode
        subcode = subcode.find(qname("env", "Subcode"))
        if index == len(fault.subcodes) - 1 and subcode is not None:
            parent.remove(subcode)
    if not fault.subcodes and subcode is not None:
        code.remove(subcode)
    element.find(f"{qname('env', 'Reason')}/{qname('env', 'Text')}").text = fault.reason
    detail = element.find(qname("env", "Detail"))
    if detail is not None:
        for child in list(detail):
            detail.remove(child)
        if fault.detail:
            etree.SubElement(detail, qname("env", "Text")).text = fault.detail
    return to_bytes(envelope)


# --- reading arguments -----------------------------------------------------------------------


def child(parent: Element, prefix: str, local: str) -> Element | None:
    return parent.find(qname(prefix, local))


def text_of(parent: Element, prefix: str, local: str, *, required: bool = True) -> str | None:
    """The stripped text of a child element; a missing required one is a Sender fault."""
    element = child(parent, prefix, local)
    if element is None or element.text is None or not str(element.text).strip():
        if required:
            raise invalid_arg(f"{local} is missing")
        return None
    return str(element.text).strip()


def required_text(parent: Element, prefix: str, local: str) -> str:
    value = text_of(parent, prefix, local)
    assert value is not None
    return value


def float_attr(element: Element, name: str, what: str) -> float:
    raw = element.get(name)
    if raw is None:
        raise invalid_arg(f"{what}: attribute {name} is missing")
    try:
        value = float(raw)
    except ValueError:
        raise invalid_arg(f"{what}: {str(raw)[:30]!r} is not a number") from None
    if not math.isfinite(value):
        raise invalid_arg(f"{what}: {raw} is not a finite number")
    return value


def bool_text(parent: Element, prefix: str, local: str, default: bool) -> bool:
    raw = text_of(parent, prefix, local, required=False)
    if raw is None:
        return default
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    raise invalid_arg(f"{local}: {raw[:30]!r} is not a boolean")


def set_text(parent: Element, path: str, text: str) -> None:
    """Fill an element of a template (path in `NS` prefixes); a template without it is a bug."""
    element = parent.find(path, NS)
    if element is None:
        raise RuntimeError(f"the template has no {path}")
    element.text = text


def take_entries(parent: Element, path: str) -> list[Element]:
    """Remove a template's captured entries at `path` (in `NS` prefixes) and return them: the
    first is the prototype of the entries a handler appends in their place."""
    entries = parent.findall(path, NS)
    for entry in entries:
        parent.remove(entry)
    return list(entries)


def clone(element: Element) -> Element:
    return copy.deepcopy(element)


def number(value: float) -> str:
    """A float as xs:float text (the shortest form that reads back the same)."""
    return repr(float(value))
