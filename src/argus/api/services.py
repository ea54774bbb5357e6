"""The long-lived services of one process, wired to each other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from argus.audit.service import AuditService
from argus.config import Settings
from argus.db import make_sessionmaker
from argus.events import EventBus
from argus.identity.service import IdentityService
from argus.identity.sessions import SessionPolicy
from argus.sharing.access import AccessService
from argus.sharing.live_grants import LiveGrants
from argus.sharing.service import SharingService
from argus.sharing.tokens import TokenSigner

STREAM_KEY_FILE = "stream-signing.key"


@dataclass(frozen=True)
class Services:
    bus: EventBus
    identity: IdentityService
    sharing: SharingService
    access: AccessService
    audit: AuditService


def build_services(settings: Settings, engine: Engine) -> Services:
    """Identity, sharing and access over ``engine``: an agreement that is revoked, suspended,
    narrowed or expires, and a user who is disabled, reach the live stream tokens at once."""
    sessions = make_sessionmaker(engine)
    bus = EventBus()
    identity = IdentityService.for_engine(
        engine, policy=SessionPolicy(cookie_secure=settings.cookie_secure)
    )
    sharing = SharingService(sessions)
    signer = TokenSigner.from_file(Path(settings.data_dir) / STREAM_KEY_FILE)
    access = AccessService(sharing, signer, LiveGrants(bus))
    sharing.on_change = access.on_agreement_change
    identity.ctx.listeners.append(access.on_user_changed)
    audit = AuditService(engine, settings)  # also signs a checkpoint every N entries
    return Services(bus=bus, identity=identity, sharing=sharing, access=access, audit=audit)
