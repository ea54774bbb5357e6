"""Fault modes of a simulated camera, set at run time or in the URL query.

Query syntax: `?fault=SPEC[,SPEC…]` (the parameter may also repeat), each SPEC one of

    loss:RATE              drop each RTP packet with probability RATE (0-1): sequence gaps
    stall:SECONDS:EVERY    send nothing for SECONDS at the end of every EVERY seconds
    disconnect:SECONDS     close the connection SECONDS after PLAY
    malformed:RATE         before each packet, with probability RATE, send a bad one (too
                           short, wrong RTP version, or a payload with the forbidden bit set)
    unauthorized           answer 401 to everything, whatever the credentials (also: 401)
    auth:USER:PASSWORD     require these credentials (Digest, or Basic)

for example `rtsp://127.0.0.1:8554/cameras/7/main?fault=loss:0.05,stall:2:10`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from argus.media.rtsp.server import Credentials


class FaultSyntaxError(ValueError):
    """A fault specification that cannot be read; the message says which part."""


@dataclass(frozen=True, slots=True)
class Fault:
    """What a simulated camera does wrong; the default does nothing wrong."""

    loss: float = 0.0
    stall_seconds: float = 0.0
    stall_every: float = 0.0
    disconnect_after: float | None = None
    malformed: float = 0.0
    unauthorized: bool = False
    credentials: Credentials | None = None

    def __post_init__(self) -> None:
        for name in ("loss", "malformed"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise FaultSyntaxError(f"{name} rate {rate} is not between 0 and 1")
        if self.stall_seconds < 0 or self.stall_every < 0:
            raise FaultSyntaxError("stall durations must not be negative")
        if self.stall_seconds and self.stall_seconds >= self.stall_every:
            raise FaultSyntaxError(
                f"a stall of {self.stall_seconds:g} s must be shorter than its period "
                f"of {self.stall_every:g} s"
            )
        if self.disconnect_after is not None and self.disconnect_after < 0:
            raise FaultSyntaxError("disconnect time must not be negative")

    @property
    def affects_packets(self) -> bool:
        """Whether the packet stream itself is changed (loss or malformed packets)."""
        return self.loss > 0 or self.malformed > 0

    @property
    def affects_timing(self) -> bool:
        """Whether sending pauses or ends (stalls, disconnects)."""
        return self.stall_seconds > 0 or self.disconnect_after is not None

    @classmethod
    def parse(cls, text: str) -> Fault:
        """Read `SPEC[,SPEC…]` as written in the fault= query parameter."""
        fault = cls()
        for spec in text.split(","):
            spec = spec.strip()
            if spec:
                fault = _apply(fault, spec)
        return fault

    def __str__(self) -> str:
        """The query form, which `parse` reads back."""
        specs: list[str] = []
        if self.loss:
            specs.append(f"loss:{self.loss:g}")
        if self.stall_seconds:
            specs.append(f"stall:{self.stall_seconds:g}:{self.stall_every:g}")
        if self.disconnect_after is not None:
            specs.append(f"disconnect:{self.disconnect_after:g}")
        if self.malformed:
            specs.append(f"malformed:{self.malformed:g}")
        if self.unauthorized:
            specs.append("unauthorized")
        if self.credentials is not None:
            specs.append(f"auth:{self.credentials.username}:{self.credentials.password}")
        return ",".join(specs)


def _number(spec: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FaultSyntaxError(f"fault {spec!r}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise FaultSyntaxError(f"fault {spec!r}: {text!r} is not a finite number")
    return value


def _apply(fault: Fault, spec: str) -> Fault:
    name, _, rest = spec.partition(":")
    args = rest.split(":") if rest else []
    name = name.strip().lower()

    def need(count: int) -> list[float]:
        if len(args) != count:
            raise FaultSyntaxError(f"fault {spec!r} needs {count} value(s) after {name}:")
        return [_number(spec, arg) for arg in args]

    if name == "loss":
        return replace(fault, loss=need(1)[0])
    if name == "malformed":
        return replace(fault, malformed=need(1)[0])
    if name == "stall":
        seconds, every = need(2)
        return replace(fault, stall_seconds=seconds, stall_every=every)
    if name == "disconnect":
        return replace(fault, disconnect_after=need(1)[0])
    if name in ("unauthorized", "401"):
        if args:
            raise FaultSyntaxError(f"fault {spec!r} takes no values")
        return replace(fault, unauthorized=True)
    if name == "auth":
        user, sep, password = rest.partition(":")
        if not user or not sep:
            raise FaultSyntaxError(f"fault {spec!r} needs auth:USER:PASSWORD")
        return replace(fault, credentials=Credentials(user, password))
    raise FaultSyntaxError(
        f"unknown fault {name!r} (known: loss, stall, disconnect, malformed, unauthorized, auth)"
    )
