"""Verify the audit log: walk the chain, check the signed checkpoints and the head.

What is found, and how it is named:

- **edited**: an entry's contents no longer give its hash (or its hash was recomputed, so the
  next entry no longer links to it);
- **deleted**: sequence numbers are missing, or an entry links to a hash that is nowhere in the
  log and its contents hash under a later number (the rest were renumbered);
- **inserted**: the entry after it links over it to the entry before, or entries hash under
  earlier numbers than they hold (the rest were renumbered), or entries follow the head;
- **reordered**: an entry links to a hash that is elsewhere in the log (moved or swapped);
- **rewritten**: the chain is consistent but differs from a signed checkpoint (someone
  recomputed every hash after a change);
- **truncated**: entries are missing from the end (the head, or a checkpoint, names more);
- **checkpoint**: a checkpoint's signature does not verify with the public key, or it was made
  by another key;
- **head**: the head row is missing or disagrees with the last entry.

After the first finding the walk goes on (re-synchronising where it can) so that later,
independent damage is reported too; the first finding is the one to act on.

Limits (inherent to a hash chain with periodic signatures, so keep N small and keep copies of
checkpoints): someone who can write the database and recomputes every hash after the newest
checkpoint, and moves the head row to match, leaves entries after that checkpoint without a
trace; entries up to it cannot be changed without the private key. Deleting a checkpoint row
is not itself visible; it only leaves fewer entries pinned.
"""

from __future__ import annotations

import hashlib
import time as clock
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from argus.audit.chain import GENESIS, Fields, encode, entry_hash
from argus.audit.checkpoints import checkpoint_message
from argus.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from argus.audit.signing import key_id, signature_valid

SEQ, PREV, HASH = 0, 13, 14  # positions in a stored row: the Fields, then the hash
PAGE = 20_000
RENUMBER_WINDOW = 1000  # how far from its number an entry's original number is searched
MAX_FINDINGS = 20


@dataclass(frozen=True)
class Finding:
    kind: str  # edited | deleted | inserted | reordered | rewritten | truncated | checkpoint | head
    seq: int | None
    message: str

    def line(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass
class VerifyReport:
    entries: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    head_seq: int | None = None
    checkpoints: int = 0
    valid_checkpoints: int = 0
    key_id: str = ""
    findings: list[Finding] = field(default_factory=list)
    more_findings: int = 0  # further problems past MAX_FINDINGS, counted only
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        span = f"entries {self.first_seq}–{self.last_seq}" if self.entries else "no entries"
        state = "intact" if self.intact else f"NOT intact ({len(self.findings)} finding(s))"
        return (
            f"audit log {state}: {self.entries} entries ({span}), "
            f"{self.valid_checkpoints}/{self.checkpoints} checkpoints verified "
            f"with key {self.key_id}, in {self.seconds:.2f} s"
        )

    def lines(self) -> list[str]:
        lines = [finding.line() for finding in self.findings]
        if self.more_findings:
            lines.append(f"… and {self.more_findings} further problem(s)")
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "entries": self.entries,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "head_seq": self.head_seq,
            "checkpoints": self.checkpoints,
            "valid_checkpoints": self.valid_checkpoints,
            "key_id": self.key_id,
            "findings": [
                {"kind": f.kind, "seq": f.seq, "message": f.message} for f in self.findings
            ],
            "more_findings": self.more_findings,
            "seconds": round(self.seconds, 3),
            "summary": self.summary(),
        }


def _hash_as(row: Sequence[Any], seq: int) -> str:
    """The hash of ``row``'s contents numbered ``seq``; "" for values no entry can hold
    (text where a number belongs, an unreadable time: only raw SQL puts them there)."""
    try:
        return entry_hash(Fields._make(row[:HASH])._replace(seq=seq))
    except (TypeError, ValueError, AttributeError):
        return ""


def _fast_hash(row: Sequence[Any]) -> str:
    try:
        return hashlib.sha256(encode(row)).hexdigest()
    except (TypeError, ValueError, AttributeError):
        return ""


def _entries(count: int, first: int, last: int) -> str:
    return f"entry {first}" if count == 1 else f"entries {first}–{last}"


class ChainWalk:
    """Feed stored rows in sequence order; collects findings about the chain and checkpoints."""

    def __init__(
        self,
        report: VerifyReport,
        checkpoints: dict[int, str],
        find_seq_by_hash: Callable[[str], int | None],
    ) -> None:
        self.report = report
        self.checkpoints = checkpoints  # seq -> hash, of checkpoints whose signature verified
        self.find_seq_by_hash = find_seq_by_hash
        self.pending: Sequence[Any] | None = None
        self.prev_seq = 0
        self.prev_hash = GENESIS
        self.prev_link = GENESIS  # the hash the previous entry links to
        self.shift = 0  # original number minus stored number, after a renumbering
        self.displaced: dict[int, int] = {}  # original number -> where a reordered entry is
        self.rewritten = False
        self.last_checkpoint = 0
        self.last_hash: str | None = None
        self.seen_checkpoints: set[int] = set()

    # -- feeding -------------------------------------------------------------------------

    def feed_all(self, rows: Iterable[Sequence[Any]]) -> None:
        report = self.report
        for row in rows:
            pending = self.pending
            self.pending = row
            if pending is None:
                if report.first_seq is None:
                    report.first_seq = row[SEQ]
                continue
            seq = pending[SEQ]
            if (
                seq == self.prev_seq + 1
                and pending[PREV] == self.prev_hash
                and not self.shift
                and seq not in self.checkpoints
                and _fast_hash(pending) == pending[HASH]
            ):  # the common case, inline
                report.entries += 1
                self.prev_link, self.prev_hash, self.prev_seq = self.prev_hash, pending[HASH], seq
                continue
            self._step(pending, row)

    def finish(self) -> None:
        if self.pending is not None:
            self._step(self.pending, None)
            self.pending = None

    # -- one entry -----------------------------------------------------------------------

    def _add(self, kind: str, seq: int | None, message: str) -> None:
        if len(self.report.findings) < MAX_FINDINGS:
            self.report.findings.append(Finding(kind, seq, message))
        else:
            self.report.more_findings += 1

    def _original_seq(self, row: Sequence[Any]) -> int | None:
        """The number ``row`` was hashed under, near its own (after a renumbering)."""
        base = int(row[SEQ]) + self.shift
        for distance in range(1, RENUMBER_WINDOW + 1):
            for candidate in (base + distance, base - distance):
                if candidate >= 1 and _hash_as(row, candidate) == row[HASH]:
                    return candidate
        return None

    def _step(self, row: Sequence[Any], after: Sequence[Any] | None) -> None:
        report = self.report
        report.entries += 1
        seq = row[SEQ]
        expected = self.prev_seq + 1
        link_ok = row[PREV] == self.prev_hash
        content_ok = _hash_as(row, seq + self.shift) == row[HASH]
        link_to = row[HASH]  # the hash the following entry should link to
        if seq != expected:
            self._gap(seq, expected)
        elif not (link_ok and content_ok):
            link_to = self._diagnose(row, after, link_ok, content_ok)
        self._check_checkpoint(seq + self.shift, row[HASH])
        self.prev_link, self.prev_hash, self.prev_seq = self.prev_hash, link_to, seq
        self.last_hash = row[HASH]
        report.last_seq = seq

    def _gap(self, seq: int, expected: int) -> None:
        missing = seq - expected
        where = (
            f"entry {seq} follows entry {self.prev_seq}"
            if self.prev_seq
            else f"the log starts at entry {seq}"
        )
        self._add(
            "deleted",
            expected,
            f"{_entries(missing, expected, seq - 1)} "
            f"{'was' if missing == 1 else 'were'} deleted ({where})",
        )

    def _diagnose(
        self, row: Sequence[Any], after: Sequence[Any] | None, link_ok: bool, content_ok: bool
    ) -> str:
        """Name what happened at ``row`` (numbered in sequence, but not chaining); returns the
        hash the next entry should link to."""
        seq = row[SEQ]
        resync = str(after[PREV] if after is not None else row[HASH])
        if self.displaced and self.displaced.get(seq) == self._original_seq(row):
            return resync  # the other half of a reordering already reported
        links_past = after is not None and after[PREV] == self.prev_hash
        if links_past and link_ok:
            self._inserted(seq, after)
            return str(self.prev_hash)  # the chain goes on from the entry before
        if link_ok:
            self._edited_in_place(row)
        elif self.prev_seq and row[PREV] == self.prev_link:
            self._add(
                "inserted",
                self.prev_seq,
                f"entry {self.prev_seq} was inserted: entry {seq} links past it to "
                + (f"entry {self.prev_seq - 1}" if self.prev_seq > 1 else "the start of the log"),
            )
            if not content_ok and (original := self._original_seq(row)) is not None:
                self.shift = original - seq
        elif self._moved(row):
            return resync  # go on from what the next entry links to
        elif links_past:
            self._inserted(seq, after)
            return str(self.prev_hash)
        else:
            self._broken_link(row, content_ok)
        return str(row[HASH])

    def _inserted(self, seq: int, after: Sequence[Any] | None) -> None:
        assert after is not None
        before = f"entry {self.prev_seq}" if self.prev_seq else "the start of the log"
        self._add(
            "inserted",
            seq,
            f"entry {seq} was inserted: entry {after[SEQ]} links past it to {before}",
        )

    def _edited_in_place(self, row: Sequence[Any]) -> None:
        """``row`` links correctly but its contents do not give its hash."""
        seq = row[SEQ]
        original = self._original_seq(row)
        if original is None:
            self._add(
                "edited", seq, f"entry {seq} was edited: its contents no longer match its hash"
            )
            return
        if not self.report.findings:
            self._add("edited", seq, f"entry {seq} was edited: its number was {original}")
        self.shift = original - seq  # or renumbered along with an earlier finding

    def _moved(self, row: Sequence[Any]) -> bool:
        """Whether ``row`` links to an entry elsewhere in the log (reported as reordered)."""
        elsewhere = self.find_seq_by_hash(row[PREV])
        if elsewhere is None or elsewhere == self.prev_seq:
            return False
        seq = row[SEQ]
        original = self._original_seq(row)
        if original is None:
            held = f"contents that belong after the entry now at {elsewhere}"
        else:
            held = f"the contents of entry {original}"
            self.displaced[original] = seq
        self._add("reordered", seq, f"entry {seq} holds {held}: entries were reordered")
        return True

    def _broken_link(self, row: Sequence[Any], content_ok: bool) -> None:
        """``row`` links to a hash that is nowhere in the log."""
        seq = row[SEQ]
        if content_ok:
            self._add(
                "edited",
                self.prev_seq,
                f"entry {self.prev_seq} was edited and its hash recomputed: entry {seq} "
                "still links to the original",
            )
            return
        original = self._original_seq(row)
        stored = seq + self.shift
        if original is not None and original > stored:
            gone = original - stored
            self._add(
                "deleted",
                seq,
                f"{gone} {'entry was' if gone == 1 else 'entries were'} deleted before entry "
                f"{seq} and the later ones renumbered (entry {seq} was entry {original})",
            )
            self.shift = original - seq
        elif original is not None:
            added = stored - original
            self._add(
                "inserted",
                original,
                f"{added} {'entry was' if added == 1 else 'entries were'} inserted before entry "
                f"{seq} and the later ones renumbered (entry {seq} was entry {original})",
            )
            self.shift = original - seq
        else:
            self._add(
                "edited",
                seq,
                f"entry {seq} was edited: neither its link to entry {self.prev_seq} "
                "nor its contents match",
            )

    def _check_checkpoint(self, seq: int, hash_: str) -> None:
        signed = self.checkpoints.get(seq)
        if signed is None:
            return
        self.seen_checkpoints.add(seq)
        if signed != hash_ and not self.rewritten:
            self.rewritten = True  # later checkpoints differ as a consequence
            self._add(
                "rewritten",
                seq,
                f"entry {seq} differs from its signed checkpoint: the log was rewritten between "
                f"entries {self.last_checkpoint + 1} and {seq}",
            )
        self.last_checkpoint = seq


# -- the database ------------------------------------------------------------------------


_COLUMN_LIST = ", ".join(f'"{name}"' for name in (*Fields._fields, "hash"))


def _rows(session: Session) -> Iterable[Sequence[Any]]:
    """Every stored entry in sequence order, a page at a time.

    Read with the driver's own cursor, past SQLAlchemy's result layer, which would cost as
    much as the hashing. SQLite hands the time over as text; ``encode`` reads it with
    ``datetime.fromisoformat``, as SQLAlchemy does, so it sees the value the application sees.
    """
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = f"SELECT {_COLUMN_LIST} FROM audit_log WHERE seq > {mark} ORDER BY seq LIMIT {PAGE}"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        after = 0
        while True:
            cursor.execute(sql, (after,))
            page = cursor.fetchall()
            if not page:
                return
            yield from page
            after = page[-1][SEQ]
    finally:
        cursor.close()


def _check_signatures(
    session: Session, public_key: Ed25519PublicKey, report: VerifyReport
) -> dict[int, str]:
    expected_key = key_id(public_key)
    report.key_id = expected_key
    valid: dict[int, str] = {}
    stmt = select(
        AuditCheckpoint.seq,
        AuditCheckpoint.hash,
        AuditCheckpoint.time,
        AuditCheckpoint.key_id,
        AuditCheckpoint.signature,
    ).order_by(AuditCheckpoint.seq)
    for seq, hash_, made, signer, signature in session.execute(stmt):
        report.checkpoints += 1
        if signer != expected_key:
            report.findings.append(
                Finding(
                    "checkpoint",
                    seq,
                    f"checkpoint {seq} was signed by key {signer}, not by the given key "
                    f"{expected_key}",
                )
            )
        elif not signature_valid(public_key, checkpoint_message(seq, hash_, made), signature):
            report.findings.append(
                Finding(
                    "checkpoint",
                    seq,
                    f"checkpoint {seq}: the signature does not verify (forged or altered)",
                )
            )
        else:
            report.valid_checkpoints += 1
            valid[seq] = hash_
    return valid


def _check_tail(session: Session, walk: ChainWalk, report: VerifyReport) -> None:
    head = session.execute(select(AuditHead.last_seq, AuditHead.last_hash)).first()
    last = (report.last_seq or 0) + walk.shift  # in the original numbering
    if head is None:
        if report.entries:
            walk._add("head", None, "the head row is missing (deleted)")
        return
    head_seq, head_hash = int(head[0]), str(head[1])
    report.head_seq = head_seq
    if last < head_seq:
        walk._add(
            "truncated",
            last + 1,
            f"{_entries(head_seq - last, last + 1, head_seq)} "
            f"{'was' if head_seq - last == 1 else 'were'} removed from the end "
            f"(the head records {head_seq})",
        )
    elif last > head_seq:
        walk._add(
            "inserted",
            head_seq + 1,
            f"{_entries(last - head_seq, head_seq + 1, last)} "
            f"{'follows' if last - head_seq == 1 else 'follow'} the head (entry {head_seq}): "
            "appended outside Argus",
        )
    elif last and walk.last_hash != head_hash:
        walk._add("head", last, f"the last entry {last} does not have the hash the head records")
    for seq in sorted(set(walk.checkpoints) - walk.seen_checkpoints):
        if seq > last:
            walk._add(
                "truncated",
                seq,
                f"checkpoint {seq} signs an entry beyond the last one ({last}): "
                "the log was truncated",
            )
        else:
            walk._add("deleted", seq, f"checkpoint {seq} signs an entry that is missing")


@contextmanager
def _snapshot(session: Session) -> Iterator[None]:
    """Read one consistent state of the log, however many entries are appended meanwhile.

    PostgreSQL: a REPEATABLE READ transaction (when the session has none open yet). SQLite: an
    explicit read transaction, which WAL keeps at the state of its first read (the driver opens
    none for plain SELECTs).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        if not session.in_transaction():
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield
        return
    driver = session.connection().connection.driver_connection
    opened = dialect == "sqlite" and not driver.in_transaction  # type: ignore[union-attr]
    if opened:
        driver.execute("BEGIN")  # type: ignore[union-attr]
    try:
        yield
    finally:
        if opened:
            driver.rollback()  # type: ignore[union-attr]


def verify(session: Session, public_key: Ed25519PublicKey) -> VerifyReport:
    """Walk the whole log in ``session`` and check every checkpoint against ``public_key``.

    Give it a session with no transaction open: it reads one consistent state of the log.
    """
    started = clock.perf_counter()
    report = VerifyReport()
    with _snapshot(session):
        checkpoints = _check_signatures(session, public_key, report)
        signature_findings = report.findings
        report.findings = []

        def find_seq_by_hash(hash_: str) -> int | None:
            stmt = select(AuditEntry.seq).where(AuditEntry.hash == hash_).limit(1)
            found = session.scalar(stmt)
            return None if found is None else int(found)

        walk = ChainWalk(report, checkpoints, find_seq_by_hash)
        walk.feed_all(_rows(session))
        walk.finish()
        _check_tail(session, walk, report)
    report.findings.extend(signature_findings)
    report.seconds = clock.perf_counter() - started
    return report
