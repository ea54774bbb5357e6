"""Control leases: one controller per camera, idle release, pre-emption by priority.

Pure logic over an injected clock (``clock()`` returns an aware UTC time); no I/O, no tasks.

- A person controls a camera while they hold its lease. The lease ends ``idle_release``
  (default 15 s) after their last command, ``max_hold`` (default 10 min) after they took it
  (they may take it again at once if nobody else has), when they release it, or when someone
  who ranks strictly higher (``argus.ptz.arbitration``) takes it.
- Each camera may have a *background* controller: the owner's tour (or idle patrol) that runs
  when no lease is held. A person who outranks it pauses it by taking a lease; when the lease
  ends the camera returns to it (``LeaseEnded.returns_to``).
- Equal or lower rank is refused, first come first served; the ``Refusal`` names the holder,
  their class and reason, and when the lease frees: at idle expiry if the holder sends nothing
  more, and at the latest at the end of its maximum hold.
- Whoever loses the camera is told: ``Preempted`` names the new holder, their agency, class and
  reason. Events (``Preempted``, ``LeaseEnded``) collect in an outbox that ``drain`` empties;
  a pre-empted person who sends another command also gets ``NotHolding.taken_over``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from argus.ptz.arbitration import Arbitration, Requester

DEFAULT_IDLE_RELEASE = timedelta(seconds=15)
DEFAULT_MAX_HOLD = timedelta(minutes=10)


def _clock_text(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S UTC")


@dataclass(frozen=True)
class Lease:
    camera_id: int
    holder: Requester
    acquired_at: datetime
    last_command_at: datetime
    idle_release: timedelta
    max_hold: timedelta | None

    @property
    def idle_expires_at(self) -> datetime:
        """When it ends if the holder sends no further command."""
        return self.last_command_at + self.idle_release

    @property
    def frees_by(self) -> datetime | None:
        """When it ends at the latest, whatever the holder does (None: no maximum hold)."""
        return None if self.max_hold is None else self.acquired_at + self.max_hold

    @property
    def expires_at(self) -> datetime:
        latest = self.frees_by
        idle = self.idle_expires_at
        return idle if latest is None else min(idle, latest)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class Preempted:
    """``previous`` lost camera ``camera_id`` to ``by`` at ``at``."""

    camera_id: int
    previous: Requester
    by: Requester
    at: datetime

    def message(self) -> str:
        return (
            f"camera {self.camera_id} was taken over at {_clock_text(self.at)} by "
            f"{self.by.describe()}: {self.by.reason}"
        )


class EndCause(StrEnum):
    RELEASED = "released"
    IDLE = "idle"  # no command for idle_release
    MAX_HOLD = "max_hold"
    REVOKED = "revoked"  # the holder is no longer allowed (the service ends it)


@dataclass(frozen=True)
class LeaseEnded:
    camera_id: int
    holder: Requester
    cause: EndCause
    at: datetime
    returns_to: Requester | None  # the background controller that takes the camera back


@dataclass(frozen=True)
class Granted:
    lease: Lease
    preempted: Preempted | None = None  # whom the lease was taken from, if anyone
    renewed: bool = False  # the requester already held it


@dataclass(frozen=True)
class Refusal:
    """The camera is held by someone who ranks at least as high as the requester."""

    camera_id: int
    holder: Requester
    held_since: datetime | None  # None for a background tour
    idle_expires_at: datetime | None  # when it frees if the holder sends nothing more
    frees_by: datetime | None
    equal_rank: bool

    def message(self) -> str:
        why = "equal priority, first come first served" if self.equal_rank else "higher priority"
        text = (
            f"camera {self.camera_id} is controlled by {self.holder.describe()} "
            f"for {self.holder.reason!r} ({why})"
        )
        if self.idle_expires_at is None:
            return f"{text}; it runs while nobody with a higher priority takes the camera"
        text += f"; it frees at {_clock_text(self.idle_expires_at)} if they send no further command"
        if self.frees_by is not None:
            text += f", and at the latest at {_clock_text(self.frees_by)}"
        return text


@dataclass(frozen=True)
class NotHolding:
    """A command from someone who does not hold the camera's lease."""

    camera_id: int
    holder: Requester | None  # who does (a lease holder or the background), if anyone
    taken_over: Preempted | None  # how this requester lost it, if they did

    def message(self) -> str:
        if self.taken_over is not None:
            return f"you no longer control camera {self.camera_id}: {self.taken_over.message()}"
        text = f"you do not control camera {self.camera_id}: take control first"
        if self.holder is not None:
            text += f" (it is controlled by {self.holder.describe()})"
        return text


Event = Preempted | LeaseEnded


class Leases:
    """The control leases of every camera of one process."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        arbitration: Arbitration | None = None,
        *,
        idle_release: timedelta = DEFAULT_IDLE_RELEASE,
        max_hold: timedelta | None = DEFAULT_MAX_HOLD,
    ) -> None:
        if idle_release <= timedelta(0):
            raise ValueError("idle_release must be positive")
        if max_hold is not None and max_hold < idle_release:
            raise ValueError("max_hold must be at least idle_release")
        self.clock = clock
        self.arbitration = arbitration or Arbitration()
        self.idle_release = idle_release
        self.max_hold = max_hold
        self._leases: dict[int, Lease] = {}
        self._background: dict[int, Requester] = {}
        self._taken: dict[tuple[int, tuple[str, str]], Preempted] = {}
        self._outbox: list[Event] = []

    # -- reading ------------------------------------------------------------------------

    def lease(self, camera_id: int) -> Lease | None:
        """The camera's live lease (one past its expiry is ended first)."""
        self._expire(camera_id, self.clock())
        return self._leases.get(camera_id)

    def background(self, camera_id: int) -> Requester | None:
        return self._background.get(camera_id)

    def controller(self, camera_id: int) -> Requester | None:
        """Who moves the camera now: the lease holder, else the background, else nobody."""
        lease = self.lease(camera_id)
        return lease.holder if lease is not None else self._background.get(camera_id)

    def holds(self, camera_id: int, requester: Requester) -> bool:
        lease = self.lease(camera_id)
        return lease is not None and lease.holder.key == requester.key

    def held_by(self, camera_id: int, key: tuple[str, str]) -> Lease | None:
        lease = self.lease(camera_id)
        return lease if lease is not None and lease.holder.key == key else None

    def cameras(self) -> list[int]:
        return sorted(self._leases)

    def drain(self) -> list[Event]:
        """The events since the last drain, oldest first."""
        events, self._outbox = self._outbox, []
        return events

    # -- changing -----------------------------------------------------------------------

    def set_background(self, camera_id: int, requester: Requester | None) -> None:
        """The controller the camera returns to when no lease is held (None: none)."""
        if requester is None:
            self._background.pop(camera_id, None)
        else:
            self._background[camera_id] = requester

    def acquire(self, camera_id: int, requester: Requester) -> Granted | Refusal:
        now = self.clock()
        self._expire(camera_id, now)
        current = self._leases.get(camera_id)
        if current is not None and current.holder.key == requester.key:
            lease = replace(current, holder=requester, last_command_at=now)
            self._leases[camera_id] = lease
            return Granted(lease, renewed=True)
        rival = current.holder if current is not None else self._background.get(camera_id)
        if rival is not None and not self.arbitration.outranks(requester, rival):
            equal = self.arbitration.rank(requester) == self.arbitration.rank(rival)
            if current is None:
                return Refusal(camera_id, rival, None, None, None, equal)
            return Refusal(
                camera_id,
                rival,
                current.acquired_at,
                current.expires_at,
                current.frees_by,
                equal,
            )
        preempted = None
        if rival is not None:
            preempted = Preempted(camera_id, rival, requester, now)
            self._outbox.append(preempted)
            if current is not None:
                self._taken[(camera_id, rival.key)] = preempted
        self._taken.pop((camera_id, requester.key), None)
        lease = Lease(camera_id, requester, now, now, self.idle_release, self.max_hold)
        self._leases[camera_id] = lease
        return Granted(lease, preempted)

    def command(self, camera_id: int, key: tuple[str, str]) -> Lease | NotHolding:
        """A command by ``key``: the lease, kept alive from now; or why it may not command."""
        now = self.clock()
        self._expire(camera_id, now)
        current = self._leases.get(camera_id)
        if current is None or current.holder.key != key:
            return self._not_holding(camera_id, key, current)
        lease = replace(current, last_command_at=now)
        self._leases[camera_id] = lease
        return lease

    def release(
        self, camera_id: int, key: tuple[str, str], cause: EndCause = EndCause.RELEASED
    ) -> LeaseEnded | NotHolding:
        now = self.clock()
        self._expire(camera_id, now)
        current = self._leases.get(camera_id)
        if current is None or current.holder.key != key:
            return self._not_holding(camera_id, key, current)
        return self._end(current, cause, now)

    def expire_due(self) -> list[LeaseEnded]:
        """End every lease past its idle release or maximum hold."""
        now = self.clock()
        ended = []
        for camera_id in list(self._leases):
            found = self._expire(camera_id, now)
            if found is not None:
                ended.append(found)
        return ended

    # -- internals ----------------------------------------------------------------------

    def _not_holding(
        self, camera_id: int, key: tuple[str, str], current: Lease | None
    ) -> NotHolding:
        holder = current.holder if current is not None else self._background.get(camera_id)
        return NotHolding(camera_id, holder, self._taken.get((camera_id, key)))

    def _expire(self, camera_id: int, now: datetime) -> LeaseEnded | None:
        current = self._leases.get(camera_id)
        if current is None or not current.expired(now):
            return None
        at = current.expires_at
        cause = EndCause.IDLE if at == current.idle_expires_at else EndCause.MAX_HOLD
        return self._end(current, cause, at)

    def _end(self, lease: Lease, cause: EndCause, at: datetime) -> LeaseEnded:
        del self._leases[lease.camera_id]
        ended = LeaseEnded(
            lease.camera_id, lease.holder, cause, at, self._background.get(lease.camera_id)
        )
        self._outbox.append(ended)
        return ended
