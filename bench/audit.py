"""Benchmark of the audit log on SQLite: durable appends, and verify over a million entries.

    python bench/audit.py [--appends 5000] [--full-appends 1000] [--verify-entries 1000000]
                          [--rounds 3] [--dir DIR]

Append: ``record()`` of one realistic access event (a camera target, whose owner is looked up;
a purpose, a grant, a client address, details with a legal basis) in its own transaction,
committed before the next starts: what a live-view request costs. "Durable" means committed with
the database's normal durability: SQLite in WAL mode with synchronous=NORMAL, the default of
argus.db (a commit survives a crash of the process; a power cut may lose the last commits but
never corrupts the file). The same is measured with synchronous=FULL (an fsync per commit:
survives a power cut). Beside each, the baseline measured in the same run: plain inserts of the
same rows, one per transaction, into a table with the same columns and indexes but no hashing,
no head lock and no triggers. Then record_many() with 100 entries per transaction.

Verify: ``verify()`` over --verify-entries entries (written with record_many, a signed
checkpoint every 1,000), beside the baseline of reading the same rows without hashing.
Targets: append >= 5,000 entries/s (synchronous=NORMAL); verify of 1,000,000 entries <= 10 s.
Each figure is the median of --rounds rounds.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, Table, event

import argus.models  # noqa: F401  (every table, for the migrations)
from argus.audit.chain import Fields
from argus.audit.checkpoints import enable_checkpoints
from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record, record_many
from argus.audit.models import AuditEntry
from argus.audit.signing import Signer
from argus.audit.verify import verify
from argus.db import make_engine, make_sessionmaker, transaction, upgrade, utcnow
from argus.registry.models import Agency, Camera, Site

CAMERAS = 200


def access_event(n: int) -> AuditEvent:
    return AuditEvent(
        action="access.live",
        outcome=Outcome.ALLOW,
        actor_user_id=n % 89 + 1,
        actor_agency_id=1,
        target=f"camera:{n % CAMERAS + 1}",
        purpose="crime_prevention",
        reason="agreement 7 allows live 22:00–07:00",
        grant="agreement:7",
        client=f"10.20.{n % 250}.{n % 200 + 1}",
        details={"legal_basis": "개인정보 보호법 제25조 제1항", "capability": "live", "n": n},
    )


def with_synchronous(engine: Engine, mode: str) -> Engine:
    def pragma(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA synchronous={mode}")

    event.listen(engine, "connect", pragma)  # after argus.db's own (NORMAL)
    return engine


def audit_database(path: Path, synchronous: str) -> Engine:
    engine = with_synchronous(make_engine(f"sqlite:///{path}"), synchronous)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        session.add(Agency(id=1, name="광주광역시", kind="city"))
        session.add(Agency(id=2, name="광주광역시 북구", kind="district"))
        session.add(Site(id=1, owner_id=2, lat=35.17, lon=126.91))
        session.add_all(
            Camera(id=i, owner_id=2, site_id=1, lat=35.17, lon=126.91, purpose="교통단속")
            for i in range(1, CAMERAS + 1)
        )
    return engine


def plain_database(path: Path, synchronous: str) -> Engine:
    """The same table and indexes, without the triggers, the head, or hashing."""
    engine = with_synchronous(make_engine(f"sqlite:///{path}"), synchronous)
    cast(Table, AuditEntry.__table__).create(engine)
    return engine


def time_appends(engine: Engine, count: int, start: int) -> float:
    sessions = make_sessionmaker(engine)
    began = time.perf_counter()
    for n in range(start, start + count):
        with transaction(sessions) as session:
            record(session, access_event(n))
    return count / (time.perf_counter() - began)


def time_plain_inserts(engine: Engine, count: int, start: int) -> float:
    """The same rows, inserted the way record() inserts them (the driver's cursor in the
    session's transaction), but with constant hashes: no hashing, no head, no triggers."""
    sessions = make_sessionmaker(engine)
    columns = (*Fields._fields, "hash")
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f"INSERT INTO audit_log ({names}) VALUES ({', '.join('?' for _ in columns)})"
    details = '{"capability":"live","legal_basis":"개인정보 보호법 제25조 제1항"}'
    began = time.perf_counter()
    for n in range(start, start + count):
        e = access_event(n)
        row = (
            n + 1,
            utcnow().replace(tzinfo=None).isoformat(" ", "microseconds"),
            e.actor_user_id,
            e.actor_agency_id,
            2,
            e.action,
            e.outcome.value,
            e.target,
            e.purpose,
            e.reason,
            e.grant,
            e.client,
            details,
            "0" * 64,
            "1" * 64,
        )
        with transaction(sessions) as session:
            cursor = session.connection().connection.cursor()
            cursor.execute(sql, row)
            cursor.close()
    return count / (time.perf_counter() - began)


def time_batches(engine: Engine, count: int, start: int, per_transaction: int) -> float:
    sessions = make_sessionmaker(engine)
    began = time.perf_counter()
    for first in range(start, start + count, per_transaction):
        with transaction(sessions) as session:
            record_many(session, [access_event(n) for n in range(first, first + per_transaction)])
    return count / (time.perf_counter() - began)


def median_of(rounds: int, run: Callable[[int], float]) -> tuple[float, list[float]]:
    results = [run(i) for i in range(rounds)]
    return statistics.median(results), results


def append_figures(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for mode, count in (("NORMAL", args.appends), ("FULL", args.full_appends)):
        audit = audit_database(folder / f"append-{mode}.db", mode)
        plain = plain_database(folder / f"plain-{mode}.db", mode)
        time_appends(audit, 200, 0)  # warm up: compiled statements, page cache
        time_plain_inserts(plain, 200, 0)

        def run_audit(i: int, audit: Engine = audit, count: int = count) -> float:
            return time_appends(audit, count, 1000 + i * count)

        def run_plain(i: int, plain: Engine = plain, count: int = count) -> float:
            return time_plain_inserts(plain, count, 1000 + i * count)

        figures[mode] = {
            "record": median_of(args.rounds, run_audit),
            "plain": median_of(args.rounds, run_plain),
        }
        if mode == "NORMAL":

            def run_batch(i: int, audit: Engine = audit) -> float:
                return time_batches(audit, 20_000, 10**6 + i * 20_000, 100)

            figures["batch"] = median_of(args.rounds, run_batch)
        audit.dispose()
        plain.dispose()
    return figures


def read_all_rows(path: Path) -> float:
    """The baseline of verify: the same rows read with the same cursor, nothing hashed."""
    connection = sqlite3.connect(path)
    began = time.perf_counter()
    after = 0
    while True:
        page = connection.execute(
            "SELECT seq, time, actor_user_id, actor_agency_id, owner_agency_id, action, outcome, "
            'target, purpose, reason, "grant", client, details, prev_hash, hash '
            "FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 20000",
            (after,),
        ).fetchall()
        if not page:
            break
        after = page[-1][0]
    connection.close()
    return time.perf_counter() - began


def verify_figures(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    path = folder / "verify.db"
    engine = audit_database(path, "NORMAL")
    signer = Signer(Ed25519PrivateKey.generate())
    enable_checkpoints(engine, signer, every=1000)
    began = time.perf_counter()
    fill_rate = time_batches(engine, args.verify_entries, 0, 5000)
    fill_s = time.perf_counter() - began
    sessions = make_sessionmaker(engine)
    durations, reports = [], []
    for _ in range(args.rounds):
        with sessions() as session:
            began = time.perf_counter()
            report = verify(session, signer.public_key)
            durations.append(time.perf_counter() - began)
            reports.append(report)
    engine.dispose()
    reads = [read_all_rows(path) for _ in range(args.rounds)]
    return {
        "entries": args.verify_entries,
        "fill_s": fill_s,
        "fill_rate": fill_rate,
        "verify_s": (statistics.median(durations), durations),
        "read_s": (statistics.median(reads), reads),
        "intact": all(r.intact for r in reports),
        "checkpoints": reports[-1].valid_checkpoints,
        "db_mb": path.stat().st_size / 1e6,
    }


def rate(value: float) -> str:
    return f"{value:>9,.0f}/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appends", type=int, default=5000)
    parser.add_argument("--full-appends", type=int, default=1000)
    parser.add_argument("--verify-entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="argus-bench-audit-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}; files in {folder}"
    )
    try:
        appends = append_figures(folder, args)
        print(
            "\nappend, one transaction per entry, SQLite WAL (median of "
            f"{args.rounds} rounds; the rounds)"
        )
        for mode in ("NORMAL", "FULL"):
            ours, base = appends[mode]["record"], appends[mode]["plain"]
            rounds = ", ".join(f"{r:,.0f}" for r in ours[1])
            print(
                f"  synchronous={mode:<6}  record() {rate(ours[0])}  ({rounds})   "
                f"baseline plain insert {rate(base[0])}   ratio {ours[0] / base[0]:.2f}"
            )
        print(f"  record_many(), 100 per transaction (NORMAL): {rate(appends['batch'][0])}")
        checked = verify_figures(folder, args)
        verify_s, read_s = checked["verify_s"][0], checked["read_s"][0]
        print(
            f"\nverify, {checked['entries']:,} entries ({checked['db_mb']:.0f} MB, written in "
            f"{checked['fill_s']:.1f} s at {checked['fill_rate']:,.0f}/s by record_many):"
        )
        print(
            f"  verify() {verify_s:6.2f} s ({checked['entries'] / verify_s:,.0f} entries/s), "
            f"{checked['checkpoints']:,} checkpoints, intact: {checked['intact']};   "
            f"baseline reading the rows alone {read_s:6.2f} s"
        )
        ok = appends["NORMAL"]["record"][0] >= 5000 and (
            verify_s * 1_000_000 / checked["entries"] <= 10
        )
        verdict = "met" if ok else "NOT met"
        print(f"\ntargets (append >= 5,000/s at NORMAL, verify 1,000,000 <= 10 s): {verdict}")
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
