"""Demo accounts for the reference deployment, so that a new user can sign in at once.

They share one documented password and are made only with ``--demo-accounts`` (``make demo``
does). They are for a demo on 127.0.0.1: a real deployment creates its own accounts with
``argus users add``.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from argus.db import make_sessionmaker
from argus.identity.access import Console
from argus.identity.models import User
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.identity.service import IdentityService
from argus.registry.models import Agency

DEMO_PASSWORD = "Argus-demo-2026"
DEMO_ACCOUNTS: tuple[tuple[str, str, Role], ...] = (
    ("admin", "광주광역시", Role.SYSTEM_ADMIN),
    ("centre-operator", "광주광역시", Role.OPERATOR),
    ("centre-supervisor", "광주광역시", Role.SUPERVISOR),
    ("city-admin", "광주광역시", Role.AGENCY_ADMIN),
    ("auditor", "광주광역시", Role.AUDITOR),
    ("planner", "광주광역시", Role.PLANNER),
    ("donggu-admin", "광주광역시 동구", Role.AGENCY_ADMIN),
    ("seogu-admin", "광주광역시 서구", Role.AGENCY_ADMIN),
    ("namgu-admin", "광주광역시 남구", Role.AGENCY_ADMIN),
    ("bukgu-admin", "광주광역시 북구", Role.AGENCY_ADMIN),
    ("gwangsangu-admin", "광주광역시 광산구", Role.AGENCY_ADMIN),
    ("police-112", "광주경찰청 112치안종합상황실", Role.RESPONDER),
    ("fire-119", "광주소방안전본부 119종합상황실", Role.RESPONDER),
)


def create_demo_accounts(engine: Engine) -> list[str]:
    """Create the demo accounts that do not exist yet; returns the usernames created."""
    identity = IdentityService.for_engine(engine)
    with make_sessionmaker(engine)() as session:
        agencies = dict(session.execute(select(Agency.name, Agency.id)).tuples().all())
        existing = set(session.scalars(select(User.username)))
    created = []
    for username, agency, role in DEMO_ACCOUNTS:
        if username in existing or agency not in agencies:
            continue
        identity.users.create_user(
            Console("scenario"),
            UserCreate(
                username=username,
                agency_id=agencies[agency],
                roles=[role],
                password=DEMO_PASSWORD,
                display_name=f"demo {role.value}",
            ),
        )
        created.append(username)
    return created
