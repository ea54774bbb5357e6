"""WS-Security UsernameToken checking, as an ONVIF device does it (and onvif-zeep-async sends).

A request carries `wsse:Security/wsse:UsernameToken` with the user name, a password of type
PasswordDigest (Base64(SHA-1(nonce + created + password))) or PasswordText, a Base64 nonce and
a `wsu:Created` time. The token is accepted when the user and password match, the created time
is within `max_skew_s` of the device clock, and the nonce has not been seen within that window
(a replayed request is refused). Anything else raises a SoapFault `env:Sender ter:NotAuthorized`
with the HTTP status the camera uses for it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from argus.onvif.soap import Element, SoapFault, child, qname

PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_DIGEST = f"{PROFILE}#PasswordDigest"
PASSWORD_TEXT = f"{PROFILE}#PasswordText"


@dataclass(frozen=True, slots=True)
class UsernameToken:
    username: str
    password: str
    digest: bool
    nonce: bytes | None
    created: str | None


def read_token(header: Element | None) -> UsernameToken | None:
    """The UsernameToken of a request's Header, or None when there is none."""
    if header is None:
        return None
    security = child(header, "wsse", "Security")
    token = child(security, "wsse", "UsernameToken") if security is not None else None
    if token is None:
        return None
    username = child(token, "wsse", "Username")
    password = child(token, "wsse", "Password")
    nonce = child(token, "wsse", "Nonce")
    created = token.find(qname("wsu", "Created"))
    kind = password.get("Type", PASSWORD_TEXT) if password is not None else PASSWORD_TEXT
    nonce_bytes: bytes | None = None
    if nonce is not None and nonce.text:
        try:
            nonce_bytes = base64.b64decode(str(nonce.text).strip(), validate=True)
        except (binascii.Error, ValueError):
            nonce_bytes = None
    return UsernameToken(
        username=str(username.text or "").strip() if username is not None else "",
        password=str(password.text or "").strip() if password is not None else "",
        digest=kind.endswith("#PasswordDigest") or kind == "wsse:PasswordDigest",
        nonce=nonce_bytes,
        created=str(created.text).strip() if created is not None and created.text else None,
    )


def password_digest(nonce: bytes, created: str, password: str) -> str:
    raw = hashlib.sha1(nonce + created.encode() + password.encode()).digest()
    return base64.b64encode(raw).decode()


def _created_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class NonceCache:
    """Nonces seen lately, per camera, so that a replayed token is refused; bounded in size."""

    def __init__(self, window_s: float, limit: int = 100_000) -> None:
        self.window_s = window_s
        self.limit = limit
        self._seen: OrderedDict[tuple[int, bytes], float] = OrderedDict()

    def fresh(self, camera_id: int, nonce: bytes, now: float) -> bool:
        """Remember the nonce; False if it was already used within the window."""
        while self._seen:
            key, seen_at = next(iter(self._seen.items()))
            if seen_at > now - self.window_s and len(self._seen) < self.limit:
                break
            del self._seen[key]
        key = (camera_id, nonce)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


def not_authorized(status: int, why: str) -> SoapFault:
    return SoapFault("Sender not Authorized", "NotAuthorized", status=status, detail=why)


def check_token(
    token: UsernameToken | None,
    *,
    camera_id: int,
    username: str,
    password: str,
    nonces: NonceCache,
    now: datetime,
    max_skew_s: float,
    status: int = 400,
) -> None:
    """Raise the NotAuthorized fault unless the token proves this user and password."""
    if token is None:
        raise not_authorized(status, "the request carries no WS-Security UsernameToken")
    if not hmac.compare_digest(token.username.encode(), username.encode()):
        raise not_authorized(status, "unknown user name or wrong password")
    if token.digest:
        if token.nonce is None or token.created is None:
            raise not_authorized(status, "a password digest needs a nonce and a created time")
        expected = password_digest(token.nonce, token.created, password)
        if not hmac.compare_digest(token.password.encode(), expected.encode()):
            raise not_authorized(status, "unknown user name or wrong password")
    elif not hmac.compare_digest(token.password.encode(), password.encode()):
        raise not_authorized(status, "unknown user name or wrong password")
    if token.created is not None:
        created = _created_time(token.created)
        if created is None:
            raise not_authorized(status, "the token's created time cannot be read")
        if abs((now - created).total_seconds()) > max_skew_s:
            raise not_authorized(
                status, "the token's created time is too far from the device clock"
            )
    if token.nonce is not None and not nonces.fresh(camera_id, token.nonce, now.timestamp()):
        raise not_authorized(status, "the token's nonce was used before (a replay)")
