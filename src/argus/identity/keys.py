"""API keys for integrations: ``argus_`` and 43 random characters, shown once, stored as SHA-256.

A key acts as its user, with the user's roles at the time of each request. It stops working
when revoked, when past its optional expiry, and while its user is disabled (re-enabling the
user brings unrevoked keys back; revoke them to end them for good). The last-use time is
written at most once a minute.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from argus.identity.models import ApiKey
from argus.identity.sessions import TOUCH_EVERY, as_utc
from argus.identity.tokens import API_KEY_SHOWN, digest, new_api_key


def create(
    db: Session,
    user_id: int,
    name: str,
    now: datetime,
    created_by_id: int | None,
    expires_at: datetime | None = None,
) -> tuple[str, ApiKey]:
    secret = new_api_key()
    key = ApiKey(
        user_id=user_id,
        name=name,
        prefix=secret[:API_KEY_SHOWN],
        key_hash=digest(secret),
        created_at=now,
        created_by_id=created_by_id,
        expires_at=expires_at,
    )
    db.add(key)
    db.flush()
    return secret, key


def find(db: Session, secret: str) -> ApiKey | None:
    return db.scalar(select(ApiKey).where(ApiKey.key_hash == digest(secret)))


def why_unusable(key: ApiKey, now: datetime) -> str | None:
    if key.revoked_at is not None:
        return "has been revoked"
    if key.expires_at is not None and now >= as_utc(key.expires_at):
        return "has expired"
    return None


def touch(key: ApiKey, now: datetime) -> None:
    if key.last_used_at is None or now - as_utc(key.last_used_at) >= TOUCH_EVERY:
        key.last_used_at = now
