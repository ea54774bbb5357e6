"""An in-process event bus: publishers do not know their subscribers.

It is synchronous and in memory: a handler runs inside ``publish``. A failing handler is logged
and does not stop the others or the publisher. Several nodes will share events through NATS
JetStream (DESIGN.md §4, scale-out); this bus is the seam where that plugs in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

Handler = Callable[[object], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Call ``handler`` with every event from now on; returns the unsubscribe function."""
        with self._lock:
            self._handlers.append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def publish(self, event: object) -> None:
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            try:
                handler(event)
            except Exception:  # a subscriber's bug must not break the publisher
                log.exception("event handler %r failed on %r", handler, event)
