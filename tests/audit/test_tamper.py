"""Tampering with the real database, past Argus, is caught by verify and named.

Each test writes a log of 25 entries with signed checkpoints at 10 and 20, drops the
append-only triggers with raw SQL (as a tamperer with database access would), changes the
database the way the test's name says, and checks the first finding: what happened, and where.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from datetime import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.chain import Fields, canonical_details, entry_hash
from argus.audit.checkpoints import checkpoint_message, enable_checkpoints
from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.audit.signing import Signer
from argus.audit.verify import VerifyReport, verify
from argus.db import transaction
from tests.audit.raw import ENTRY_COLUMNS, RawDatabase, as_datetime

ENTRIES = 25
EVERY = 10


@pytest.fixture
def log(engine: Engine, sessions: sessionmaker[Session], signer: Signer, raw: RawDatabase) -> None:
    enable_checkpoints(engine, signer, every=EVERY)
    for n in range(1, ENTRIES + 1):
        with transaction(sessions) as session:
            record(
                session,
                AuditEvent(
                    action="access.playback",
                    outcome=Outcome.ALLOW,
                    actor_user_id=n % 4 + 1,
                    actor_agency_id=1,
                    target=f"camera:{n}",
                    purpose="investigation",
                    reason=f"agreement 3 allows playback ({n})",
                    grant="agreement:3",
                    client="10.0.0.9",
                    details={"case_number": f"2026-{n:04d}"},
                ),
            )
    raw.drop_triggers()


def check(sessions: sessionmaker[Session], signer: Signer) -> VerifyReport:
    with sessions() as session:
        return verify(session, signer.public_key)


def first(report: VerifyReport) -> tuple[str, int | None]:
    assert not report.intact
    return report.findings[0].kind, report.findings[0].seq


def forged_row(
    raw: RawDatabase, seq: int, prev_hash: str, *, honest_hash: bool
) -> dict[str, object]:
    """A made-up entry at ``seq`` linking to ``prev_hash``, hashed correctly if asked to."""
    time = datetime(2026, 1, 1, 3, 0, 0, 123456)
    row: dict[str, object] = {
        "seq": seq,
        "time": time.strftime("%Y-%m-%d %H:%M:%S.%f") if raw.dialect == "sqlite" else time,
        "actor_user_id": 1,
        "actor_agency_id": 1,
        "owner_agency_id": None,
        "action": "access.live",
        "outcome": "allow",
        "target": "camera:1",
        "purpose": "crime_prevention",
        "reason": "an access that never happened",
        "grant": "ownership:1",
        "client": "10.6.6.6",
        "details": canonical_details({}),
        "prev_hash": prev_hash,
        "hash": "f" * 64,
    }
    if honest_hash:
        values = {**row, "time": as_datetime(row["time"])}
        row["hash"] = entry_hash(Fields(**{k: values[k] for k in Fields._fields}))  # type: ignore[arg-type]
    return row


def swap(raw: RawDatabase, a: int, b: int) -> None:
    first_row, second_row = raw.entry(a), raw.entry(b)
    columns = [c for c in ENTRY_COLUMNS if c != "seq"]
    raw.update_entry(a, **{c: second_row[c] for c in columns})
    raw.update_entry(b, **{c: first_row[c] for c in columns})


# -- each kind of tampering --------------------------------------------------------------


def edit_a_field(raw: RawDatabase) -> None:
    raw.update_entry(7, reason="nothing to see here")


def edit_a_field_and_recompute_its_hash(raw: RawDatabase) -> None:
    raw.update_entry(7, reason="nothing to see here")
    row = raw.entry(7)
    row["time"] = as_datetime(row["time"])
    raw.update_entry(7, hash=entry_hash(Fields(**{k: row[k] for k in Fields._fields})))


def edit_the_time(raw: RawDatabase) -> None:
    earlier = datetime(2026, 1, 1, 0, 0, 0, 1)
    raw.update_entry(7, time=str(earlier) if raw.dialect == "sqlite" else earlier)


def edit_the_link(raw: RawDatabase) -> None:
    raw.update_entry(7, prev_hash="0" * 64)


def delete_a_middle_row(raw: RawDatabase) -> None:
    raw.execute("DELETE FROM audit_log WHERE seq = 7")


def delete_a_row_and_renumber_the_rest(raw: RawDatabase) -> None:
    raw.execute("DELETE FROM audit_log WHERE seq = 7")
    raw.renumber_from(8, -1)


def delete_the_first_rows(raw: RawDatabase) -> None:
    raw.execute("DELETE FROM audit_log WHERE seq <= 2")


def insert_a_forged_row_with_an_honest_hash(raw: RawDatabase) -> None:
    previous = raw.entry(6)["hash"]
    raw.renumber_from(7, 1)
    raw.insert_entry(forged_row(raw, 7, str(previous), honest_hash=True))


def insert_a_forged_row_with_a_made_up_hash(raw: RawDatabase) -> None:
    previous = raw.entry(6)["hash"]
    raw.renumber_from(7, 1)
    raw.insert_entry(forged_row(raw, 7, str(previous), honest_hash=False))


def append_a_forged_row_after_the_end(raw: RawDatabase) -> None:
    previous = raw.entry(ENTRIES)["hash"]
    raw.insert_entry(forged_row(raw, ENTRIES + 1, str(previous), honest_hash=True))


def swap_two_rows(raw: RawDatabase) -> None:
    swap(raw, 5, 9)


def swap_neighbouring_rows(raw: RawDatabase) -> None:
    swap(raw, 5, 6)


def truncate_the_tail(raw: RawDatabase) -> None:
    raw.execute("DELETE FROM audit_log WHERE seq >= 23")


def truncate_past_a_checkpoint_and_move_the_head_back(raw: RawDatabase) -> None:
    raw.execute("DELETE FROM audit_log WHERE seq >= 19")
    last = raw.entry(18)["hash"]
    raw.execute("UPDATE audit_head SET last_seq = 18, last_hash = ?", last)


def rewrite_the_chain_after_a_change(raw: RawDatabase) -> None:
    raw.update_entry(7, reason="nothing to see here")
    raw.rehash_from(7)


def forge_a_checkpoint_signature(raw: RawDatabase) -> None:
    forged = base64.b64encode(os.urandom(64)).decode()
    raw.execute("UPDATE audit_checkpoints SET signature = ? WHERE seq = 10", forged)


def move_a_checkpoint_to_another_hash(raw: RawDatabase) -> None:
    raw.execute("UPDATE audit_checkpoints SET hash = ? WHERE seq = 10", "a" * 64)


def sign_a_checkpoint_with_another_key(raw: RawDatabase) -> None:
    other = Signer(Ed25519PrivateKey.generate())
    (seq, hash_, made), *_ = raw.execute(
        "SELECT seq, hash, time FROM audit_checkpoints WHERE seq = 20"
    )
    signature = other.sign(checkpoint_message(seq, hash_, as_datetime(made)))
    raw.execute(
        "UPDATE audit_checkpoints SET signature = ?, key_id = ? WHERE seq = 20",
        signature,
        other.key_id,
    )


def delete_the_head(raw: RawDatabase) -> None:
    raw.execute("DELETE FROM audit_head")


CASES: list[tuple[Callable[[RawDatabase], None], str, int | None]] = [
    (edit_a_field, "edited", 7),
    (edit_a_field_and_recompute_its_hash, "edited", 7),
    (edit_the_time, "edited", 7),
    (edit_the_link, "edited", 7),
    (delete_a_middle_row, "deleted", 7),
    (delete_a_row_and_renumber_the_rest, "deleted", 7),
    (delete_the_first_rows, "deleted", 1),
    (insert_a_forged_row_with_an_honest_hash, "inserted", 7),
    (insert_a_forged_row_with_a_made_up_hash, "inserted", 7),
    (append_a_forged_row_after_the_end, "inserted", ENTRIES + 1),
    (swap_two_rows, "reordered", 5),
    (swap_neighbouring_rows, "reordered", 5),
    (truncate_the_tail, "truncated", 23),
    (truncate_past_a_checkpoint_and_move_the_head_back, "truncated", 20),
    (rewrite_the_chain_after_a_change, "rewritten", 10),
    (forge_a_checkpoint_signature, "checkpoint", 10),
    (move_a_checkpoint_to_another_hash, "checkpoint", 10),
    (sign_a_checkpoint_with_another_key, "checkpoint", 20),
    (delete_the_head, "head", None),
]


@pytest.mark.usefixtures("log")
@pytest.mark.parametrize(("tamper", "kind", "seq"), CASES, ids=[case[0].__name__ for case in CASES])
def test_tampering_is_caught_and_named(
    sessions: sessionmaker[Session],
    signer: Signer,
    raw: RawDatabase,
    tamper: Callable[[RawDatabase], None],
    kind: str,
    seq: int | None,
) -> None:
    tamper(raw)
    report = check(sessions, signer)
    assert first(report) == (kind, seq), report.lines()
    assert all(line.strip() for line in report.lines())


@pytest.mark.usefixtures("log")
def test_an_untouched_log_is_intact_even_without_its_triggers(
    sessions: sessionmaker[Session], signer: Signer
) -> None:
    report = check(sessions, signer)
    assert report.intact, report.lines()
    assert (report.entries, report.checkpoints, report.valid_checkpoints) == (ENTRIES, 2, 2)
    assert report.head_seq == ENTRIES


@pytest.mark.usefixtures("log")
def test_the_messages_say_what_happened(
    sessions: sessionmaker[Session], signer: Signer, raw: RawDatabase
) -> None:
    delete_a_middle_row(raw)
    report = check(sessions, signer)
    assert report.findings[0].line() == "deleted: entry 7 was deleted (entry 8 follows entry 6)"
    assert "NOT intact" in report.summary()


@pytest.mark.usefixtures("log")
@pytest.mark.parametrize(
    ("column", "value"), [("time", "yesterday"), ("time", 12), ("actor_user_id", "x")]
)
def test_values_no_entry_can_hold_are_reported_not_crashed_on(
    sessions: sessionmaker[Session],
    signer: Signer,
    raw: RawDatabase,
    column: str,
    value: object,
) -> None:
    if raw.dialect != "sqlite":
        pytest.skip("only SQLite stores a value of the wrong type")
    raw.update_entry(7, **{column: value})
    assert first(check(sessions, signer)) == ("edited", 7)
