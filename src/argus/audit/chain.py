"""The hash chain: the canonical encoding of an entry and its SHA-256.

Every entry's ``hash`` is the lower-case hex SHA-256 of the UTF-8 bytes of this JSON object:

    {"action":…,"actor_agency_id":…,"actor_user_id":…,"client":…,"details":{…},"grant":…,
     "outcome":…,"owner_agency_id":…,"prev_hash":…,"purpose":…,"reason":…,"seq":…,
     "target":…,"time":…}

- keys sorted, no whitespace (separators "," and ":"), non-ASCII characters written as
  themselves (not \\u escapes), the escaping of Python's ``json.dumps(ensure_ascii=False)``;
- ``seq`` and the ids are JSON integers, absent values are ``null``;
- ``time`` is ISO 8601 in UTC with microseconds and a ``Z``: ``2026-03-01T21:04:05.123456Z``;
- ``details`` is a JSON object encoded the same way (sorted keys, compact); the database keeps
  exactly this text, so that the encoding never depends on how a database stores JSON;
- ``prev_hash`` is the previous entry's ``hash``; the first entry's is 64 zeros (``GENESIS``).

So ``sha256(json.dumps(fields, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode())`` recomputes any entry; an auditor needs nothing from Argus to
check an export. Since ``seq`` and ``prev_hash`` are inside the hash, an entry cannot be moved,
removed or changed without breaking the link to the entry after it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, NamedTuple

GENESIS = "0" * 64
_SURROGATE = re.compile("[\ud800-\udfff]")

_string = json.encoder.encode_basestring  # json's own (C) string escaper
_details_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)


class Fields(NamedTuple):
    """The hashed fields of one entry, in the column order the verifier reads them."""

    seq: int
    time: datetime
    actor_user_id: int | None
    actor_agency_id: int | None
    owner_agency_id: int | None
    action: str
    outcome: str
    target: str | None
    purpose: str | None
    reason: str | None
    grant: str | None
    client: str | None
    details: str  # canonical JSON text of an object
    prev_hash: str


def canonical_time(value: datetime) -> str:
    """``2026-03-01T21:04:05.123456Z``; a naive value is taken as UTC (SQLite returns those)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def encode(fields: Fields | Sequence[Any]) -> bytes:
    """The canonical encoding (see the module docstring); ``details`` is embedded verbatim.

    ``fields`` may also be a stored row: the Fields in order, then anything (the hash).
    Written out flat, because the verifier runs it once per entry.
    """
    (seq, time, user, agency, owner, action, outcome, target, purpose, reason, grant, client,
     details, prev_hash) = fields[:14]  # fmt: skip
    q = _string
    if isinstance(time, str):  # SQLite's text, read as SQLAlchemy reads it
        time = datetime.fromisoformat(time)
    if time.tzinfo is not None:
        time = time.astimezone(UTC).replace(tzinfo=None)
    return (
        f'{{"action":{q(action)},'
        f'"actor_agency_id":{"null" if agency is None else agency},'
        f'"actor_user_id":{"null" if user is None else user},'
        f'"client":{"null" if client is None else q(client)},'
        f'"details":{details},'
        f'"grant":{"null" if grant is None else q(grant)},'
        f'"outcome":{q(outcome)},'
        f'"owner_agency_id":{"null" if owner is None else owner},'
        f'"prev_hash":{q(prev_hash)},'
        f'"purpose":{"null" if purpose is None else q(purpose)},'
        f'"reason":{"null" if reason is None else q(reason)},'
        f'"seq":{seq},'
        f'"target":{"null" if target is None else q(target)},'
        f'"time":"{time.isoformat(timespec="microseconds")}Z"}}'
    ).encode()


def entry_hash(fields: Fields) -> str:
    return hashlib.sha256(encode(fields)).hexdigest()


def reference_encoding(fields: Fields) -> bytes:
    """The same bytes as ``encode``, built the slow and obvious way (for tests and auditors)."""
    data: dict[str, Any] = fields._asdict()
    data["time"] = canonical_time(fields.time)
    data["details"] = json.loads(fields.details)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# -- details -----------------------------------------------------------------------------


def _utf8(value: str) -> str:
    """``value`` with unpaired surrogates (which UTF-8 cannot carry) replaced by U+FFFD."""
    if value.isascii() or _encodable(value):
        return value
    return _SURROGATE.sub("\ufffd", value)


def clean_text(value: str) -> str:
    """``value`` as storable text: NUL (PostgreSQL refuses it) and unpaired surrogates become
    U+FFFD. Inside ``details`` JSON escapes NUL, so there only surrogates are replaced."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    return _utf8(value)


def _plain(value: Any, path: str) -> Any:
    """``value`` as plain JSON data: string keys; dates as ISO text; enums as their value."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"details{path}: {value} is not a finite number")
        return value
    if isinstance(value, str):
        return _utf8(value)
    if isinstance(value, Enum):
        return _plain(value.value, path)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {_utf8(str(k)): _plain(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise ValueError(f"details{path}: {type(value).__name__} is not JSON data")


_FLAT = (str, int, type(None), bool)


def canonical_details(details: Mapping[str, Any]) -> str:
    """The canonical JSON text of ``details`` (which must be a mapping of JSON-like data)."""
    if not isinstance(details, Mapping):
        raise ValueError(f"details: must be a mapping, not {type(details).__name__}")
    if all(type(k) is str and type(v) in _FLAT for k, v in details.items()):
        text = str(_details_encoder.encode(details))  # the usual flat mapping: already plain
        if text.isascii() or _encodable(text):
            return text
    return str(_details_encoder.encode(_plain(details, "")))


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
