"""xs:duration as ONVIF uses it (PTZ timeouts, stream URI lifetimes): read and written.

A PTZ Timeout comes as `PT5S`, `PT1.5S`, `PT1M30S` or `P1DT2H`; years and months (`P1Y`,
`P2M`) have no fixed length and are refused, as is anything negative or empty.
"""

from __future__ import annotations

import re

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


class DurationError(ValueError):
    """Text that is not a duration this module reads."""


def parse_duration(text: str) -> float:
    """Seconds of an xs:duration without years or months."""
    value = text.strip()
    match = _DURATION.match(value)
    if match is None or value in ("P", "PT") or value.endswith("T"):
        raise DurationError(f"not a duration: {text[:40]!r}")
    parts = {name: float(group) for name, group in match.groupdict().items() if group}
    return (
        parts.get("days", 0.0) * 86400
        + parts.get("hours", 0.0) * 3600
        + parts.get("minutes", 0.0) * 60
        + parts.get("seconds", 0.0)
    )


def format_duration(seconds: float) -> str:
    """`PT…S` for a non-negative number of seconds (up to millisecond precision)."""
    if not seconds >= 0:
        raise DurationError(f"a duration cannot be {seconds}")
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"PT{text}S"
