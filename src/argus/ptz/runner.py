"""One tour on one camera, as an asyncio task that drives the camera through a ``TourEngine``.

The runner runs while nobody has taken the camera over and the camera's mode wants this tour.
``take_over`` / ``give_back`` follow the control lease (a person with a higher priority
pauses the tour; when the lease ends the tour resumes where it stopped); ``suspend`` /
``unsuspend`` follow the camera's mode (a suspended enforcement tour gives up its pending
revisits, each reported missed). Every change wakes the task at once.

Camera commands go through the camera's lock (shared with people's commands), and only while
the runner still runs and the step is still current, so a tour never moves a camera that was
just taken over. A preset the camera fails is skipped (a failed revisit is reported missed) and
the tour tries the next stop after ``retry_s``. A camera that someone else turned while the tour
was paused is sent back to the tour's spot when it resumes, also when the next step is a wait
(to the spot whose revisit it waits for), rather than left where they turned it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argus.ptz.driver import PtzDriver
from argus.ptz.tours import MissedRevisit, PendingRevisit, Step, Tour, TourEngine, Visit, Wait

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
MissedSink = Callable[[list[MissedRevisit]], Awaitable[None]]
RECENT_MISSED = 20


@dataclass(frozen=True)
class TourState:
    """What a tour is doing, for the status of its camera."""

    tour: Tour
    state: str  # running, paused (taken over), suspended (mode)
    cause: str | None
    current: Step | None
    next_stop: int
    pending: tuple[PendingRevisit, ...]
    missed: tuple[MissedRevisit, ...]
    visits: int
    last_error: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.tour.kind.value,
            "state": self.state,
            "cause": self.cause,
            "current": None if self.current is None else self.current.as_json(),
            "next_stop": self.next_stop,
            "pending_revisits": [p.as_json() for p in self.pending],
            "missed_revisits": [m.as_json() for m in self.missed],
            "visits": self.visits,
            "last_error": self.last_error,
        }


class TourRunner:
    def __init__(
        self,
        tour: Tour,
        driver: Callable[[], Awaitable[PtzDriver]],
        lock: asyncio.Lock,
        clock: Callable[[], datetime],
        sleep: Sleep,
        on_missed: MissedSink,
        retry_s: float = 5.0,
    ) -> None:
        self.tour = tour
        self.engine = TourEngine(tour)
        self._driver = driver
        self._lock = lock
        self._clock = clock
        self._sleep = sleep
        self._on_missed = on_missed
        self._retry_s = retry_s
        self.taken_by: str | None = None
        self.suspended: str | None = None
        self.last_error: str | None = None
        self.visits = 0
        self.recent_missed: deque[MissedRevisit] = deque(maxlen=RECENT_MISSED)
        self._changed = asyncio.Event()
        self._issued: Step | None = None
        self._turned_away = False  # someone else controlled the camera since the tour's goto
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.taken_by is None and self.suspended is None

    # -- control from the service (synchronous: no await between a check and a change) --

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"tour-{self.tour.camera_id}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def take_over(self, now: datetime, cause: str) -> None:
        self._halt(now, cause)
        self.taken_by = cause
        self._turned_away = True

    def give_back(self, now: datetime) -> list[MissedRevisit]:
        self.taken_by = None
        return self._go_on(now)

    def suspend(self, now: datetime, cause: str) -> list[MissedRevisit]:
        self._halt(now, cause)
        self.suspended = cause
        self.engine.abandon(now, cause)
        return self._collect()

    def unsuspend(self, now: datetime) -> list[MissedRevisit]:
        self.suspended = None
        return self._go_on(now)

    def abandon(self, now: datetime, cause: str) -> list[MissedRevisit]:
        self._halt(now, cause)
        self.engine.abandon(now, cause)
        return self._collect()

    def state(self) -> TourState:
        if self.suspended is not None:
            state, cause = "suspended", self.suspended
        elif self.taken_by is not None:
            state, cause = "paused", self.taken_by
        else:
            state, cause = "running", None
        return TourState(
            self.tour,
            state,
            cause,
            self.engine.current,
            self.engine.cursor,
            tuple(self.engine.pending),
            tuple(self.recent_missed),
            self.visits,
            self.last_error,
        )

    def _halt(self, now: datetime, cause: str) -> None:
        if self.running:
            self.engine.pause(now, cause)
            self._changed.set()

    def _go_on(self, now: datetime) -> list[MissedRevisit]:
        if self.running and self.engine.paused:
            self.engine.resume(now)
            self._changed.set()
        return self._collect()

    def _collect(self) -> list[MissedRevisit]:
        self.visits += len(self.engine.take_done())
        missed = self.engine.take_missed()
        self.recent_missed.extend(missed)
        return missed

    # -- the task -----------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._changed.clear()
            if not self.running:
                await self._changed.wait()
                continue
            step = self.engine.advance(self._clock())
            missed = self._collect()
            if missed:
                await self._on_missed(missed)
            if step is not self._issued:
                self._issued = step
                if isinstance(step, Visit):
                    if not await self._goto(step):
                        continue
                elif self._turned_away and step.preset is not None:
                    await self._park(step, step.preset)
            await self._until(step.ends_at)

    async def _goto(self, step: Visit) -> bool:
        """Send the camera to the step's preset; False (and the step skipped) if it failed."""
        try:
            async with self._lock:
                if not self.running or self.engine.current is not step:
                    return True
                driver = await self._driver()
                await driver.goto_preset(step.preset)
            self.last_error = None
            self._turned_away = False
            return True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a camera's failure must not end the tour
            error = f"preset {step.preset!r}: {exc}"
            if error != self.last_error:  # once per kind of failure, not every retry
                log.warning("tour of camera %s: %s", self.tour.camera_id, error)
            self.last_error = error
            if self.running and self.engine.current is step:
                self.engine.skip_current(self._clock(), f"the camera failed {self.last_error}")
            missed = self._collect()
            if missed:
                await self._on_missed(missed)
            await self._pause_for(self._retry_s)
            return False

    async def _park(self, step: Wait, preset: str) -> None:
        """Send the camera back to ``preset`` for the wait (a failure is logged; the revisit
        itself goes there again when its window opens)."""
        try:
            async with self._lock:
                if not self.running or self.engine.current is not step:
                    return
                driver = await self._driver()
                await driver.goto_preset(preset)
            self.last_error = None
            self._turned_away = False
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a camera's failure must not end the tour
            error = f"preset {preset!r}: {exc}"
            if error != self.last_error:
                log.warning("tour of camera %s: %s", self.tour.camera_id, error)
            self.last_error = error

    async def _until(self, moment: datetime) -> None:
        delay = (moment - self._clock()).total_seconds()
        if delay > 0:
            await self._pause_for(delay)

    async def _pause_for(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the runner's state changes meanwhile."""
        if self._changed.is_set():
            return
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waiter = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({sleeper, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waiter):
                task.cancel()
