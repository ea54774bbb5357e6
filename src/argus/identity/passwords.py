"""Password rules and argon2id hashing.

The rules follow the Korean guidance for public systems (KISA's password guide, and the
Ministry of the Interior and Safety's security standards for administrative systems), which
accept either of two combinations:

* at least **10 characters of 2 kinds**, or
* at least **8 characters of 3 kinds**,

where the kinds are upper-case letters, lower-case letters, digits, and symbols (every other
printable character, Hangul included). Argus accepts a password that meets either combination,
and also requires that it

* does not contain the username (compared without regard to case),
* has no control characters and is at most 128 characters long,
* differs from the user's last ``HISTORY`` passwords, the current one included (checked by the
  service against the kept hashes, see :data:`HISTORY`).

A refusal names everything that is missing, so a person can fix it in one go.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from argus.errors import FieldError

SHORT_LENGTH = 8  # with at least SHORT_KINDS kinds
SHORT_KINDS = 3
LONG_LENGTH = 10  # with at least LONG_KINDS kinds
LONG_KINDS = 2
MAX_LENGTH = 128
HISTORY = 3  # a new password may not be any of the last 3, the current one included


class Kind(StrEnum):
    UPPER = "upper-case letters"
    LOWER = "lower-case letters"
    DIGIT = "digits"
    SYMBOL = "symbols"


def kind_of(char: str) -> Kind:
    if "A" <= char <= "Z":
        return Kind.UPPER
    if "a" <= char <= "z":
        return Kind.LOWER
    if "0" <= char <= "9":
        return Kind.DIGIT
    return Kind.SYMBOL


def kinds_in(password: str) -> set[Kind]:
    return {kind_of(char) for char in password}


@dataclass(frozen=True)
class PasswordCheck:
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def message(self) -> str:
        return "; ".join(self.problems)


def check_password(password: str, username: str | None = None) -> PasswordCheck:
    """Everything wrong with ``password`` for ``username`` by the rules above (nothing: ok)."""
    problems: list[str] = []
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in password):
        problems.append("must not contain control characters (tab, newline, …)")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters long, not {len(password)}")
    kinds = kinds_in(password)
    long_enough = (len(password) >= LONG_LENGTH and len(kinds) >= LONG_KINDS) or (
        len(password) >= SHORT_LENGTH and len(kinds) >= SHORT_KINDS
    )
    if not long_enough:
        have = ", ".join(k.value for k in Kind if k in kinds) or "none"
        missing = ", ".join(k.value for k in Kind if k not in kinds)
        problems.append(
            f"needs at least {LONG_LENGTH} characters of {LONG_KINDS} kinds or "
            f"{SHORT_LENGTH} characters of {SHORT_KINDS} kinds (kinds: upper-case letters, "
            f"lower-case letters, digits, symbols); it has {len(password)} characters of "
            f"{len(kinds)} kind(s) ({have}), add length or some of: {missing}"
        )
    if username and username.casefold() in password.casefold():
        problems.append(f"must not contain the username {username!r}")
    return PasswordCheck(tuple(problems))


def require_valid_password(password: str, username: str | None, field: str = "password") -> None:
    """Raise a 422 naming ``field`` and every rule the password breaks."""
    result = check_password(password, username)
    if not result.ok:
        raise FieldError(field, result.message(), location="body")


class Hasher:
    """argon2id with the RFC 9106 "low memory" parameters (argon2-cffi's defaults).

    64 MiB, 3 passes, 4 lanes: about 0.1 s per hash on the 2-core reference machine.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
