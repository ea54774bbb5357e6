"""``parse_cap``: bytes of a CAP 1.2 message → ``CapAlert``, or a ``CapError`` saying what is wrong.

Safety first. CAP arrives from outside (feeds, webhooks, operators' uploads), so the XML parser
never loads a DTD, never expands entities, never touches the network and keeps libxml2's limits
on depth and text size (``huge_tree=False``); a message with any document type declaration is
refused outright, which also disarms entity bombs and external entities. Messages larger than
``MAX_CAP_BYTES`` are refused before parsing.

Then structure. The OASIS schema describes every CAP element as a fixed sequence of children
with minimum and maximum counts; the tables below restate those sequences and one small walker
checks them, so the errors name the element (``alert/info[1]/area[2]/polygon[1]``) and the
fault (missing, unexpected, out of order, repeated). Comments and processing instructions are
ignored; elements hold no stray text and no attributes other than ``xsi:schemaLocation``;
an enveloped XML signature may follow the ``<info>`` blocks. The values themselves are read by
``cap_values`` and ``cap_shapes``. Everything this module accepts is valid against the OASIS
CAP 1.2 XSD (the tests check that); it is stricter where the specification's prose says more
than the XSD does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints

from argus.incidents import cap_values as v
from argus.incidents.cap_model import (
    CAP_NAMESPACE,
    CATEGORIES,
    CERTAINTIES,
    MSG_TYPES,
    RESPONSE_TYPES,
    SCOPES,
    SEVERITIES,
    STATUSES,
    URGENCIES,
    XMLDSIG_NAMESPACE,
    CapAlert,
    CapArea,
    CapError,
    CapInfo,
    CapResource,
    NamedValue,
)
from argus.incidents.cap_shapes import parse_circle, parse_polygon, xml_split

MAX_CAP_BYTES: Final = 4 * 1024 * 1024
"""Largest message accepted (embedded resources in ``derefUri`` can make CAP large)."""

_XSI_NAMESPACE: Final = "http://www.w3.org/2001/XMLSchema-instance"
_ALLOWED_ATTRIBUTES: Final = frozenset(
    {f"{{{_XSI_NAMESPACE}}}schemaLocation", f"{{{_XSI_NAMESPACE}}}noNamespaceSchemaLocation"}
)
_ALERT_TAG: Final = f"{{{CAP_NAMESPACE}}}alert"

T = TypeVar("T")
Element = Any
"""An ``lxml.etree._Element`` (lxml has no type hints)."""


@dataclass(frozen=True, slots=True)
class _Child:
    name: str
    min: int = 0
    max: int | None = 1  # None: unbounded


_ALERT: Final = (
    _Child("identifier", 1),
    _Child("sender", 1),
    _Child("sent", 1),
    _Child("status", 1),
    _Child("msgType", 1),
    _Child("source"),
    _Child("scope", 1),
    _Child("restriction"),
    _Child("addresses"),
    _Child("code", 0, None),
    _Child("note"),
    _Child("references"),
    _Child("incidents"),
    _Child("info", 0, None),
)
_INFO: Final = (
    _Child("language"),
    _Child("category", 1, None),
    _Child("event", 1),
    _Child("responseType", 0, None),
    _Child("urgency", 1),
    _Child("severity", 1),
    _Child("certainty", 1),
    _Child("audience"),
    _Child("eventCode", 0, None),
    _Child("effective"),
    _Child("onset"),
    _Child("expires"),
    _Child("senderName"),
    _Child("headline"),
    _Child("description"),
    _Child("instruction"),
    _Child("web"),
    _Child("contact"),
    _Child("parameter", 0, None),
    _Child("resource", 0, None),
    _Child("area", 0, None),
)
_RESOURCE: Final = (
    _Child("resourceDesc", 1),
    _Child("mimeType", 1),
    _Child("size"),
    _Child("uri"),
    _Child("derefUri"),
    _Child("digest"),
)
_AREA: Final = (
    _Child("areaDesc", 1),
    _Child("polygon", 0, None),
    _Child("circle", 0, None),
    _Child("geocode", 0, None),
    _Child("altitude"),
    _Child("ceiling"),
)
_PAIR: Final = (_Child("valueName", 1), _Child("value", 1))


class _Node:
    """An element's children grouped by CAP name, each with its path for error messages."""

    __slots__ = ("_items", "path", "signed")

    def __init__(self, path: str, items: dict[str, list[tuple[str, Element]]]) -> None:
        self.path = path
        self._items = items
        self.signed = False

    def all(self, name: str) -> list[tuple[str, Element]]:
        return self._items.get(name, [])

    def one(self, name: str) -> tuple[str, Element] | None:
        found = self._items.get(name)
        return found[0] if found else None

    def text(self, name: str) -> str | None:
        """Text of an optional simple child, or None when it is absent."""
        found = self.one(name)
        return None if found is None else _simple_text(*found)

    def required_text(self, name: str) -> tuple[str, str]:
        """(path, text) of a required simple child (the walker has ensured it is there)."""
        found = self.one(name)
        assert found is not None
        return found[0], _simple_text(*found)

    def read(self, name: str, reader: Callable[[str, str], T]) -> T | None:
        """An optional simple child read by ``reader(text, path)``, or None."""
        found = self.one(name)
        return None if found is None else reader(_simple_text(*found), found[0])

    def read_all(self, name: str, reader: Callable[[str, str], T]) -> tuple[T, ...]:
        return tuple(reader(_simple_text(el_path, el), el_path) for el_path, el in self.all(name))


def parse_cap(data: bytes) -> CapAlert:
    """Parse one CAP 1.2 ``<alert>`` message; raise ``CapError`` if it is not one Argus takes."""
    root = _parse_xml(data)
    node = _walk(root, "alert", _ALERT, trailing_namespace=XMLDSIG_NAMESPACE)
    return _alert(node)


# -- XML ---------------------------------------------------------------------------------------


def _parse_xml(data: bytes) -> Element:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"parse_cap takes bytes, got {type(data).__name__}")
    raw = bytes(data)
    if len(raw) > MAX_CAP_BYTES:
        raise CapError("message", f"is {len(raw):,} bytes; at most {MAX_CAP_BYTES:,} are accepted")
    if _has_doctype(raw):
        raise _doctype_error()
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
        strip_cdata=True,
        collect_ids=False,
    )
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise CapError("message", f"is not well-formed XML ({exc.msg})") from None
    except (etree.LxmlError, ValueError) as exc:
        raise CapError("message", f"cannot be read as XML ({exc})") from None
    if root is None:  # pragma: no cover - lxml raises rather than return nothing
        raise CapError("message", "is empty")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _doctype_error()
    if root.tag != _ALERT_TAG:
        ns, local = _split_tag(root.tag)
        if local == "alert":
            raise CapError(
                "alert",
                f"namespace {ns or '(none)'!r} is not CAP 1.2; expected {CAP_NAMESPACE!r}",
            )
        raise CapError("message", f"root element <{local}> is not a CAP <alert>")
    return root


_ROOT_START = re.compile(rb"<[^?!]")


def _has_doctype(raw: bytes) -> bool:
    """Whether the prolog (the bytes before the first start tag) declares a DOCTYPE.

    Checked before parsing so that libxml2 never reads a DTD at all; a document in an encoding
    this byte test cannot see (UTF-16) is still caught after parsing, which expands nothing.
    """
    start = _ROOT_START.search(raw)
    prolog = raw if start is None else raw[: start.start()]
    return b"<!DOCTYPE" in prolog.upper()


def _doctype_error() -> CapError:
    return CapError(
        "message", "has a DOCTYPE declaration; CAP needs none, and Argus refuses DTDs and entities"
    )


def _split_tag(tag: object) -> tuple[str, str]:
    if not isinstance(tag, str):
        return "", "(not an element)"
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _is_space(text: str | None) -> bool:
    return not text or not text.strip(v.XML_SPACE)


def _check_bare(el: Element, path: str) -> None:
    for name in el.attrib:
        if name not in _ALLOWED_ATTRIBUTES:
            _, local = _split_tag(name)
            raise CapError(path, f"attribute {local!r} is not allowed on a CAP element")


def _simple_text(path: str, el: Element) -> str:
    """Text of an element that may hold text only."""
    _check_bare(el, path)
    for child in el:
        raise CapError(path, f"must hold text only, but contains <{_split_tag(child.tag)[1]}>")
    return str(el.text or "")


def _walk(
    el: Element,
    path: str,
    spec: Sequence[_Child],
    *,
    trailing_namespace: str | None = None,
) -> _Node:
    """Check ``el``'s children against ``spec`` (a sequence, as in the XSD) and group them."""
    _check_bare(el, path)
    if not _is_space(el.text):
        raise CapError(path, f"holds stray text {v.trimmed(el.text or '')[:40]!r}")
    items: dict[str, list[tuple[str, Element]]] = {}
    names = [c.name for c in spec]
    present = {_split_tag(c.tag)[1] for c in el if isinstance(c.tag, str)}
    pos = 0
    count = 0
    last = ""
    signed = False
    for child in el:
        if not isinstance(child.tag, str):
            raise CapError(path, "holds an entity reference; entities are not allowed")
        if not _is_space(child.tail):
            raise CapError(path, f"holds stray text {v.trimmed(child.tail or '')[:40]!r}")
        ns, local = _split_tag(child.tag)
        if trailing_namespace is not None and ns == trailing_namespace:
            signed = True
            continue
        if signed:
            raise CapError(path, f"<{local}> must come before the XML signature")
        if ns != CAP_NAMESPACE:
            where = f"namespace {ns!r}" if ns else "no namespace"
            raise CapError(path, f"<{local}> is in {where}, not the CAP 1.2 namespace")
        if local not in names:
            raise CapError(path, f"unexpected element <{local}>; allowed here: {', '.join(names)}")
        target = names.index(local)
        if target < pos:
            raise CapError(path, f"<{local}> is out of order: it must come before <{last}>")
        while pos < target:
            _require(spec[pos], count, path, before=local, later=present)
            pos += 1
            count = 0
        count += 1
        limit = spec[pos].max
        if limit is not None and count > limit:
            raise CapError(path, f"<{local}> may appear at most {_times(limit)}")
        repeatable = limit is None or limit > 1
        child_path = f"{path}/{local}[{count}]" if repeatable else f"{path}/{local}"
        items.setdefault(local, []).append((child_path, child))
        last = local
    while pos < len(spec):
        _require(spec[pos], count, path, before=None, later=present)
        pos += 1
        count = 0
    node = _Node(path, items)
    node.signed = signed
    return node


def _require(child: _Child, count: int, path: str, *, before: str | None, later: set[str]) -> None:
    if count < child.min:
        if before is not None and child.name in later:
            raise CapError(path, f"<{child.name}> is out of order: it must come before <{before}>")
        tail = f" (before <{before}>)" if before else ""
        raise CapError(path, f"missing required element <{child.name}>{tail}")


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


# -- elements ----------------------------------------------------------------------------------


def _alert(node: _Node) -> CapAlert:
    identifier = v.message_token(*_swap(node.required_text("identifier")))
    sender = v.message_token(*_swap(node.required_text("sender")))
    sent = v.cap_time(*_swap(node.required_text("sent")))
    status = v.enumerated(*_swap_enum(node.required_text("status"), STATUSES))
    msg_type = v.enumerated(*_swap_enum(node.required_text("msgType"), MSG_TYPES))
    scope = v.enumerated(*_swap_enum(node.required_text("scope"), SCOPES))
    infos = tuple(_info(_walk(el, p, _INFO)) for p, el in node.all("info"))
    return CapAlert(
        identifier=identifier,
        sender=sender,
        sent=sent,
        status=status,
        msg_type=msg_type,
        scope=scope,
        source=_opt(node.text("source")),
        restriction=_opt(node.text("restriction")),
        addresses=_opt(node.text("addresses")),
        codes=node.read_all("code", _free),
        note=_opt(node.text("note")),
        references=node.read("references", v.references) or (),
        incidents=node.read("incidents", _tokens) or (),
        infos=infos,
        signed=node.signed,
    )


def _info(node: _Node) -> CapInfo:
    return CapInfo(
        language=node.read("language", v.language) or "en-US",
        categories=node.read_all("category", lambda t, p: v.enumerated(t, CATEGORIES, p)),
        event=v.trimmed(node.required_text("event")[1]),
        response_types=node.read_all(
            "responseType", lambda t, p: v.enumerated(t, RESPONSE_TYPES, p)
        ),
        urgency=v.enumerated(*_swap_enum(node.required_text("urgency"), URGENCIES)),
        severity=v.enumerated(*_swap_enum(node.required_text("severity"), SEVERITIES)),
        certainty=v.enumerated(*_swap_enum(node.required_text("certainty"), CERTAINTIES)),
        audience=_opt(node.text("audience")),
        event_codes=tuple(_pair(p, el) for p, el in node.all("eventCode")),
        effective=node.read("effective", v.cap_time),
        onset=node.read("onset", v.cap_time),
        expires=node.read("expires", v.cap_time),
        sender_name=_opt(node.text("senderName")),
        headline=_opt(node.text("headline")),
        description=_opt(node.text("description")),
        instruction=_opt(node.text("instruction")),
        web=node.read("web", lambda t, p: v.uri(t, p, relative=False)),
        contact=_opt(node.text("contact")),
        parameters=tuple(_pair(p, el) for p, el in node.all("parameter")),
        resources=tuple(_resource(_walk(el, p, _RESOURCE)) for p, el in node.all("resource")),
        areas=tuple(_area(_walk(el, p, _AREA)) for p, el in node.all("area")),
    )


def _resource(node: _Node) -> CapResource:
    return CapResource(
        resource_desc=v.trimmed(node.required_text("resourceDesc")[1]),
        mime_type=v.trimmed(node.required_text("mimeType")[1]),
        size=node.read("size", v.size),
        uri=node.read("uri", lambda t, p: v.uri(t, p, relative=True)),
        deref_uri=_opt(node.text("derefUri")),
        digest=_opt(node.text("digest")),
    )


def _area(node: _Node) -> CapArea:
    altitude = node.read("altitude", v.plain_decimal)
    ceiling = node.read("ceiling", v.plain_decimal)
    if ceiling is not None and altitude is None:
        raise CapError(node.path, "<ceiling> needs an <altitude> (CAP 1.2 §3.3.2)")
    return CapArea(
        area_desc=v.trimmed(node.required_text("areaDesc")[1]),
        polygons=node.read_all("polygon", parse_polygon),
        circles=node.read_all("circle", parse_circle),
        geocodes=tuple(_pair(p, el) for p, el in node.all("geocode")),
        altitude=altitude,
        ceiling=ceiling,
    )


def _pair(path: str, el: Element) -> NamedValue:
    node = _walk(el, path, _PAIR)
    return v.trimmed(node.required_text("valueName")[1]), v.trimmed(node.required_text("value")[1])


# -- small helpers -----------------------------------------------------------------------------


def _swap(path_text: tuple[str, str]) -> tuple[str, str]:
    """(path, text) → (text, path), the readers' argument order."""
    return path_text[1], path_text[0]


def _swap_enum(
    path_text: tuple[str, str], allowed: Sequence[v.E]
) -> tuple[str, Sequence[v.E], str]:
    return path_text[1], allowed, path_text[0]


def _opt(text: str | None) -> str | None:
    return None if text is None else v.trimmed(text)


def _free(text: str, _path: str) -> str:
    return v.trimmed(text)


def _tokens(text: str, _path: str) -> tuple[str, ...]:
    return tuple(xml_split(text))
