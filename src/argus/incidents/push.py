"""The push: every screen that may see an incident hears of it over a WebSocket at once.

``WS /api/incidents/events`` (session cookie, bearer token or API key, as any route): the
server sends one JSON message per change,

    {"type": "incident", "change": "raised" | "activated" | "updated" | "closed",
     "incident": {…IncidentOut…}, "popup_camera_id": 123 | null, "for_you": true | false}

``for_you`` is true when the receiver's agency is the responding one; ``popup_camera_id`` names
the camera to open at once (an emergency bell's nearest). On connecting, the server first sends
``{"type": "hello", "live": [...]}`` with the incidents not yet closed that the receiver may see,
so a screen that (re)connects misses nothing. Messages go through a bounded queue per socket;
a screen that does not read is dropped rather than slowing intake (invariant 6's spirit).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field

from starlette.websockets import WebSocket, WebSocketDisconnect

from argus.events import EventBus
from argus.identity.principal import Principal
from argus.incidents.service import IncidentChanged, IncidentService

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
CLOSE_SLOW = 4008


@dataclass(eq=False)
class _Screen:
    principal: Principal
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )

    def offer(self, message: str | None) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:  # a screen that does not read: end it
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:
                    self.queue.get_nowait()
            self.queue.put_nowait(None)


class IncidentPush:
    def __init__(self, bus: EventBus, incidents: IncidentService) -> None:
        self.incidents = incidents
        self._screens: set[_Screen] = set()
        bus.subscribe(self._on_event)

    @property
    def screens(self) -> int:
        return len(self._screens)

    def _on_event(self, event: object) -> None:
        if not isinstance(event, IncidentChanged):
            return
        for screen in list(self._screens):
            try:
                visible = self.incidents.visible_to(screen.principal, event.incident)
            except Exception:
                log.exception("incident push: visibility of %s", event.incident.id)
                continue
            if not visible:
                continue
            message = json.dumps(
                {
                    "type": "incident",
                    "change": event.change,
                    "incident": event.incident.model_dump(mode="json"),
                    "popup_camera_id": event.popup_camera_id,
                    "for_you": event.incident.responding_agency_id == screen.principal.agency_id,
                },
                ensure_ascii=False,
            )
            screen.loop.call_soon_threadsafe(screen.offer, message)

    async def serve(self, websocket: WebSocket, principal: Principal) -> None:
        """Run one screen's socket (already accepted) until it closes."""
        screen = _Screen(principal, asyncio.get_running_loop())
        self._screens.add(screen)
        try:
            live = await asyncio.to_thread(self.incidents.list_for, principal, "live")
            await websocket.send_text(
                json.dumps(
                    {"type": "hello", "live": [i.model_dump(mode="json") for i in live]},
                    ensure_ascii=False,
                )
            )
            reader = asyncio.create_task(self._drain(websocket))
            try:
                while True:
                    getter = asyncio.create_task(screen.queue.get())
                    done, _ = await asyncio.wait(
                        {getter, reader}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if reader in done:
                        getter.cancel()
                        return
                    message = getter.result()
                    if message is None:
                        await websocket.close(CLOSE_SLOW, "too slow: reconnect")
                        return
                    await websocket.send_text(message)
            finally:
                reader.cancel()
        except WebSocketDisconnect:
            return
        finally:
            self._screens.discard(screen)

    @staticmethod
    async def _drain(websocket: WebSocket) -> None:
        """Read (and ignore) what the screen sends, to notice when it goes."""
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await websocket.receive_text()
