"""PTZ for the whole process: leases, tours and camera commands, authorized and audited.

``PtzService`` ties together

- a ``PtzDriver`` per camera, made on first use by the factory it is given (camera id → driver,
  or an awaitable of one) and kept;
- ``Leases`` (one controller per camera, priority, idle release; ``argus.ptz.lease``);
- a ``TourRunner`` per touring camera: the tour that the ``TourSource`` says should run now
  (the camera's mode decides which; ``argus.modes.service.ModeService`` is one), re-read every
  ``tour_sync_s`` and on ``sync_tours``; a person who takes the camera pauses it, and it
  resumes when the lease ends;
- an ``authorize`` callback, asked before every command of a person (take control with the
  purpose and reason they declare; every later command with the same purpose, so that a
  revoked agreement stops the next command and ends the lease);
- the audit log: every command of a person is one entry (``ptz.<command>``, target
  ``camera:N``, the actor, outcome allow / deny / error, the purpose, the reason and the grant),
  and so are leases that end by themselves (``ptz.expire``) and missed revisits
  (``ptz.tour_missed``).

Notifications (``Preempted``, ``LeaseEnded``, ``MissedRevisit``) go to ``notify`` (e.g. the
event bus's ``publish``): the pre-empted person learns who took over and why; their next
command is also refused with that message.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record_many
from argus.db import transaction, utcnow
from argus.errors import ArgusError, ConflictError, FieldError, ForbiddenError
from argus.identity.principal import Principal
from argus.ptz import store
from argus.ptz.arbitration import (
    Arbitration,
    PriorityClass,
    Requester,
    RequesterKind,
    class_for,
)
from argus.ptz.commands import (
    Command,
    MoveMode,
    check_move,
    check_preset,
    check_timeout,
)
from argus.ptz.driver import PtzDriver, PtzStatus
from argus.ptz.lease import (
    DEFAULT_IDLE_RELEASE,
    DEFAULT_MAX_HOLD,
    EndCause,
    Event,
    Granted,
    Lease,
    LeaseEnded,
    Leases,
    NotHolding,
    Preempted,
    Refusal,
)
from argus.ptz.runner import Sleep, TourRunner, TourState
from argus.ptz.tours import MissedRevisit, Tour, TourKind

log = logging.getLogger(__name__)


class PtzDecision(Protocol):
    """What PTZ reads of an authorization decision (``argus.sharing.policy.Decision`` fits)."""

    @property
    def allowed(self) -> bool: ...

    @property
    def reason(self) -> str: ...

    @property
    def ptz_priority(self) -> int | None: ...

    @property
    def grant(self) -> str | None: ...  # "ownership:3", "agreement:7", "incident:12"


class PtzAuthorizer(Protocol):
    """May ``principal`` use PTZ on ``camera_id`` for ``purpose`` now? (Called in a thread.)"""

    def __call__(
        self,
        principal: Principal,
        camera_id: int,
        purpose: str | None,
        case_number: str | None,
    ) -> PtzDecision: ...


class TourSource(Protocol):
    def tours_at(self, at: datetime) -> Mapping[int, Tour]:
        """camera id → the tour that should run at ``at`` (enabled ones only; called in a
        thread)."""
        ...


DriverFactory = Callable[[int], PtzDriver | Awaitable[PtzDriver]]
Notify = Callable[[object], None]


class PtzRefused(ForbiddenError):
    """Authorization refused the command; the message is its reason."""

    code = "ptz_refused"


class ControlConflict(ConflictError):
    """Someone else controls the camera, or the caller does not (the message says who)."""

    code = "ptz_controlled"

    def __init__(self, message: str, refusal: Refusal | NotHolding) -> None:
        super().__init__(message)
        self.refusal = refusal


class PtzCommandFailed(ArgusError):
    """The camera did not carry out the command (it refused, failed or did not answer)."""

    status_code = 502
    code = "ptz_failed"


@dataclass(frozen=True)
class Control:
    """The caller's control of a camera after a command."""

    camera_id: int
    lease: Lease
    preempted: Preempted | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            **lease_json(self.lease),
            "preempted": None if self.preempted is None else preempted_json(self.preempted),
        }


@dataclass(frozen=True)
class CameraPtz:
    """The status of one camera's PTZ."""

    camera_id: int
    lease: Lease | None
    background: Requester | None
    tour: TourState | None
    position: PtzStatus | None
    position_error: str | None

    def as_json(self) -> dict[str, Any]:
        position = None
        if self.position is not None:
            where = self.position.position
            position = {
                "pan": where.pan,
                "tilt": where.tilt,
                "zoom": where.zoom,
                "moving": self.position.moving,
            }
        return {
            "camera_id": self.camera_id,
            "control": None if self.lease is None else lease_json(self.lease),
            "background": None if self.background is None else requester_json(self.background),
            "tour": None if self.tour is None else self.tour.as_json(),
            "position": position,
            "position_error": self.position_error,
        }


def requester_json(requester: Requester) -> dict[str, Any]:
    return {
        "kind": requester.kind.value,
        "name": requester.name,
        "user_id": requester.user_id,
        "agency_id": requester.agency_id,
        "agency_name": requester.agency_name,
        "priority_class": requester.priority_class.value,
        "class_label": requester.class_label,
        "agreement_priority": requester.agreement_priority,
        "owner": requester.owner,
        "reason": requester.reason,
        "purpose": requester.purpose,
    }


def lease_json(lease: Lease) -> dict[str, Any]:
    return {
        "holder": requester_json(lease.holder),
        "acquired_at": lease.acquired_at.isoformat(),
        "last_command_at": lease.last_command_at.isoformat(),
        "expires_at": lease.expires_at.isoformat(),
        "frees_by": None if lease.frees_by is None else lease.frees_by.isoformat(),
        "idle_release_s": lease.idle_release.total_seconds(),
    }


def preempted_json(event: Preempted) -> dict[str, Any]:
    return {
        "camera_id": event.camera_id,
        "previous": requester_json(event.previous),
        "by": requester_json(event.by),
        "at": event.at.isoformat(),
        "message": event.message(),
    }


def _user_key(principal: Principal) -> tuple[str, str]:
    return (RequesterKind.USER.value, str(principal.user_id))


TOUR_CLASSES = {
    TourKind.ENFORCEMENT: PriorityClass.ENFORCEMENT_TOUR,
    TourKind.PATROL: PriorityClass.IDLE_PATROL,
}
TOUR_REASONS = {
    TourKind.ENFORCEMENT: "parking enforcement tour",
    TourKind.PATROL: "idle patrol",
}


class PtzService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        drivers: DriverFactory,
        authorize: PtzAuthorizer,
        *,
        tours: TourSource | None = None,
        arbitration: Arbitration | None = None,
        idle_release: timedelta = DEFAULT_IDLE_RELEASE,
        max_hold: timedelta | None = DEFAULT_MAX_HOLD,
        notify: Notify | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Sleep = asyncio.sleep,
        command_timeout_s: float = 10.0,
        sweep_s: float = 1.0,
        tour_sync_s: float = 30.0,
        tour_retry_s: float = 5.0,
    ) -> None:
        self.sessions = sessions
        self.authorize = authorize
        self.tours = tours
        self.clock = clock
        self.leases = Leases(clock, arbitration, idle_release=idle_release, max_hold=max_hold)
        self._factory = drivers
        self._notify = notify
        self._sleep = sleep
        self._timeout = command_timeout_s
        self._sweep_s = sweep_s
        self._tour_sync_s = tour_sync_s
        self._tour_retry_s = tour_retry_s
        self._drivers: dict[int, PtzDriver] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._runners: dict[tuple[int, TourKind], TourRunner] = {}
        self._agency_names: dict[int, str] = {}
        self._tasks: list[asyncio.Task[None]] = []

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the tours and the background work (lease expiry, re-reading tours)."""
        await self.sync_tours()
        self._tasks = [
            asyncio.create_task(self._every(self._sweep_s, self.expire_due), name="ptz-sweep"),
            asyncio.create_task(self._every(self._tour_sync_s, self.sync_tours), name="ptz-tours"),
        ]

    async def close(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for runner in list(self._runners.values()):
            await runner.stop()
        self._runners.clear()
        drivers, self._drivers = self._drivers, {}
        for driver in drivers.values():
            with contextlib.suppress(Exception):
                await driver.close()

    async def _every(self, seconds: float, work: Callable[[], Awaitable[object]]) -> None:
        while True:
            await self._sleep(seconds)
            try:
                await work()
            except Exception:  # keep the loop alive; the next round tries again
                log.exception("PTZ background work %s failed", work)

    # -- people's commands --------------------------------------------------------------

    async def acquire(
        self,
        principal: Principal,
        camera_id: int,
        purpose: str | None,
        reason: str,
        case_number: str | None = None,
    ) -> Control:
        """Take control of the camera: allowed by ``authorize``, and not held by someone who
        ranks as high or higher (ControlConflict naming them, 409). A lower holder is
        pre-empted (and told); a running tour pauses."""
        if not isinstance(reason, str) or not reason.strip():
            raise FieldError("reason", "say why you take the camera, e.g. 'incident 12'", "body")
        decision = await self._decide(principal, camera_id, purpose, case_number)
        command = Command.ACQUIRE
        if not decision.allowed:
            await self._audit_user(
                principal, command, camera_id, Outcome.DENY, decision.reason, purpose=purpose
            )
            raise PtzRefused(decision.reason)
        requester = Requester(
            kind=RequesterKind.USER,
            name=principal.username,
            agency_id=principal.agency_id,
            agency_name=await self._agency_name(principal.agency_id),
            priority_class=class_for(principal.roles, decision.grant),
            reason=reason.strip(),
            user_id=principal.user_id,
            agreement_priority=decision.ptz_priority,
            owner=(decision.grant or "").startswith("ownership:"),
            purpose=purpose,
            case_number=case_number,
            grant=decision.grant,
        )
        result = self.leases.acquire(camera_id, requester)
        if isinstance(result, Refusal):
            await self._audit_user(
                principal, command, camera_id, Outcome.DENY, result.message(), requester
            )
            raise ControlConflict(result.message(), result)
        assert isinstance(result, Granted)
        self._take_over_tours(camera_id, requester, result.lease.acquired_at)
        await self._handle(self.leases.drain())
        details: dict[str, Any] = {"renewed": result.renewed}
        if result.preempted is not None:
            details["preempted"] = requester_json(result.preempted.previous)
        await self._audit_user(
            principal, command, camera_id, Outcome.ALLOW, requester.reason, requester, details
        )
        return Control(camera_id, result.lease, result.preempted)

    async def move(
        self,
        principal: Principal,
        camera_id: int,
        mode: MoveMode,
        pan: float,
        tilt: float,
        zoom: float,
        timeout_s: float | None = None,
    ) -> Control:
        """A continuous (velocity), relative (displacement) or absolute (position) move."""
        check_move(mode, pan, tilt, zoom)
        args: dict[str, Any] = {"pan": pan, "tilt": tilt, "zoom": zoom}
        if mode is MoveMode.CONTINUOUS:
            check_timeout(timeout_s)
            args["timeout_s"] = timeout_s
            return await self._command(
                principal,
                camera_id,
                Command.CONTINUOUS_MOVE,
                args,
                lambda d: d.continuous_move(pan, tilt, zoom, timeout_s),
            )
        if mode is MoveMode.RELATIVE:
            return await self._command(
                principal,
                camera_id,
                Command.RELATIVE_MOVE,
                args,
                lambda d: d.relative_move(pan, tilt, zoom),
            )
        return await self._command(
            principal,
            camera_id,
            Command.ABSOLUTE_MOVE,
            args,
            lambda d: d.absolute_move(pan, tilt, zoom),
        )

    async def stop(self, principal: Principal, camera_id: int) -> Control:
        return await self._command(principal, camera_id, Command.STOP, {}, lambda d: d.stop())

    async def goto_preset(self, principal: Principal, camera_id: int, preset: str) -> Control:
        token = check_preset(preset)
        return await self._command(
            principal,
            camera_id,
            Command.GOTO_PRESET,
            {"preset": token},
            lambda d: d.goto_preset(token),
        )

    async def home(self, principal: Principal, camera_id: int) -> Control:
        return await self._command(principal, camera_id, Command.HOME, {}, lambda d: d.goto_home())

    async def release(self, principal: Principal, camera_id: int) -> LeaseEnded:
        """Give the camera back (to its tour, if it has one running)."""
        key = _user_key(principal)
        held = self.leases.held_by(camera_id, key)
        ended = self.leases.release(camera_id, key)
        if isinstance(ended, NotHolding):
            await self._handle(self.leases.drain())
            await self._audit_user(
                principal, Command.RELEASE, camera_id, Outcome.DENY, ended.message()
            )
            raise ControlConflict(ended.message(), ended)
        await self._handle(self.leases.drain())
        await self._audit_user(
            principal,
            Command.RELEASE,
            camera_id,
            Outcome.ALLOW,
            "released",
            None if held is None else held.holder,
        )
        return ended

    async def _command(
        self,
        principal: Principal,
        camera_id: int,
        command: Command,
        args: dict[str, Any],
        call: Callable[[PtzDriver], Awaitable[None]],
    ) -> Control:
        key = _user_key(principal)
        lease = self.leases.held_by(camera_id, key)
        if lease is None:
            refused = self.leases.command(camera_id, key)
            await self._handle(self.leases.drain())
            assert isinstance(refused, NotHolding)
            await self._audit_user(
                principal, command, camera_id, Outcome.DENY, refused.message(), details=args
            )
            raise ControlConflict(refused.message(), refused)
        holder = lease.holder
        decision = await self._decide(principal, camera_id, holder.purpose, holder.case_number)
        if not decision.allowed:
            self.leases.release(camera_id, key, EndCause.REVOKED)
            await self._handle(self.leases.drain())
            await self._audit_user(
                principal, command, camera_id, Outcome.DENY, decision.reason, holder, args
            )
            raise PtzRefused(decision.reason)
        failure: Exception | None = None
        async with self._lock(camera_id):
            touched = self.leases.command(camera_id, key)  # still the holder, right now
            if not isinstance(touched, NotHolding):
                try:
                    driver = await self._driver(camera_id)
                    await asyncio.wait_for(call(driver), self._timeout)
                except Exception as exc:  # the camera's failure, whatever its kind, is audited
                    failure = exc
                    self._forget_driver(camera_id)
        if isinstance(touched, NotHolding):
            await self._handle(self.leases.drain())
            await self._audit_user(
                principal, command, camera_id, Outcome.DENY, touched.message(), holder, args
            )
            raise ControlConflict(touched.message(), touched)
        if failure is not None:
            message = _failure_text(camera_id, command, failure)
            await self._audit_user(
                principal, command, camera_id, Outcome.ERROR, message, holder, args
            )
            if isinstance(failure, ArgusError):
                raise failure
            raise PtzCommandFailed(message) from failure
        await self._audit_user(
            principal, command, camera_id, Outcome.ALLOW, holder.reason, holder, args
        )
        return Control(camera_id, touched)

    # -- status -------------------------------------------------------------------------

    async def status(self, camera_id: int, *, position: bool = True) -> CameraPtz:
        lease = self.leases.lease(camera_id)
        await self._handle(self.leases.drain())
        runner = self._active_runner(camera_id)
        where: PtzStatus | None = None
        error: str | None = None
        if position:
            try:
                driver = await self._driver(camera_id)
                where = await asyncio.wait_for(driver.status(), self._timeout)
            except Exception as exc:
                error = _failure_text(camera_id, None, exc)
        return CameraPtz(
            camera_id,
            lease,
            self.leases.background(camera_id),
            None if runner is None else runner.state(),
            where,
            error,
        )

    def tour_state(self, camera_id: int) -> TourState | None:
        runner = self._active_runner(camera_id)
        return None if runner is None else runner.state()

    def _runners_of(self, camera_id: int) -> list[TourRunner]:
        return [r for (c, _), r in self._runners.items() if c == camera_id]

    def _active_runner(self, camera_id: int) -> TourRunner | None:
        """The tour the camera's mode runs now, else the one that ran last."""
        found = self._runners_of(camera_id)
        active = [r for r in found if r.suspended is None]
        chosen = active or found
        return chosen[0] if chosen else None

    def _take_over_tours(self, camera_id: int, by: Requester, at: datetime) -> None:
        for runner in self._runners_of(camera_id):
            runner.take_over(at, _takeover_text(by))

    def _give_back_tours(self, camera_id: int, at: datetime) -> list[MissedRevisit]:
        missed: list[MissedRevisit] = []
        for runner in self._runners_of(camera_id):
            missed += runner.give_back(at)
        return missed

    # -- background work ----------------------------------------------------------------

    async def end_grant(self, grant: str) -> list[LeaseEnded]:
        """End the control resting on ``grant`` ("incident:12" when that incident closes, an
        agreement when it is revoked): the camera stops and goes back to its tour."""
        ended = []
        for camera_id in self.leases.cameras():
            lease = self.leases.lease(camera_id)
            if lease is None or lease.holder.grant != grant:
                continue
            done = self.leases.release(camera_id, lease.holder.key, EndCause.REVOKED)
            if isinstance(done, LeaseEnded):
                ended.append(done)
        await self._handle(self.leases.drain())
        return ended

    async def expire_due(self) -> list[LeaseEnded]:
        """End the leases past their idle release or maximum hold (their tours resume)."""
        ended = self.leases.expire_due()
        await self._handle(self.leases.drain())
        return ended

    async def sync_tours(self, at: datetime | None = None) -> None:
        """Run the tours the source wants now; pause (suspend) the others, keeping their
        place; a tour whose stops changed starts again from its first stop."""
        if self.tours is None:
            return
        now = at or self.clock()
        source = self.tours
        wanted = dict(await asyncio.to_thread(source.tours_at, now))
        cameras = {c for c, _ in self._runners} | set(wanted)
        owners = await asyncio.to_thread(self._read, lambda s: store.owners_of(s, cameras))
        missed: list[MissedRevisit] = []
        for (camera_id, kind), runner in list(self._runners.items()):
            want = wanted.get(camera_id)
            lease = self.leases.lease(camera_id)
            if lease is not None and runner.taken_by is None:
                runner.take_over(now, _takeover_text(lease.holder))
            elif lease is None and runner.taken_by is not None:
                missed += runner.give_back(now)
            if want is not None and want.kind is kind and want == runner.tour:
                missed += runner.unsuspend(now)
            elif want is not None and want.kind is kind:
                missed += runner.abandon(now, "the tour was changed")
                await runner.stop()
                del self._runners[(camera_id, kind)]
            elif runner.suspended is None:
                missed += runner.suspend(now, f"the camera's schedule does not run its {kind} now")
        for camera_id in cameras:
            tour = wanted.get(camera_id)
            if tour is None or camera_id not in owners:
                self.leases.set_background(camera_id, None)
                continue
            self.leases.set_background(camera_id, self._tour_requester(tour, owners[camera_id]))
            if (camera_id, tour.kind) not in self._runners:
                self._start_runner(tour, now)
        await self._report_missed(missed)

    def _start_runner(self, tour: Tour, now: datetime) -> None:
        camera_id = tour.camera_id
        runner = TourRunner(
            tour,
            lambda: self._driver(camera_id),
            self._lock(camera_id),
            self.clock,
            self._sleep,
            self._report_missed,
            self._tour_retry_s,
        )
        lease = self.leases.lease(camera_id)
        if lease is not None:
            runner.take_over(now, _takeover_text(lease.holder))
        self._runners[(camera_id, tour.kind)] = runner
        runner.start()

    def _tour_requester(self, tour: Tour, owner: tuple[int, str]) -> Requester:
        return Requester(
            kind=RequesterKind.TOUR,
            name=f"{tour.kind.value} tour of camera {tour.camera_id}",
            agency_id=owner[0],
            agency_name=owner[1],
            priority_class=TOUR_CLASSES[tour.kind],
            reason=TOUR_REASONS[tour.kind],
            owner=True,
        )

    # -- plumbing -----------------------------------------------------------------------

    async def _handle(self, events: list[Event]) -> None:
        """Tell ``notify``; pause tours, or stop the camera and resume them when control ends;
        audit leases that ended by themselves. Never called holding a camera's lock."""
        audit: list[AuditEvent] = []
        missed: list[MissedRevisit] = []
        for event in events:
            self._publish(event)
            if isinstance(event, Preempted):
                self._take_over_tours(event.camera_id, event.by, event.at)
                await self._halt_camera(event.camera_id)  # the new holder starts from rest
                continue
            await self._halt_camera(event.camera_id)  # before its tour moves it again
            if self.leases.lease(event.camera_id) is None:
                missed += self._give_back_tours(event.camera_id, self.clock())
            if event.cause in (EndCause.IDLE, EndCause.MAX_HOLD, EndCause.REVOKED):
                holder = event.holder
                audit.append(
                    AuditEvent(
                        action="ptz.expire",
                        outcome=Outcome.OK,
                        actor_user_id=holder.user_id,
                        actor_agency_id=holder.agency_id,
                        target=f"camera:{event.camera_id}",
                        purpose=holder.purpose,
                        reason=f"control ended: {event.cause.value}",
                        grant=holder.grant,
                        details={"cause": event.cause.value, "actor_name": holder.name},
                    )
                )
        if audit:
            await asyncio.to_thread(self._write, audit)
        await self._report_missed(missed)

    async def _report_missed(self, missed: list[MissedRevisit]) -> None:
        if not missed:
            return
        for item in missed:
            self._publish(item)
        await asyncio.to_thread(
            self._write,
            [
                AuditEvent(
                    action="ptz.tour_missed",
                    outcome=Outcome.ERROR,
                    target=f"camera:{item.camera_id}",
                    reason=item.cause,
                    details={
                        "preset": item.preset,
                        "stop": item.stop_index,
                        "first_at": item.first_at.isoformat(),
                        "closes_at": item.closes_at.isoformat(),
                    },
                )
                for item in missed
            ],
        )

    def _publish(self, event: object) -> None:
        if self._notify is None:
            return
        try:
            self._notify(event)
        except Exception:  # a listener's bug must not stop PTZ
            log.exception("PTZ notification %r failed", event)

    async def _decide(
        self,
        principal: Principal,
        camera_id: int,
        purpose: str | None,
        case_number: str | None,
    ) -> PtzDecision:
        return await asyncio.to_thread(self.authorize, principal, camera_id, purpose, case_number)

    async def _audit_user(
        self,
        principal: Principal,
        command: Command,
        camera_id: int,
        outcome: Outcome,
        reason: str,
        requester: Requester | None = None,
        details: dict[str, Any] | None = None,
        purpose: str | None = None,
    ) -> None:
        extra: dict[str, Any] = {"actor_name": principal.username, **(details or {})}
        if requester is not None:
            extra["priority_class"] = requester.priority_class.value
            extra["agreement_priority"] = requester.agreement_priority
            if requester.case_number:
                extra["case_number"] = requester.case_number
        event = AuditEvent(
            action=f"ptz.{command.value}",
            outcome=outcome,
            actor_user_id=principal.user_id,
            actor_agency_id=principal.agency_id,
            target=f"camera:{camera_id}",
            purpose=requester.purpose if requester is not None else purpose,
            reason=reason,
            grant=None if requester is None else requester.grant,
            client=principal.client,
            details=extra,
        )
        await asyncio.to_thread(self._write, [event])

    def _write(self, events: list[AuditEvent]) -> None:
        with transaction(self.sessions) as session:
            record_many(session, events)

    def _read(self, work: Callable[[Session], Any]) -> Any:
        with self.sessions() as session:
            return work(session)

    async def _agency_name(self, agency_id: int) -> str:
        name = self._agency_names.get(agency_id)
        if name is None:
            name = await asyncio.to_thread(self._read, lambda s: store.agency_name(s, agency_id))
            self._agency_names[agency_id] = str(name)
        return str(name)

    def _lock(self, camera_id: int) -> asyncio.Lock:
        lock = self._locks.get(camera_id)
        if lock is None:
            lock = self._locks[camera_id] = asyncio.Lock()
        return lock

    async def _driver(self, camera_id: int) -> PtzDriver:
        driver = self._drivers.get(camera_id)
        if driver is None:
            made = self._factory(camera_id)
            driver = await made if inspect.isawaitable(made) else made
            self._drivers[camera_id] = driver
        return driver

    def _forget_driver(self, camera_id: int) -> None:
        """Drop a driver that failed: the next command makes a new one."""
        driver = self._drivers.pop(camera_id, None)
        if driver is not None:
            task = asyncio.ensure_future(driver.close())
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _halt_camera(self, camera_id: int) -> None:
        """Stop a camera whose control ended (a continuous move must not run on)."""
        if camera_id not in self._drivers:
            return
        try:
            async with self._lock(camera_id):
                await asyncio.wait_for(self._drivers[camera_id].stop(), self._timeout)
        except (Exception, TimeoutError) as exc:
            log.warning("camera %s did not stop after its control ended: %s", camera_id, exc)


def _takeover_text(by: Requester) -> str:
    return f"taken over by {by.describe()}: {by.reason}"


def _failure_text(camera_id: int, command: Command | None, exc: BaseException) -> str:
    what = f"camera {camera_id}" if command is None else f"camera {camera_id} {command.value}"
    if isinstance(exc, TimeoutError):
        return f"{what}: the camera did not answer in time"
    return f"{what}: {exc or type(exc).__name__}"
