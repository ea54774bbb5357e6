"""Test doubles for PTZ: an in-memory camera, a virtual clock with sleeps, an authorizer."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from argus.identity.principal import Principal, Role
from argus.ptz.driver import Preset, PtzDriverError, PtzPosition, PtzStatus

START = datetime(2026, 3, 4, 1, 0, tzinfo=UTC)  # 10:00 in Seoul


class FakeDriver:
    """A PTZ camera in memory: it records every call and goes where it is told at once."""

    def __init__(self, presets: dict[str, PtzPosition] | None = None) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.position = PtzPosition(0.0, 0.0, 0.0)
        self.moving = False
        self.presets_by_token = dict(presets or {})
        self.fail_with: str | None = None  # every command then raises PtzDriverError
        self.broken_presets: set[str] = set()  # going to these raises PtzDriverError
        self.closed = False

    def _call(self, *call: object) -> None:
        if self.fail_with is not None:
            raise PtzDriverError(self.fail_with)
        self.calls.append(call)

    async def continuous_move(
        self, pan: float, tilt: float, zoom: float, timeout_s: float | None = None
    ) -> None:
        self._call("continuous_move", pan, tilt, zoom, timeout_s)
        self.moving = True

    async def relative_move(self, pan: float, tilt: float, zoom: float) -> None:
        self._call("relative_move", pan, tilt, zoom)
        p = self.position
        self.position = PtzPosition(p.pan + pan, p.tilt + tilt, p.zoom + zoom)

    async def absolute_move(self, pan: float, tilt: float, zoom: float) -> None:
        self._call("absolute_move", pan, tilt, zoom)
        self.position = PtzPosition(pan, tilt, zoom)

    async def stop(self) -> None:
        self._call("stop")
        self.moving = False

    async def goto_preset(self, token: str) -> None:
        if token in self.broken_presets:
            raise PtzDriverError(f"no preset {token!r}")
        self._call("goto_preset", token)
        self.position = self.presets_by_token.get(token, self.position)

    async def set_preset(self, name: str, token: str | None = None) -> str:
        chosen = token or name
        self._call("set_preset", name, chosen)
        self.presets_by_token[chosen] = self.position
        return chosen

    async def goto_home(self) -> None:
        self._call("goto_home")
        self.position = PtzPosition(0.0, 0.0, 0.0)

    async def presets(self) -> list[Preset]:
        return [Preset(t, t, p) for t, p in self.presets_by_token.items()]

    async def status(self) -> PtzStatus:
        if self.fail_with is not None:
            raise PtzDriverError(self.fail_with)
        return PtzStatus(self.position, self.moving)

    async def close(self) -> None:
        self.closed = True

    def presets_visited(self) -> list[str]:
        return [str(c[1]) for c in self.calls if c[0] == "goto_preset"]


@dataclass
class VirtualTime:
    """A clock and an ``asyncio.sleep`` over virtual time: ``advance`` moves it on and wakes
    the sleepers in order, letting the loop run between them."""

    now: datetime = START
    _sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        wake = self.now + timedelta(seconds=max(seconds, 0.0))
        heapq.heappush(self._sleepers, (wake, next(self._order), future))
        await future

    async def settle(self) -> None:
        for _ in range(50):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        target = self.now + timedelta(seconds=seconds)
        await self.settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            wake, _, future = heapq.heappop(self._sleepers)
            if future.done():
                continue
            self.now = max(self.now, wake)
            future.set_result(None)
            await self.settle()
        self.now = target
        await self.settle()


@dataclass(frozen=True)
class Verdict:
    """A decision as ``authorize`` would give it (what PtzService reads)."""

    allowed: bool
    reason: str
    ptz_priority: int | None = None
    grant: str | None = None


@dataclass
class FakeAuthorizer:
    """Allows by default; ``verdicts[(user_id, camera_id)]`` overrides; records every call."""

    verdicts: dict[tuple[int, int], Verdict] = field(default_factory=dict)
    default: Verdict = Verdict(True, "camera belongs to your agency", None, "ownership:1")
    calls: list[tuple[int, int, str | None, str | None]] = field(default_factory=list)

    def __call__(
        self, principal: Principal, camera_id: int, purpose: str | None, case_number: str | None
    ) -> Verdict:
        self.calls.append((principal.user_id, camera_id, purpose, case_number))
        return self.verdicts.get((principal.user_id, camera_id), self.default)


def person(user_id: int, agency_id: int, *roles: Role, name: str | None = None) -> Principal:
    return Principal(
        user_id=user_id,
        username=name or f"user{user_id}",
        agency_id=agency_id,
        roles=frozenset(roles),
        client="192.0.2.9",
    )
