"""The Ed25519 key that signs audit checkpoints, and its public half for auditors.

The key comes from ``ARGUS_AUDIT_SIGNING_KEY`` (PEM "PRIVATE KEY", or the 32-byte seed in
base64); without it a key file ``audit-signing.key`` (PEM, mode 0600) is created once in the
data directory. ``argus audit public-key`` prints the public key (PEM) that ``argus audit verify
--public-key FILE`` and any Ed25519 tool can check the checkpoints with, offline.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from argus.config import Settings
from argus.errors import ConfigError
from argus.keyfiles import new_ed25519_pem, read_or_create

KEY_FILE = "audit-signing.key"


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """16 hex digits naming a key: the start of the SHA-256 of its raw public bytes."""
    return hashlib.sha256(_raw_public(public_key)).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey
    public_key: Ed25519PublicKey = field(init=False)
    key_id: str = field(init=False)

    def __post_init__(self) -> None:
        public = self.private_key.public_key()
        object.__setattr__(self, "public_key", public)
        object.__setattr__(self, "key_id", key_id(public))

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private_key.sign(message)).decode()


def signature_valid(public_key: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _seed(text: str) -> bytes | None:
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            raw = decode(text.strip() + "=" * (-len(text.strip()) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 32:
            return raw
    return None


def parse_private_key(text: str, source: str = "ARGUS_AUDIT_SIGNING_KEY") -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8) or a base64 32-byte seed."""
    if "-----BEGIN" in text:
        try:
            key = load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{source}: not a readable unencrypted PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{source}: the PEM key is not an Ed25519 key")
        return key
    seed = _seed(text)
    if seed is None:
        raise ConfigError(
            f"{source}: must be an Ed25519 PEM private key or its 32-byte seed in base64 "
            "(make one with 'openssl genpkey -algorithm ed25519')"
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def parse_public_key(text: str, source: str = "public key") -> Ed25519PublicKey:
    """An Ed25519 public key from PEM ("PUBLIC KEY") or its 32 raw bytes in base64."""
    if "-----BEGIN" in text:
        try:
            key = load_pem_public_key(text.encode())
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{source}: not a readable PEM public key") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigError(f"{source}: the PEM key is not an Ed25519 key")
        return key
    raw = _seed(text)
    if raw is None:
        raise ConfigError(f"{source}: must be an Ed25519 PEM public key or 32 bytes in base64")
    return Ed25519PublicKey.from_public_bytes(raw)


def load_signer(settings: Settings) -> Signer:
    """The checkpoint signer of ``settings``: its configured key, or the data directory's file."""
    if settings.audit_signing_key:
        return Signer(parse_private_key(settings.audit_signing_key))
    path = Path(settings.data_dir) / KEY_FILE
    pem = read_or_create(path, new_ed25519_pem).decode()
    return Signer(parse_private_key(pem, source=str(path)))
