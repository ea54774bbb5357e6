"""The principal of a stored user, as the API would see them signed in.

For callers that act for a user without a request: the command line (``--as USERNAME``) and
re-checks of live grants after a policy change.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from argus.errors import ArgusError, NotFoundError
from argus.identity.models import User
from argus.identity.principal import AuthMethod, Principal


def principal_of(
    sessions: sessionmaker[Session],
    *,
    user_id: int | None = None,
    username: str | None = None,
    client: str | None = None,
    extra: dict[str, str] | None = None,
) -> Principal:
    """The enabled user's principal; NotFoundError or ArgusError (disabled) otherwise."""
    if (user_id is None) == (username is None):
        raise ValueError("give exactly one of user_id and username")
    with sessions() as session:
        stmt = select(User).where(
            User.id == user_id if user_id is not None else User.username == username
        )
        user = session.scalars(stmt).one_or_none()
        label = repr(username) if username is not None else str(user_id)
        if user is None:
            raise NotFoundError(f"user {label} does not exist")
        if user.disabled:
            raise ArgusError(f"user {label} is disabled")
        return Principal(
            user_id=user.id,
            username=user.username,
            agency_id=user.agency_id,
            roles=user.roles,
            method=AuthMethod.SESSION,
            client=client,
            extra=dict(extra or {}),
        )
