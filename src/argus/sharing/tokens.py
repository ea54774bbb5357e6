"""Stream tokens: what the media plane accepts, and nothing else.

An allowed decision yields a short-lived token naming the camera, the capability, the purpose,
the user and the grant it rests on. It is signed with Ed25519, so that a media worker holding
only the public key can check tokens but cannot mint them.

Format: ``base64url(payload JSON) "." base64url(signature)``, payload keys sorted, compact.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)

from argus.errors import ArgusError
from argus.keyfiles import new_ed25519_pem, read_or_create

MAX_TTL = timedelta(minutes=10)
TOKEN_VERSION = 1


class TokenError(ArgusError):
    """A token the media plane must refuse; ``code`` is the machine-readable reason."""

    status_code = 401

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class StreamClaims:
    jti: str  # this token's id
    grant: str  # what the access rests on: "ownership:3", "agreement:7", "incident:12"
    camera_id: int
    capability: str
    purpose: str
    case_number: str | None
    user_id: int
    agency_id: int
    issued_at: int  # seconds since the epoch, UTC
    expires_at: int
    footage_from: int | None = None  # playback: the footage it covers (epoch seconds), if bound
    footage_until: int | None = None

    @property
    def expires(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, UTC)


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_key: Ed25519PublicKey = key.public_key()

    @classmethod
    def from_file(cls, path: Path) -> TokenSigner:
        """The key in ``path`` (PEM, PKCS#8), created once with mode 0600 when missing."""
        key = load_pem_private_key(read_or_create(path, new_ed25519_pem), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ArgusError(f"{path} does not hold an Ed25519 private key")
        return cls(key)

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def issue(
        self,
        *,
        grant: str,
        camera_id: int,
        capability: str,
        purpose: str,
        case_number: str | None,
        user_id: int,
        agency_id: int,
        now: datetime,
        ttl: timedelta = MAX_TTL,
        footage: tuple[datetime | None, datetime | None] = (None, None),
    ) -> tuple[str, StreamClaims]:
        ttl = min(ttl, MAX_TTL)
        issued = int(now.timestamp())
        claims = StreamClaims(
            jti=secrets.token_urlsafe(12),
            grant=grant,
            camera_id=camera_id,
            capability=capability,
            purpose=purpose,
            case_number=case_number,
            user_id=user_id,
            agency_id=agency_id,
            issued_at=issued,
            expires_at=issued + int(ttl.total_seconds()),
            footage_from=_epoch(footage[0]),
            footage_until=_epoch(footage[1]),
        )
        payload = dict(asdict(claims), v=TOKEN_VERSION)
        body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(self._key.sign(body))}", claims


def read_token(
    token: str,
    public_key: Ed25519PublicKey,
    *,
    now: datetime,
    camera_id: int | None = None,
    capability: str | None = None,
) -> StreamClaims:
    """The claims of a valid token for this camera and capability; TokenError otherwise."""
    parts = token.split(".")
    if len(parts) != 2 or not all(parts):
        raise TokenError("malformed", "the stream token is malformed")
    try:
        body, signature = _unb64(parts[0]), _unb64(parts[1])
    except (binascii.Error, ValueError) as exc:
        raise TokenError("malformed", "the stream token is malformed") from exc
    try:
        public_key.verify(signature, body)
    except InvalidSignature as exc:
        raise TokenError("bad_signature", "the stream token's signature is not valid") from exc
    try:
        payload: dict[str, Any] = json.loads(body)
        if payload.pop("v") != TOKEN_VERSION:
            raise ValueError("version")
        claims = StreamClaims(**payload)
    except (ValueError, TypeError, KeyError) as exc:
        raise TokenError("malformed", "the stream token's contents are not understood") from exc
    if now.timestamp() >= claims.expires_at:
        raise TokenError("expired", "the stream token has expired; renew it")
    if camera_id is not None and claims.camera_id != camera_id:
        raise TokenError("wrong_camera", f"the stream token is not for camera {camera_id}")
    if capability is not None and claims.capability != capability:
        raise TokenError("wrong_capability", f"the stream token does not grant {capability}")
    return claims
