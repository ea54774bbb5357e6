"""Download links of evidence exports: a signed export id and expiry, nothing stored.

A link is ``base64url(JSON {"e": export id, "x": expiry (epoch seconds), "n": nonce})`` "."
``base64url(HMAC-SHA256)`` under a key made once per deployment (``export-link.key`` in the
data folder). The recipient (a police investigator, a court) may have no Argus account: the
link is the capability, so it is short-lived and every use of it is audited.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path

from argus.config import Settings
from argus.errors import ArgusError
from argus.keyfiles import read_or_create

KEY_FILE = "export-link.key"


class LinkError(ArgusError):
    """A download link that is malformed, forged or expired."""

    status_code = 410
    code = "link_invalid"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def of(cls, settings: Settings) -> LinkSigner:
        return cls(
            read_or_create(Path(settings.data_dir) / KEY_FILE, lambda: secrets.token_bytes(32))
        )

    def sign(self, export_id: int, expires_at: datetime) -> str:
        payload = json.dumps(
            {"e": export_id, "x": int(expires_at.timestamp()), "n": secrets.token_urlsafe(6)},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()
        return f"{_b64(payload)}.{_b64(mac)}"

    def read(self, link: str, now: datetime) -> int:
        """The export id of a valid link; LinkError (410) for any other."""
        body, dot, mac_text = link.partition(".")
        try:
            if not dot or len(link) > 400:
                raise ValueError
            payload = _unb64(body)
            mac = _unb64(mac_text)
        except (ValueError, binascii.Error):
            raise LinkError("this is not an export download link") from None
        expected = hmac.new(self._key, payload, hashlib.sha256).digest()
        if not hmac.compare_digest(mac, expected):
            raise LinkError("this download link was not issued by this deployment")
        claims = json.loads(payload)
        if datetime.fromtimestamp(int(claims["x"]), UTC) <= now:
            raise LinkError("this download link has expired; ask for a new one")
        return int(claims["e"])
