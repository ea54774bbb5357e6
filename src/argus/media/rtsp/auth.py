"""RTSP authentication: Basic and Digest (RFC 2617, RFC 7616) Authorization header values.

`parse_challenges` reads every WWW-Authenticate header (it may repeat, and one header may hold
several challenges); `choose_challenge` prefers Digest (SHA-256, then MD5) over Basic;
`Authenticator` answers the chosen challenge for each request, counting nonce uses.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from argus.media.rtsp.errors import RtspError

_ALGORITHMS: Mapping[str, Callable[[bytes], str]] = {
    "MD5": lambda data: hashlib.md5(data, usedforsecurity=False).hexdigest(),
    "SHA-256": lambda data: hashlib.sha256(data).hexdigest(),
}


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge: scheme ("Basic", "Digest", as the server wrote it) and parameters."""

    scheme: str
    params: Mapping[str, str]  # names lower-cased, values unquoted

    @property
    def is_digest(self) -> bool:
        return self.scheme.lower() == "digest"

    @property
    def is_basic(self) -> bool:
        return self.scheme.lower() == "basic"

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def algorithm(self) -> str:
        """The Digest algorithm, upper-cased; MD5 when none is given."""
        return self.params.get("algorithm", "MD5").strip().upper()


class _Tokens:
    """A cursor over a WWW-Authenticate value: tokens, '=', ',', quoted strings."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def token(self) -> str:
        self.skip_space()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ' \t,="':
            self.pos += 1
        return self.text[start : self.pos]

    def value(self) -> str:
        if self.peek() != '"':
            return self.token()
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\" and self.pos < len(self.text):
                out.append(self.text[self.pos])
                self.pos += 1
            elif char == '"':
                return "".join(out)
            else:
                out.append(char)
        raise RtspError(f"WWW-Authenticate has an unterminated quoted string: {self.text[:80]!r}")


def _parse_one_header(value: str) -> list[Challenge]:
    tokens = _Tokens(value)
    challenges: list[Challenge] = []
    scheme: str | None = None
    params: dict[str, str] = {}

    def close() -> None:
        if scheme is not None:
            challenges.append(Challenge(scheme, MappingProxyType(dict(params))))

    while tokens.peek():
        if tokens.peek() == ",":
            tokens.pos += 1
            continue
        word = tokens.token()
        if not word:
            tokens.pos += 1  # a stray '=' or '"' (token68 padding, junk): skip it
            continue
        if tokens.peek() == "=":
            tokens.pos += 1
            if scheme is None:
                raise RtspError(f"WWW-Authenticate parameter before a scheme: {value[:80]!r}")
            params[word.lower()] = tokens.value()
        else:
            # A bare token starts a new challenge (token68 forms, e.g. "Negotiate abc=", are
            # kept as a parameter-less challenge: we answer only Basic and Digest).
            close()
            scheme = word
            params = {}
    close()
    return challenges


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """Every challenge in the given WWW-Authenticate header values, in order."""
    challenges: list[Challenge] = []
    for value in values:
        challenges.extend(_parse_one_header(value))
    return challenges


def _digest_usable(challenge: Challenge) -> bool:
    algorithm = challenge.algorithm.removesuffix("-SESS")
    if algorithm not in _ALGORITHMS or "nonce" not in challenge.params:
        return False
    qop = challenge.params.get("qop")
    return qop is None or "auth" in _qop_options(qop)


def _qop_options(qop: str) -> list[str]:
    return [option.strip().lower() for option in qop.split(",") if option.strip()]


def choose_challenge(challenges: Iterable[Challenge]) -> Challenge:
    """Digest with SHA-256, then Digest with MD5, then Basic; RtspError if none fits."""
    offered = list(challenges)
    digests = [c for c in offered if c.is_digest and _digest_usable(c)]
    for algorithm in ("SHA-256", "SHA-256-SESS", "MD5", "MD5-SESS"):
        for challenge in digests:
            if challenge.algorithm == algorithm:
                return challenge
    for challenge in offered:
        if challenge.is_basic:
            return challenge
    schemes = ", ".join(f"{c.scheme} {c.params.get('algorithm', '')}".strip() for c in offered)
    raise RtspError(
        f"the camera offers no authentication we support (Basic, Digest MD5/SHA-256, qop=auth "
        f"or none): {schemes or 'no challenge at all'}"
    )


def basic_authorization(username: str, password: str) -> str:
    """`Basic base64(user:password)` (RFC 7617)."""
    if ":" in username:
        raise RtspError("a Basic username must not contain ':'")
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def digest_authorization(
    challenge: Challenge,
    username: str,
    password: str,
    method: str,
    uri: str,
    *,
    nc: int = 1,
    cnonce: str | None = None,
) -> str:
    """The Digest Authorization value answering `challenge` (RFC 2617 §3.2.2, RFC 7616 §3.4)."""
    if not challenge.is_digest:
        raise RtspError(f"not a Digest challenge: {challenge.scheme}")
    params = challenge.params
    nonce = params.get("nonce")
    if nonce is None:
        raise RtspError("the Digest challenge has no nonce")
    realm = params.get("realm", "")
    algorithm = challenge.algorithm
    hash_name = algorithm.removesuffix("-SESS")
    digest = _ALGORITHMS.get(hash_name)
    if digest is None:
        raise RtspError(f"unsupported Digest algorithm: {algorithm}")
    qop_offered = params.get("qop")
    qop: str | None = None
    if qop_offered is not None:
        if "auth" not in _qop_options(qop_offered):
            raise RtspError(f"unsupported Digest qop (only auth is supported): {qop_offered!r}")
        qop = "auth"
    if (qop is not None or algorithm.endswith("-SESS")) and cnonce is None:
        cnonce = secrets.token_hex(8)
    ha1 = digest(f"{username}:{realm}:{password}".encode())
    if algorithm.endswith("-SESS"):
        ha1 = digest(f"{ha1}:{nonce}:{cnonce}".encode())
    ha2 = digest(f"{method}:{uri}".encode())
    nc_text = f"{nc:08x}"
    if qop is None:
        response = digest(f"{ha1}:{nonce}:{ha2}".encode())
    else:
        response = digest(f"{ha1}:{nonce}:{nc_text}:{cnonce}:{qop}:{ha2}".encode())
    parts = [
        f"username={_quote(username)}",
        f"realm={_quote(realm)}",
        f"nonce={_quote(nonce)}",
        f"uri={_quote(uri)}",
        f"response={_quote(response)}",
    ]
    if "algorithm" in params:
        parts.append(f"algorithm={params['algorithm'].strip()}")
    if "opaque" in params:
        parts.append(f"opaque={_quote(params['opaque'])}")
    if qop is not None:
        parts += [f"qop={qop}", f"nc={nc_text}", f"cnonce={_quote(cnonce or '')}"]
    return "Digest " + ", ".join(parts)


class Authenticator:
    """Answers one camera's challenge on every request, counting nonce uses for qop=auth."""

    def __init__(self, challenges: Iterable[Challenge], username: str, password: str) -> None:
        self.challenge = choose_challenge(challenges)
        self.username = username
        self.password = password
        self._nc = 0

    def authorization(self, method: str, uri: str) -> str:
        """The Authorization header value for this request."""
        if self.challenge.is_basic:
            return basic_authorization(self.username, self.password)
        self._nc += 1
        return digest_authorization(
            self.challenge, self.username, self.password, method, uri, nc=self._nc
        )
