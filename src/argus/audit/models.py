"""Tables of the audit package: the chained entries, their head, and the signed checkpoints.

No foreign keys on purpose: an entry outlives the user, agency or camera it names, and the
log must stay readable (and verifiable) whatever happens to the rest of the schema.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from argus.db import Base

# BIGINT on PostgreSQL; on SQLite plain INTEGER, so that the sequence is the rowid.
Seq = BigInteger().with_variant(Integer(), "sqlite")

OUTCOMES = ("allow", "deny", "ok", "error")


class AuditEntry(Base):
    """One event of the log; ``hash`` chains it to the entry before (see argus.audit.chain)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=False)
    time: Mapped[datetime] = mapped_column(index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_agency_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # The agency that owns the target (a camera's owner): whose ledger the entry belongs to.
    owner_agency_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    outcome: Mapped[str] = mapped_column(String(10))
    target: Mapped[str | None] = mapped_column(String(200), index=True)
    purpose: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    grant: Mapped[str | None] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(Text)
    # Canonical JSON text (sorted keys, compact): stored exactly as it was hashed.
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("outcome in ('allow','deny','ok','error')", name="outcome"),)


class AuditHead(Base):
    """One row (id 1): the newest entry's sequence number and hash.

    Appends lock this row, which serialises them; verify compares it with the last entry to
    notice entries removed from the end.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Seq)
    last_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class AuditCheckpoint(Base):
    """An Ed25519 signature over (seq, hash, time) of one entry (argus.audit.checkpoints)."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime] = mapped_column()
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(100))  # base64 of the 64-byte signature
