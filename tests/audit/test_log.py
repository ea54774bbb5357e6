"""Appending: gapless numbers, one chain under concurrency, atomic with the caller, append-only."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.chain import GENESIS, Fields, entry_hash
from argus.audit.checkpoints import checkpoint_message, checkpoint_now, enable_checkpoints
from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record, record_many
from argus.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from argus.audit.signing import Signer, signature_valid
from argus.audit.verify import verify
from argus.db import alembic_config, transaction, upgrade
from argus.registry.models import Camera
from tests.audit.conftest import World
from tests.audit.raw import RawDatabase


def event(n: int = 0, **changes: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "action": "agreement.accept",
        "outcome": Outcome.OK,
        "actor_user_id": 4,
        "actor_agency_id": 2,
        "target": f"agreement:{n}",
        "reason": f"change {n}",
        "client": "10.1.2.3",
        "details": {"n": n},
    }
    values.update(changes)
    return AuditEvent(**values)


def entries(sessions: sessionmaker[Session]) -> list[AuditEntry]:
    with sessions() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def fields_of(entry: AuditEntry) -> Fields:
    return Fields(**{name: getattr(entry, name) for name in Fields._fields})


def test_entries_are_numbered_without_gaps_and_chained(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        first = record(session, event(1))
    with transaction(sessions) as session:
        more = record_many(session, [event(2), event(3), event(4)])
    assert [first, *more] == [1, 2, 3, 4]
    stored = entries(sessions)
    assert [e.seq for e in stored] == [1, 2, 3, 4]
    previous = GENESIS
    for entry in stored:
        assert entry.prev_hash == previous
        assert entry.hash == entry_hash(fields_of(entry))
        previous = entry.hash
    with sessions() as session:
        head = session.get(AuditHead, 1)
        assert head is not None and (head.last_seq, head.last_hash) == (4, previous)
    assert stored[0].details == '{"n":1}'
    assert stored[0].actor_user_id == 4 and stored[0].client == "10.1.2.3"


def test_an_entry_commits_or_rolls_back_with_the_callers_change(
    sessions: sessionmaker[Session],
) -> None:
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        record(session, event(1))
        raise RuntimeError("the change failed after it was audited")
    assert entries(sessions) == []
    with transaction(sessions) as session:
        assert record(session, event(2)) == 1  # the number was not used up


def test_a_camera_target_is_filed_under_its_owner(
    sessions: sessionmaker[Session], world: World
) -> None:
    with transaction(sessions) as session:
        record(session, event(target=f"camera:{world.buk_camera}", actor_agency_id=world.city))
        record_many(
            session,
            [
                event(target=f"camera:{world.dong_camera}"),
                event(target=f"camera:{world.buk_camera}"),
                event(target="agreement:9", details={"owner_agency_id": world.dong}),
                event(target="camera:999999"),
            ],
        )
    owners = [e.owner_agency_id for e in entries(sessions) if e.action == "agreement.accept"]
    assert owners == [world.buk, world.dong, world.buk, world.dong, None]


def test_a_camera_added_in_the_same_transaction_is_filed_under_its_owner(
    sessions: sessionmaker[Session], world: World
) -> None:
    with transaction(sessions) as session:
        site = session.get(Camera, world.dong_camera).site_id  # type: ignore[union-attr]
        session.add(Camera(id=777, owner_id=world.dong, site_id=site, lat=35.1, lon=126.9,
                           purpose="생활방범"))  # fmt: skip
        record(session, event(target="camera:777"))
    assert [e.owner_agency_id for e in entries(sessions)] == [world.dong]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"action": "Access Live"}, "action"),
        ({"action": "access." + "x" * 80}, "action"),
        ({"target": "camera:" + "9" * 300}, "target"),
        ({"actor_user_id": "5"}, "actor_user_id"),
        ({"details": {"when": object()}}, "details.when"),
        ({"details": {"owner_agency_id": "two"}}, "details.owner_agency_id"),
        ({"outcome": "maybe"}, "outcome"),
    ],
)
def test_a_malformed_event_is_refused_and_nothing_is_written(
    sessions: sessionmaker[Session], changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=field), transaction(sessions) as session:
        record(session, event(**changes))
    assert entries(sessions) == []


def test_text_is_stored_as_given_except_what_the_database_cannot_hold(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        record(session, event(reason="nul\x00 and 한글 and \ud800", purpose="수사"))
    (stored,) = entries(sessions)
    assert stored.reason == "nul\ufffd and 한글 and \ufffd"
    assert stored.purpose == "수사"
    assert stored.hash == entry_hash(fields_of(stored))


def test_concurrent_appends_never_fork_the_chain_or_reuse_a_number(
    engine: Engine, sessions: sessionmaker[Session], signer: Signer
) -> None:
    def append(worker: int) -> list[int]:
        numbers = []
        for i in range(25):
            with transaction(sessions) as session:
                numbers.append(record(session, event(worker * 100 + i)))
        return numbers

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(append, range(6)))
    numbers = sorted(n for result in results for n in result)
    assert numbers == list(range(1, 151))
    with sessions() as session:
        report = verify(session, signer.public_key)
    assert report.intact, report.lines()
    assert report.entries == 150


def test_a_second_append_waits_for_the_first_transaction(sessions: sessionmaker[Session]) -> None:
    first_recorded = threading.Event()
    finished: dict[str, float] = {}

    def slow_first() -> int:
        with transaction(sessions) as session:
            seq = record(session, event(1))
            first_recorded.set()
            time.sleep(0.5)  # holds the head until it commits
            finished["first"] = time.monotonic()
        return seq

    def second() -> int:
        first_recorded.wait(5)
        with transaction(sessions) as session:
            seq = record(session, event(2))
        finished["second"] = time.monotonic()
        return seq

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(slow_first), pool.submit(second)
        assert (a.result(), b.result()) == (1, 2)
    assert finished["second"] >= finished["first"]


def test_checkpoints_are_signed_every_n_entries(
    engine: Engine, sessions: sessionmaker[Session], signer: Signer
) -> None:
    enable_checkpoints(engine, signer, every=5)
    for n in range(7):
        with transaction(sessions) as session:
            record(session, event(n))
    with transaction(sessions) as session:
        record_many(session, [event(n) for n in range(7, 12)])
    with sessions() as session:
        checkpoints = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)))
        hashes = dict(session.execute(select(AuditEntry.seq, AuditEntry.hash)).all())
    assert [c.seq for c in checkpoints] == [5, 10]
    for checkpoint in checkpoints:
        assert checkpoint.hash == hashes[checkpoint.seq]
        assert checkpoint.key_id == signer.key_id
        message = checkpoint_message(checkpoint.seq, checkpoint.hash, checkpoint.time)
        assert signature_valid(signer.public_key, message, checkpoint.signature)


def test_a_checkpoint_on_demand_signs_the_newest_entry_and_missed_ones(
    sessions: sessionmaker[Session], signer: Signer
) -> None:
    with transaction(sessions) as session:
        record_many(session, [event(n) for n in range(23)])  # no signer attached: none signed
    with transaction(sessions) as session:
        assert checkpoint_now(session, signer, every=10) == [10, 20, 23]
    with transaction(sessions) as session:
        assert checkpoint_now(session, signer, every=10) == []
        record(session, event(24))
    with transaction(sessions) as session:
        assert checkpoint_now(session, signer, every=10) == [24]


# -- the database refuses changes --------------------------------------------------------

REFUSED = [
    "UPDATE audit_log SET reason = 'nothing happened' WHERE seq = 1",
    "DELETE FROM audit_log WHERE seq = 2",
    "DELETE FROM audit_log",
    "UPDATE audit_checkpoints SET signature = 'AAAA'",
    "DELETE FROM audit_checkpoints",
    "DELETE FROM audit_head",
    "UPDATE audit_head SET last_seq = 1",
    "UPDATE audit_head SET last_hash = '" + "f" * 64 + "'",
    "INSERT INTO audit_log (seq, time, action, outcome, details, prev_hash, hash) "
    "VALUES (9, '2026-01-01 00:00:00', 'forged.entry', 'ok', '{}', '" + GENESIS + "', 'x')",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_the_database_refuses_to_change_the_log(
    engine: Engine, sessions: sessionmaker[Session], signer: Signer, statement: str
) -> None:
    with transaction(sessions) as session:
        record_many(session, [event(1), event(2), event(3)])
        checkpoint_now(session, signer, every=1000)
    refused = r"append-only|moves forward|cannot be deleted|extend"
    with pytest.raises(DBAPIError, match=refused), engine.begin() as connection:
        connection.execute(text(statement))
    with sessions() as session:
        assert verify(session, signer.public_key).intact


def test_postgresql_refuses_truncate(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    for table in ("audit_log", "audit_checkpoints", "audit_head"):
        refused = r"append-only|moves forward"
        with pytest.raises(DBAPIError, match=refused), engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {table}"))


def test_appends_stop_when_the_head_row_is_gone(
    sessions: sessionmaker[Session], raw: RawDatabase
) -> None:
    with transaction(sessions) as session:
        record(session, event(1))
    raw.drop_triggers()
    raw.execute("DELETE FROM audit_head")
    with pytest.raises(RuntimeError, match="no head row"), transaction(sessions) as session:
        record(session, event(2))


def test_a_head_moved_back_behind_argus_makes_appends_fail_not_fork(
    sessions: sessionmaker[Session], raw: RawDatabase
) -> None:
    with transaction(sessions) as session:
        record_many(session, [event(1), event(2)])
    raw.drop_triggers()
    raw.execute("UPDATE audit_head SET last_seq = 1")
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        record(session, event(3))  # would be a second entry 2
    assert [e.seq for e in entries(sessions)] == [1, 2]


def test_the_trigger_migration_goes_down_and_up_keeping_the_chain(
    engine: Engine, sessions: sessionmaker[Session], signer: Signer
) -> None:
    with transaction(sessions) as session:
        record_many(session, [event(1), event(2)])
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    with engine.begin() as connection:  # no triggers now
        connection.execute(text("UPDATE audit_log SET reason = 'x' WHERE seq = 3"))
    upgrade(engine)
    with transaction(sessions) as session:
        assert record(session, event(3)) == 3
    with sessions() as session:
        assert verify(session, signer.public_key).intact
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log"))


def test_verify_reads_one_consistent_state_while_entries_are_appended(
    sessions: sessionmaker[Session], signer: Signer
) -> None:
    with transaction(sessions) as session:
        record_many(session, [event(n) for n in range(300)])
    stop = threading.Event()

    def append_meanwhile() -> int:
        count = 0
        while not stop.is_set():
            with transaction(sessions) as session:
                record(session, event(count))
            count += 1
        return count

    with ThreadPoolExecutor(max_workers=1) as pool:
        writer = pool.submit(append_meanwhile)
        try:
            reports = []
            for _ in range(25):
                with sessions() as session:
                    reports.append(verify(session, signer.public_key))
        finally:
            stop.set()
        assert writer.result() > 0
    assert [r.lines() for r in reports if not r.intact] == []
