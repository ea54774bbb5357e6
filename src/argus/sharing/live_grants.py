"""The stream tokens issued and not yet expired, so that a revocation can reach them.

When an agreement is revoked or narrowed, a user disabled or an incident closed, the tokens
that rested on it are marked revoked here and one ``GrantsRevoked`` event names exactly them;
the media plane closes the matching streams on that event and refuses the tokens from then on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from argus.events import EventBus
from argus.sharing.tokens import StreamClaims


@dataclass(frozen=True)
class GrantsRevoked:
    jtis: tuple[str, ...]  # the revoked tokens
    cameras: tuple[int, ...]  # the cameras they were for
    cause: str  # "agreement.revoke", "agreement.narrow", "user.disable", "incident.close", …
    reason: str  # for the person whose view closes: "agreement 7 was revoked by 광주광역시 북구"


class LiveGrants:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._lock = threading.Lock()
        self._live: dict[str, StreamClaims] = {}
        self._revoked: dict[str, int] = {}  # jti → expiry, kept until the token expires anyway

    def add(self, claims: StreamClaims) -> None:
        with self._lock:
            self._live[claims.jti] = claims

    def is_revoked(self, jti: str) -> bool:
        with self._lock:
            return jti in self._revoked

    def revoked(self, now: datetime) -> dict[str, int]:
        """The revoked token ids still within their lifetime, with their expiry (epoch seconds)."""
        self.prune(now)
        with self._lock:
            return dict(self._revoked)

    def mark_revoked(self, revoked: dict[str, int]) -> None:
        """Take revocations decided in another process (a media worker hears them this way)."""
        with self._lock:
            for jti, expires_at in revoked.items():
                self._live.pop(jti, None)
                self._revoked[jti] = expires_at

    def live(self, now: datetime) -> list[StreamClaims]:
        self.prune(now)
        with self._lock:
            return list(self._live.values())

    def prune(self, now: datetime) -> None:
        stamp = now.timestamp()
        with self._lock:
            for jti in [j for j, c in self._live.items() if c.expires_at <= stamp]:
                del self._live[jti]
            for jti in [j for j, exp in self._revoked.items() if exp <= stamp]:
                del self._revoked[jti]

    def revoke_where(
        self,
        affected: Callable[[StreamClaims], bool],
        *,
        cause: str,
        reason: str,
        now: datetime,
    ) -> GrantsRevoked | None:
        """Revoke every live token for which ``affected`` holds; publish one event naming them."""
        self.prune(now)
        with self._lock:
            hit = [c for c in self._live.values() if affected(c)]
            for claims in hit:
                del self._live[claims.jti]
                self._revoked[claims.jti] = claims.expires_at
        if not hit:
            return None
        event = GrantsRevoked(
            jtis=tuple(sorted(c.jti for c in hit)),
            cameras=tuple(sorted({c.camera_id for c in hit})),
            cause=cause,
            reason=reason,
        )
        self._bus.publish(event)
        return event

    def revoke_user(self, user_id: int, *, reason: str, now: datetime) -> GrantsRevoked | None:
        return self.revoke_where(
            lambda c: c.user_id == user_id, cause="user.disable", reason=reason, now=now
        )

    def revoke_grant(
        self, grants: Iterable[str], *, cause: str, reason: str, now: datetime
    ) -> GrantsRevoked | None:
        wanted = set(grants)
        return self.revoke_where(lambda c: c.grant in wanted, cause=cause, reason=reason, now=now)
