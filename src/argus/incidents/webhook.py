"""The signed webhook: how a room's system (112, 119, the disaster room, a bell server) talks
to Argus without a user account.

A request carries two headers:

    X-Argus-Timestamp: 1764748800            (seconds since the epoch, UTC)
    X-Argus-Signature: sha256=<hex>          HMAC-SHA256 of "<timestamp>.<body bytes>"

keyed with the deployment's incident key (``data_dir/incident-webhook.key``, made once with
mode 0600; `argus incident key` prints it for the rooms' systems). A request older or newer
than five minutes is refused, so a captured request cannot be replayed later; within the
window, the report's ``external_id`` makes a repeat raise nothing new.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path

from argus.errors import ArgusError
from argus.keyfiles import read_or_create

KEY_FILE = "incident-webhook.key"
TIMESTAMP_HEADER = "X-Argus-Timestamp"
SIGNATURE_HEADER = "X-Argus-Signature"
TOLERANCE_S = 300


class SignatureError(ArgusError):
    status_code = 401
    code = "bad_signature"


def load_key(data_dir: Path) -> bytes:
    return read_or_create(data_dir / KEY_FILE, lambda: secrets.token_urlsafe(32).encode()).strip()


def sign(key: bytes, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers that make ``body`` a signed webhook request."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: f"sha256={_digest(key, stamp, body)}"}


def _digest(key: bytes, stamp: int, body: bytes) -> str:
    return hmac.new(key, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(
    key: bytes,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: float | None = None,
) -> None:
    """Return if the request is signed with ``key`` and fresh; SignatureError saying why not."""
    if not timestamp or not signature:
        raise SignatureError(
            f"a webhook request needs the headers {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}"
        )
    try:
        stamp = int(timestamp.strip())
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} must be seconds since the epoch") from None
    moment = time.time() if now is None else now
    if abs(moment - stamp) > TOLERANCE_S:
        raise SignatureError(
            f"{TIMESTAMP_HEADER} is {int(moment - stamp)} s off this server's clock "
            f"(at most {TOLERANCE_S} s): check the sender's clock, and do not replay requests"
        )
    scheme, _, given = signature.strip().partition("=")
    if scheme != "sha256" or not given:
        raise SignatureError(f"{SIGNATURE_HEADER} must be 'sha256=<hex>'")
    if not hmac.compare_digest(_digest(key, stamp, body), given.strip().lower()):
        raise SignatureError("the webhook signature does not match: wrong key or altered body")
