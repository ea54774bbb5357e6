"""Random secrets (session ids, bearer tokens, API keys), their stored digests, and CSRF tokens.

Every secret is 32 random bytes from the operating system's CSPRNG, url-safe base64 encoded.
The database keeps only the SHA-256 digest: with 256 bits of entropy a plain digest is as good
as a slow hash, and it lets a request find its row with one indexed look-up.

CSRF protection is the *synchronizer token* pattern without server-side storage: the token is
HMAC-SHA256 keyed with the session's secret id. Only the holder of the (HttpOnly) session cookie
can have been told it, it is checked by recomputing it, and it lives exactly as long as the
session. Sign-in returns it, and so does ``GET /api/auth/me`` after a page reload.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_BYTES = 32
API_KEY_PREFIX = "argus_"
API_KEY_SHOWN = 12  # characters of a key kept in clear to tell keys apart in lists
_CSRF_CONTEXT = b"argus csrf token v1"


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def digest(secret: str) -> str:
    """The stored form of a secret: hex SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def csrf_token(session_secret: str) -> str:
    mac = hmac.new(session_secret.encode("utf-8"), _CSRF_CONTEXT, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def csrf_matches(session_secret: str, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(csrf_token(session_secret).encode(), presented.encode("utf-8"))
