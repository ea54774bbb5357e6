"""CAP 1.2 geometry text: ``<polygon>`` and ``<circle>`` values, and the plain numbers in them.

The XSD types both as free strings, so these rules come from the CAP 1.2 specification (§3.3.2):

* a polygon is a white-space separated list of ``lat,lon`` pairs (WGS 84 degrees) with at least
  four pairs, the first and last the same; Argus also wants three distinct corners, since a
  ring of fewer encloses nothing;
* a circle is ``lat,lon radius`` with the radius in kilometres (0 means a point).

Numbers are plain decimals (``-35``, ``126.85``, ``.5``): no exponents, no ``inf`` or ``nan``.
"""

from __future__ import annotations

import math
import re
from typing import Final

from argus.incidents.cap_model import CapCircle, CapError, LatLon, Ring

MAX_CIRCLE_KM: Final = 20_037.5
"""Half the Earth's circumference: no circle on the globe has a larger radius."""

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_MAX_NUMBER_CHARS: Final = 32
_XML_SPACE: Final = " \t\r\n"


def xml_split(text: str) -> list[str]:
    """Split on runs of XML white space (space, tab, CR, LF) only."""
    return re.split(r"[ \t\r\n]+", text.strip(_XML_SPACE)) if text.strip(_XML_SPACE) else []


def decimal(token: str, where: str, what: str) -> float:
    """A plain decimal number, or a CapError naming ``what`` it was meant to be."""
    if len(token) > _MAX_NUMBER_CHARS or not _NUMBER.fullmatch(token):
        raise CapError(where, f"{what} {token!r} is not a decimal number")
    value = float(token)
    if not math.isfinite(value):  # pragma: no cover - the pattern admits finite numbers only
        raise CapError(where, f"{what} {token!r} is not finite")
    return value


def _lat_lon(token: str, where: str, label: str) -> LatLon:
    parts = token.split(",")
    if len(parts) != 2:
        raise CapError(where, f"{label} {token!r} is not a 'lat,lon' pair")
    lat = decimal(parts[0], where, f"latitude of {label}")
    lon = decimal(parts[1], where, f"longitude of {label}")
    if not -90.0 <= lat <= 90.0:
        raise CapError(where, f"latitude {lat:g} of {label} is outside [-90, 90]")
    if not -180.0 <= lon <= 180.0:
        raise CapError(where, f"longitude {lon:g} of {label} is outside [-180, 180]")
    return lat, lon


def parse_polygon(text: str, where: str) -> Ring:
    """A closed ring of (lat, lon) from a CAP ``<polygon>`` value."""
    tokens = xml_split(text)
    if len(tokens) < 4:
        raise CapError(
            where,
            f"a polygon needs at least 4 'lat,lon' points (first and last the same), "
            f"got {len(tokens)}",
        )
    ring = tuple(_lat_lon(t, where, f"point {i}") for i, t in enumerate(tokens, start=1))
    if ring[0] != ring[-1]:
        raise CapError(
            where,
            f"the polygon is not closed: its first point {tokens[0]} differs from its last "
            f"point {tokens[-1]}",
        )
    if len(set(ring)) < 3:
        raise CapError(where, "the polygon has fewer than 3 distinct corners")
    return ring


def parse_circle(text: str, where: str) -> CapCircle:
    """A circle from a CAP ``<circle>`` value ``lat,lon radius_km``."""
    tokens = xml_split(text)
    if len(tokens) != 2:
        raise CapError(
            where, f"a circle is 'lat,lon radius' (radius in km), got {text.strip(_XML_SPACE)!r}"
        )
    lat, lon = _lat_lon(tokens[0], where, "the centre")
    radius = decimal(tokens[1], where, "radius")
    if not 0.0 <= radius <= MAX_CIRCLE_KM:
        raise CapError(where, f"radius {radius:g} km is outside [0, {MAX_CIRCLE_KM:g}]")
    return CapCircle(lat, lon, radius)
