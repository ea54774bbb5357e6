"""Revocations for the media plane: `GrantsRevoked` events from the bus, on the media loop.

The bus calls its handlers on whichever thread revoked (a sync route runs in a thread pool);
every path out (live views, HLS, RTSP re-serving, the worker pool) needs them on its event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from argus.events import EventBus
from argus.sharing.live_grants import GrantsRevoked


class RevocationFeed:
    """Calls `callback(event)` on the attached loop for every GrantsRevoked on the bus."""

    def __init__(self, bus: EventBus, callback: Callable[[GrantsRevoked], object]) -> None:
        self._callback = callback
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe = bus.subscribe(self._on_event)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def close(self) -> None:
        self._unsubscribe()

    def _on_event(self, event: object) -> None:
        loop = self._loop
        if isinstance(event, GrantsRevoked) and loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(self._callback, event)
