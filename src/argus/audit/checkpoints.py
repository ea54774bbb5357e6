"""Signed checkpoints: an Ed25519 signature over one entry's (seq, hash, time).

The signed message is the UTF-8 of the compact, sorted-key JSON object

    {"hash":"<entry hash>","kind":"argus-audit-checkpoint/1","seq":<seq>,"time":"<UTC time>"}

where ``time`` is when the checkpoint was made (the entry's time format). A checkpoint pins every
entry up to ``seq``: rewriting any of them (even recomputing every later hash) changes the hash
at ``seq``, and only the holder of the private key can sign a new one.

Checkpoints are made every N entries by ``record`` (when the engine has a signer, see
``enable_checkpoints``) and on demand by ``checkpoint_now`` (``argus audit checkpoint``), which
also signs any multiple of N that was appended while no signer was attached.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.orm import Session

from argus.audit.chain import canonical_time
from argus.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from argus.audit.signing import Signer
from argus.db import utcnow

KIND = "argus-audit-checkpoint/1"


def checkpoint_message(seq: int, hash_: str, time: datetime) -> bytes:
    body = {"hash": hash_, "kind": KIND, "seq": seq, "time": canonical_time(time)}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class CheckpointPolicy:
    signer: Signer
    every: int


_policies: weakref.WeakKeyDictionary[Engine, CheckpointPolicy] = weakref.WeakKeyDictionary()


def enable_checkpoints(engine: Engine, signer: Signer, every: int = 1000) -> None:
    """From now on, ``record`` on ``engine`` signs a checkpoint at every multiple of ``every``."""
    if every < 1:
        raise ValueError("every: must be at least 1")
    _policies[engine] = CheckpointPolicy(signer, every)


def disable_checkpoints(engine: Engine) -> None:
    _policies.pop(engine, None)


def policy_for(session: Session) -> CheckpointPolicy | None:
    if not _policies:
        return None
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    return _policies.get(engine)


def sign_checkpoints(session: Session, signer: Signer, entries: list[tuple[int, str]]) -> None:
    """Store a signed checkpoint for each (seq, hash) of ``entries`` in the open transaction."""
    if not entries:
        return
    now = utcnow()
    rows = [
        {
            "seq": seq,
            "hash": hash_,
            "time": now,
            "key_id": signer.key_id,
            "signature": signer.sign(checkpoint_message(seq, hash_, now)),
        }
        for seq, hash_ in entries
    ]
    session.execute(insert(AuditCheckpoint), rows)


def checkpoint_now(session: Session, signer: Signer, every: int) -> list[int]:
    """Sign the newest entry, and every multiple of ``every`` after the newest checkpoint.

    Returns the sequence numbers signed (none when the newest entry is already signed).
    """
    newest_signed = session.scalar(select(func.max(AuditCheckpoint.seq))) or 0
    head = session.scalar(select(AuditHead.last_seq).where(AuditHead.id == 1)) or 0
    wanted = set(range((newest_signed // every + 1) * every, head + 1, every))
    if head > newest_signed:
        wanted.add(head)
    if not wanted:
        return []
    found: list[tuple[int, str]] = []
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 5000):
        chunk = ordered[start : start + 5000]
        stmt = select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.in_(chunk))
        found.extend((int(seq), str(hash_)) for seq, hash_ in session.execute(stmt))
    found.sort()
    sign_checkpoints(session, signer, found)
    return [seq for seq, _ in found]
