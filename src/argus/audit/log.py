"""Appending to the audit log, inside the caller's transaction.

``record(session, event)`` writes one entry in the session's open transaction and returns its
sequence number: a refused change and its entry commit (or roll back) together, and an access is
on record before its first byte when the caller commits before serving it.

Sequence numbers are gapless and strictly increasing. Each append first moves the one-row head
table (``UPDATE audit_head … RETURNING``): on PostgreSQL that row lock makes a concurrent append
wait until this transaction ends, on SQLite the write lock does the same, so two transactions
can neither reuse a number nor fork the chain. Hold the transaction briefly after recording.

There is no update or delete here; the migration adds triggers that refuse both in the
database, and ``argus.audit.verify`` finds changes made by anyone who drops them.

What the other packages put in an event (``argus.audit.events.AuditEvent``):
``target`` is ``"camera:<id>"`` for anything about a camera's video (its owner agency is looked
up and stored with the entry); for other targets put the owning agency's id in
``details["owner_agency_id"]`` when there is one. The keys the PIPA ledger reads from
``details`` are listed in ``argus.audit.ledger``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from argus.audit.chain import Fields, canonical_details, clean_text, entry_hash
from argus.audit.checkpoints import policy_for, sign_checkpoints
from argus.audit.events import AuditEvent, Outcome
from argus.db import utcnow
from argus.registry.models import Camera

ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*")
CAMERA_TARGET = re.compile(r"camera:([0-9]{1,18})")
MAX_ACTION = 80
MAX_TARGET = 200
FIELDS = Fields._fields


class AuditHeadMissing(RuntimeError):
    """There is no head row: nothing can be appended (fail closed) until it is repaired."""


def _optional_text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name}: must be text, not {type(value).__name__}")
    return clean_text(value)


def _optional_id(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: must be an integer id, not {value!r}")
    return value


def _outcome(value: str) -> str:
    try:
        return Outcome(value).value
    except ValueError:
        allowed = ", ".join(o.value for o in Outcome)
        raise ValueError(f"outcome: {value!r} is not one of {allowed}") from None


def _prepared(event: AuditEvent) -> dict[str, Any]:
    """The event's columns (all but seq, time and the hashes), checked and made storable."""
    if not isinstance(event.action, str) or not ACTION.fullmatch(event.action):
        raise ValueError(f"action: {event.action!r} is not a dotted lower-case name")
    if len(event.action) > MAX_ACTION:
        raise ValueError(f"action: longer than {MAX_ACTION} characters")
    target = _optional_text("target", event.target)
    if target is not None and len(target) > MAX_TARGET:
        raise ValueError(f"target: longer than {MAX_TARGET} characters")
    details = canonical_details(event.details)
    owner = event.details.get("owner_agency_id")
    return {
        "actor_user_id": _optional_id("actor_user_id", event.actor_user_id),
        "actor_agency_id": _optional_id("actor_agency_id", event.actor_agency_id),
        "owner_agency_id": _optional_id("details.owner_agency_id", owner),
        "action": event.action,
        "outcome": _outcome(event.outcome),
        "target": target,
        "purpose": _optional_text("purpose", event.purpose),
        "reason": _optional_text("reason", event.reason),
        "grant": _optional_text("grant", event.grant),
        "client": _optional_text("client", event.client),
        "details": details,
    }


_CAMERA = cast(Table, Camera.__table__)
_OWNERS = select(_CAMERA.c.id, _CAMERA.c.owner_id).where(
    _CAMERA.c.id.in_(bindparam("ids", expanding=True))
)
_COLUMNS = (*FIELDS, "hash")
_COLUMN_LIST = ", ".join(f'"{c}"' for c in _COLUMNS)  # quoted: "grant" is a keyword


@dataclass(frozen=True)
class _Statements:
    """The two statements of an append, for one driver's placeholder style.

    They run on the driver's cursor of the session's connection (so in its transaction),
    past SQLAlchemy's statement layer: at one entry per transaction that layer cost as much
    as everything else an append does.
    """

    lock_head: str
    insert: str
    sqlite: bool

    @classmethod
    def of(cls, connection: Connection) -> _Statements:
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        return cls(
            # A no-op UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) before
            # the head is read; the owner of one camera comes back in the same round trip.
            lock_head="UPDATE audit_head SET last_seq = last_seq WHERE id = 1 "
            f"RETURNING last_seq, last_hash, (SELECT owner_id FROM cameras WHERE id = {mark})",
            insert=f"INSERT INTO audit_log ({_COLUMN_LIST}) "
            f"VALUES ({', '.join(mark for _ in _COLUMNS)})",
            sqlite=connection.dialect.name == "sqlite",
        )


_statements: dict[tuple[str, str], _Statements] = {}


def _statements_for(connection: Connection) -> _Statements:
    key = (connection.dialect.name, connection.dialect.paramstyle)
    found = _statements.get(key)
    if found is None:
        found = _statements[key] = _Statements.of(connection)
    return found


def _cameras_without_owner(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    wanted: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        target = row["target"]
        if target and target.startswith("camera:") and row["owner_agency_id"] is None:
            match = CAMERA_TARGET.fullmatch(target)
            if match:
                wanted.setdefault(int(match.group(1)), []).append(row)
    return wanted


def _sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy stores for a UTC time in SQLite (and reads back as the same)."""
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def record(session: Session, event: AuditEvent) -> int:
    """Append ``event`` in the session's transaction; returns its sequence number."""
    return record_many(session, [event])[0]


def record_many(session: Session, events: Sequence[AuditEvent]) -> list[int]:
    """Append several events at once, in order, in the session's transaction.

    The database (migration 0003) accepts an entry only if it extends the chain, and moves
    the head on as each entry is inserted.
    """
    if not events:
        return []
    rows = [_prepared(event) for event in events]
    session.flush()  # the caller's pending changes first: a new camera's owner is then found
    connection = session.connection()
    statements = _statements_for(connection)
    cameras = _cameras_without_owner(rows)
    single = next(iter(cameras)) if len(cameras) == 1 else None
    dbapi_error = connection.dialect.loaded_dbapi.Error
    cursor = connection.connection.cursor()
    statement: str = statements.lock_head
    try:
        cursor.execute(statement, (single,))
        head = cursor.fetchone()
        if head is None:
            raise AuditHeadMissing(
                "the audit log has no head row: the schema was not made with 'argus db "
                "upgrade', or the row was deleted (run 'argus audit verify')"
            )
        last, prev_hash = int(head[0]), str(head[1])
        owners = {single: head[2]} if single is not None else {}
        if len(cameras) > 1:
            owners = dict(connection.execute(_OWNERS, {"ids": list(cameras)}).all())
        for camera_id, camera_rows in cameras.items():
            for row in camera_rows:
                row["owner_agency_id"] = owners.get(camera_id)
        policy = policy_for(session)
        to_sign: list[tuple[int, str]] = []
        values = []
        for seq, row in enumerate(rows, start=last + 1):
            row["seq"] = seq
            row["time"] = now = utcnow()
            row["prev_hash"] = prev_hash
            prev_hash = row["hash"] = entry_hash(Fields._make([row[k] for k in FIELDS]))
            if statements.sqlite:
                row["time"] = _sqlite_time(now)
            values.append(tuple(row[c] for c in _COLUMNS))
            if policy is not None and seq % policy.every == 0:
                to_sign.append((seq, prev_hash))
        statement = statements.insert
        if len(values) == 1:
            cursor.execute(statement, values[0])
        else:
            cursor.executemany(statement, values)
    except dbapi_error as exc:  # as SQLAlchemy would raise it (IntegrityError, OperationalError…)
        raise DBAPIError.instance(
            statement, None, exc, dbapi_error, hide_parameters=True, dialect=connection.dialect
        ) from exc
    finally:
        cursor.close()
    if to_sign and policy is not None:
        sign_checkpoints(session, policy.signer, to_sign)
    return list(range(last + 1, last + 1 + len(rows)))
