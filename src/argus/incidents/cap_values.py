"""CAP 1.2 scalar values: times, enumerations, identifiers, language tags, URIs and numbers.

Each reader takes an element's text and the element's path (for the error message) and either
returns the value or raises ``CapError``. They are at least as strict as the OASIS XSD's types,
so a message this module accepts also passes the schema, and they add the specification's rules
that the XSD cannot state:

* times (§3.3.2): ``YYYY-MM-DDThh:mm:ss±hh:mm`` with an explicit offset (``Z`` is not CAP;
  UTC is ``-00:00`` or ``+00:00``), a real calendar date and an offset within ±14:00;
* ``identifier`` and ``sender`` must not be empty nor hold white space, commas, ``<`` or ``&``
  (they are joined with commas in ``references``);
* ``references`` is a white-space separated list of ``sender,identifier,sent`` triplets;
* enumerations are matched exactly (the XSD preserves white space in them);
* ``language`` is a common RFC 5646 tag (``ko``, ``ko-KR``, ``zh-Hant-TW``, ``es-419``);
* ``web`` and ``uri`` are RFC 3986 references written with plain URI characters only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Final, TypeVar

from argus.incidents.cap_model import CapError, CapReference
from argus.incidents.cap_shapes import xml_split

XML_SPACE: Final = " \t\r\n"

_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})([+-])([0-9]{2}):([0-9]{2})"
)
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?")
_INTEGER = re.compile(r"\+?[0-9]{1,18}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})")
_FORBIDDEN_IN_ID = re.compile(r"[\s,<&]")

_PCT = r"%[0-9A-Fa-f]{2}"
_UNRESERVED_SUB = r"A-Za-z0-9\-._~!$&'()*+,;="
_PCHAR = rf"(?:[{_UNRESERVED_SUB}:@]|{_PCT})"
_PCHAR_NC = rf"(?:[{_UNRESERVED_SUB}@]|{_PCT})"
_TAIL = rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]*"
_HOST = rf"(?:[{_UNRESERVED_SUB}]|{_PCT})+"
_ABSOLUTE_URI = re.compile(
    rf"{_SCHEME}:(?://{_HOST}(?::[0-9]{{1,5}})?(?:/{_PCHAR}*)*"
    rf"|(?!/){_PCHAR}+(?:/{_PCHAR}*)*){_TAIL}"
)
_RELATIVE_URI = re.compile(rf"{_PCHAR_NC}+(?:/{_PCHAR}*)*{_TAIL}")

E = TypeVar("E", bound=str)


def trimmed(text: str) -> str:
    """Text without leading and trailing XML white space."""
    return text.strip(XML_SPACE)


def cap_time(text: str, where: str) -> datetime:
    """A timezone-aware datetime from a CAP time value."""
    value = trimmed(text)
    m = _TIME.fullmatch(value)
    if m is None:
        raise CapError(
            where,
            f"{value!r} is not a CAP time: expected YYYY-MM-DDThh:mm:ss+hh:mm "
            "(an explicit offset; 'Z' and fractions of a second are not allowed)",
        )
    year, month, day, hour, minute, second, sign, oh, om = m.groups()
    off_h, off_m = int(oh), int(om)
    if off_m > 59 or off_h > 14 or (off_h == 14 and off_m):
        raise CapError(where, f"{value!r} has a time-zone offset outside -14:00..+14:00")
    offset = timedelta(hours=off_h, minutes=off_m) * (-1 if sign == "-" else 1)
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(offset),
        )
    except ValueError as exc:
        raise CapError(where, f"{value!r} is not a real date and time ({exc})") from None


def enumerated(text: str, allowed: Sequence[E], where: str) -> E:
    """``text`` if it is exactly one of ``allowed``."""
    for value in allowed:
        if text == value:
            return value
    raise CapError(where, f"{text!r} is not one of {', '.join(allowed)}")


def message_token(text: str, where: str) -> str:
    """An ``identifier`` or ``sender``: non-empty, no white space, commas, '<' or '&'."""
    if not text:
        raise CapError(where, "must not be empty")
    bad = _FORBIDDEN_IN_ID.search(text)
    if bad is not None:
        raise CapError(
            where, f"must not contain white space, commas, '<' or '&' (found {bad.group()!r})"
        )
    return text


def references(text: str, where: str) -> tuple[CapReference, ...]:
    """The ``sender,identifier,sent`` triplets of a ``<references>`` value."""
    tokens = xml_split(text)
    if not tokens:
        raise CapError(where, "is empty: it must list sender,identifier,sent triplets")
    out: list[CapReference] = []
    for n, token in enumerate(tokens, start=1):
        parts = token.split(",")
        if len(parts) != 3:
            raise CapError(where, f"reference {n} {token!r} is not sender,identifier,sent")
        sender = message_token(parts[0], f"{where} (sender of reference {n})")
        identifier = message_token(parts[1], f"{where} (identifier of reference {n})")
        sent = cap_time(parts[2], f"{where} (sent of reference {n})")
        out.append(CapReference(sender, identifier, sent))
    return tuple(out)


def language(text: str, where: str) -> str:
    """An RFC 5646 language tag; an empty element takes the XSD default ``en-US``."""
    if not text:
        return "en-US"
    value = trimmed(text)
    if not _LANGUAGE.fullmatch(value):
        raise CapError(where, f"{value!r} is not a language tag such as 'ko-KR' or 'en-US'")
    return value


def uri(text: str, where: str, *, relative: bool) -> str:
    """An absolute URI (or, where ``relative`` is true, also a relative path reference)."""
    value = trimmed(text)
    if _ABSOLUTE_URI.fullmatch(value) or (relative and _RELATIVE_URI.fullmatch(value)):
        return value
    kind = "a URI" if relative else "an absolute URI"
    raise CapError(where, f"{value!r} is not {kind} written with plain URI characters")


def size(text: str, where: str) -> int:
    """A non-negative byte count."""
    value = trimmed(text)
    if not _INTEGER.fullmatch(value):
        raise CapError(where, f"{value!r} is not a non-negative whole number")
    return int(value)


def plain_decimal(text: str, where: str) -> float:
    """An xs:decimal of modest size (altitude and ceiling, in feet)."""
    value = trimmed(text)
    if not _DECIMAL.fullmatch(value):
        raise CapError(where, f"{value!r} is not a decimal number")
    return float(value)
