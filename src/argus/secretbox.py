"""Secrets at rest: camera credentials are encrypted with a Fernet key from the settings.

Without ``ARGUS_SECRET_KEY`` a key file is created once in the data directory (mode 0600).
Losing that key makes stored credentials unreadable, so operations must back it up.
"""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from argus.config import Settings
from argus.errors import ConfigError
from argus.keyfiles import read_or_create

KEY_FILE = "secret.key"


class SecretBox:
    def __init__(self, key: str | bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                "the secret key must be 32 bytes in url-safe base64 (make one with "
                "'python -c \"from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())\"')"
            ) from exc

    def seal(self, secret: dict[str, str]) -> bytes:
        return self._fernet.encrypt(json.dumps(secret, ensure_ascii=False).encode())

    def open(self, token: bytes) -> dict[str, str]:
        try:
            value = json.loads(self._fernet.decrypt(token))
        except InvalidToken as exc:
            raise ConfigError("stored credentials cannot be decrypted with this key") from exc
        if not isinstance(value, dict):
            raise ConfigError("stored credentials are not a mapping")
        return {str(k): str(v) for k, v in value.items()}


def load_secret_box(settings: Settings) -> SecretBox:
    """The box for ``settings``: its configured key, or the data directory's key file."""
    if settings.secret_key:
        return SecretBox(settings.secret_key)
    path = Path(settings.data_dir) / KEY_FILE
    return SecretBox(read_or_create(path, Fernet.generate_key).strip())
