"""Stream tokens as RTSP credentials: where a request carries its token, and the 401 challenges.

A stream token (argus.sharing.tokens) is a bearer credential of about 370 characters. The RTSP
re-serving server (argus.media.rtsp_out) takes it in any of these forms, checked in this order:

1. The URL query: ``rtsp://HOST:PORT/cameras/7/main?token=TOKEN``. Works with every client
   (ffmpeg, VLC, a VMS) whose URL field is long enough.
2. RTSP Basic authentication (RFC 7617) with the token as the password and any username,
   ``rtsp://token:TOKEN@HOST:PORT/cameras/7/main``; or, with a username and no password, the
   token as the username.
3. RTSP Digest authentication (RFC 2617 / RFC 7616, MD5 or SHA-256, qop none or auth) with the
   token as the password and any username. Digest never sends the password, so the server must
   find it: it tries every live token of this process for the camera (`LiveGrants`), re-signed
   with the signing key (Ed25519 signatures are deterministic). A process that does not see the
   tokens being issued (a media worker) cannot check Digest answers: run it with digest=False,
   which offers Basic alone.
4. The short pair, for clients that cut credentials short (ffmpeg keeps only the first 127
   bytes of ``user:password``; some VMSes allow 64 characters): username = the token's id
   (``jti``), password = the token's signature, the part after the dot. `rtsp_credentials`
   computes it. Accepted with Basic and Digest, where this process knows the token's claims.

The challenge of a 401 offers Digest (when enabled) and Basic; clients that can do Digest (ffmpeg,
VLC/live555, a VMS) pick it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from argus.media.rtsp.auth import parse_challenges
from argus.media.rtsp.errors import RtspError
from argus.media.rtsp.messages import Request
from argus.media.rtsp.server import Unauthorized, query_params
from argus.sharing.access import AccessService
from argus.sharing.tokens import TOKEN_VERSION, StreamClaims, TokenSigner

Form = Literal["query", "basic", "basic-short", "digest", "digest-short"]
NONCE_LIFETIME = 300.0
"""Seconds a Digest nonce is honoured (the client asks again after a 401)."""

_HASHES: Mapping[str, Callable[[str], str]] = {
    "MD5": lambda text: hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
    "SHA-256": lambda text: hashlib.sha256(text.encode()).hexdigest(),
}


@dataclass(frozen=True, slots=True)
class Presented:
    """The token a request carries and the form it came in."""

    token: str
    form: Form


# --- the token format (argus.sharing.tokens), rebuilt from claims --------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_payload(claims: StreamClaims) -> bytes:
    """The signed bytes of a token with these claims (the same JSON `TokenSigner.issue` signs)."""
    payload = dict(asdict(claims), v=TOKEN_VERSION)
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def rebuild_token(claims: StreamClaims, signature: str) -> str:
    """The token with these claims and this signature part (checked later like any token)."""
    return f"{_b64(token_payload(claims))}.{signature}"


def rtsp_credentials(token: str) -> tuple[str, str]:
    """The short pair for `token`: (username = its id, password = its signature part).

    Nothing is verified here; ValueError if the token cannot be read at all."""
    body, dot, signature = token.partition(".")
    if not dot or not body or not signature:
        raise ValueError("not a stream token")
    try:
        payload: Any = json.loads(_unb64(body))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not a stream token") from exc
    jti = payload.get("jti") if isinstance(payload, dict) else None
    if not isinstance(jti, str) or not jti:
        raise ValueError("not a stream token")
    return jti, signature


def _signing_key(signer: TokenSigner) -> Ed25519PrivateKey | None:
    # TokenSigner has no public "sign these claims" method; its key is what Digest needs.
    key = getattr(signer, "_key", None)
    return key if isinstance(key, Ed25519PrivateKey) else None


# --- the authenticator ---------------------------------------------------------------------------


class TokenAuth:
    """Finds the stream token in an RTSP request and makes the challenges of a 401."""

    def __init__(
        self,
        access: AccessService,
        *,
        realm: str = "Argus",
        digest: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.access = access
        self.realm = realm
        self.clock = clock
        self._key = _signing_key(access.signer) if digest else None
        self._nonce_key = secrets.token_bytes(32)

    @property
    def digest(self) -> bool:
        """Whether Digest is offered and checked."""
        return self._key is not None

    def challenges(self) -> list[tuple[str, str]]:
        """WWW-Authenticate headers of a 401: Digest (fresh nonce) when enabled, then Basic."""
        headers = []
        if self.digest:
            headers.append(
                (
                    "WWW-Authenticate",
                    f'Digest realm="{self.realm}", nonce="{self._nonce()}", algorithm=MD5',
                )
            )
        headers.append(("WWW-Authenticate", f'Basic realm="{self.realm}"'))
        return headers

    def presented(self, request: Request, camera_id: int) -> Presented | None:
        """The token the request carries, or None when it carries no credentials at all.

        Raises Unauthorized (with the reason) for credentials that cannot name a token: an
        unreadable header, a Digest answer that matches no live token of the camera, a short
        pair whose token id this process does not know. Blocking work: call it in a thread."""
        values = query_params(request.url).get("token")
        if values and values[0]:
            return Presented(values[0], "query")
        header = request.headers.get("Authorization")
        if header is None:
            return None
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() == "basic":
            return self._basic(rest.strip())
        if scheme.lower() == "digest" and self.digest:
            return self._digest(header, request, camera_id)
        raise Unauthorized(f"Unauthorized (the {scheme[:20]} scheme is not accepted here)")

    # Basic ----------------------------------------------------------------------------------

    def _basic(self, value: str) -> Presented:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise Unauthorized("Unauthorized (the Basic credentials are not readable)") from None
        username, _, password = decoded.partition(":")
        if "." in password:
            return Presented(password, "basic")
        if not password and "." in username:
            return Presented(username, "basic")
        if username and password:
            claims = self._claims_of(username)
            if claims is None:
                raise Unauthorized(
                    "Unauthorized (the token id is not known here: it expired, was revoked or "
                    "was issued elsewhere; use ?token= or the whole token as the password)"
                )
            return Presented(rebuild_token(claims, password), "basic-short")
        raise Unauthorized("Unauthorized (the password must be a stream token)")

    # Digest ---------------------------------------------------------------------------------

    def _digest(self, header: str, request: Request, camera_id: int) -> Presented:
        try:
            answers = parse_challenges([header])
        except RtspError:
            answers = []
        if not answers:
            raise Unauthorized("Unauthorized (the Digest answer is not readable)")
        params = answers[0].params
        algorithm = answers[0].algorithm
        digest = _HASHES.get(algorithm)
        nonce = params.get("nonce", "")
        uri = params.get("uri", "")
        username = params.get("username", "")
        if digest is None or params.get("realm") != self.realm or not self._nonce_valid(nonce):
            raise Unauthorized("Unauthorized (a stale or foreign Digest answer)")
        if uri not in (request.url, urlsplit(request.url).path):
            raise Unauthorized("Unauthorized (the Digest answer is for another URL)")
        qop = params.get("qop")
        if qop is not None and qop.lower() != "auth":
            raise Unauthorized("Unauthorized (only Digest qop=auth is supported)")
        ha2 = digest(f"{request.method}:{uri}")
        response = params.get("response", "").lower()
        for password, token, form in self._candidates(username, camera_id):
            ha1 = digest(f"{username}:{self.realm}:{password}")
            if qop is None:
                expected = digest(f"{ha1}:{nonce}:{ha2}")
            else:
                nc, cnonce = params.get("nc", ""), params.get("cnonce", "")
                expected = digest(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            if hmac.compare_digest(expected, response):
                return Presented(token, form)
        raise Unauthorized(
            f"Unauthorized (no live stream token of camera {camera_id} matches the Digest "
            "answer: a wrong, expired or revoked token, or one issued by another process)"
        )

    def _candidates(self, username: str, camera_id: int) -> list[tuple[str, str, Form]]:
        """(password, token, form) of every live token that could have made the answer."""
        key = self._key
        if key is None:
            return []
        out: list[tuple[str, str, Form]] = []
        for claims in self.access.live.live(self.access.clock()):
            if claims.camera_id != camera_id or claims.capability != "live":
                continue
            body = token_payload(claims)
            token = f"{_b64(body)}.{_b64(key.sign(body))}"
            if claims.jti == username:
                out.insert(0, (token.partition(".")[2], token, "digest-short"))
            out.append((token, token, "digest"))
        return out

    def _claims_of(self, jti: str) -> StreamClaims | None:
        for claims in self.access.live.live(self.access.clock()):
            if claims.jti == jti:
                return claims
        return None

    # nonces: a time stamp and its MAC, so that no nonce needs to be remembered ---------------

    def _nonce(self, stamp: int | None = None) -> str:
        stamp = int(self.clock()) if stamp is None else stamp
        mac = hmac.new(self._nonce_key, str(stamp).encode(), hashlib.sha256).hexdigest()[:24]
        return f"{stamp:x}{mac}"

    def _nonce_valid(self, nonce: str) -> bool:
        try:
            stamp = int(nonce[:-24], 16)
        except ValueError:
            return False
        if abs(self.clock() - stamp) > NONCE_LIFETIME:
            return False
        return hmac.compare_digest(self._nonce(stamp), nonce)
