"""Raw SQL on the test database, with no Argus code in between (for tampering with it)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from argus.audit.chain import Fields, entry_hash

ENTRY_COLUMNS = (*Fields._fields, "hash")


@dataclass
class RawDatabase:
    connection: Any  # sqlite3.Connection or psycopg.Connection
    dialect: str

    @classmethod
    def connect(cls, url: str) -> RawDatabase:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            assert parsed.database
            return cls(sqlite3.connect(parsed.database, isolation_level=None), "sqlite")
        plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        return cls(psycopg.connect(plain, autocommit=True), "postgresql")

    def close(self) -> None:
        self.connection.close()

    def execute(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
            cursor = self.connection.execute(sql, params or None)  # no params: % is literal
        else:
            cursor = self.connection.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
        return [tuple(row) for row in rows]

    def drop_triggers(self) -> None:
        """What a tamperer does first: remove the append-only triggers."""
        if self.dialect == "sqlite":
            names = self.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (name,) in names:
                self.execute(f"DROP TRIGGER {name}")
            return
        rows = self.execute(
            "SELECT tgname, relname FROM pg_trigger JOIN pg_class ON pg_class.oid = tgrelid "
            "WHERE NOT tgisinternal AND relname LIKE 'audit%'"
        )
        for name, table in rows:
            self.execute(f"DROP TRIGGER {name} ON {table}")

    # -- rows ------------------------------------------------------------------------------

    def entry(self, seq: int) -> dict[str, Any]:
        columns = ", ".join(f'"{c}"' for c in ENTRY_COLUMNS)
        rows = self.execute(f"SELECT {columns} FROM audit_log WHERE seq = ?", seq)
        assert rows, f"no entry {seq}"
        return dict(zip(ENTRY_COLUMNS, rows[0], strict=True))

    def seqs(self) -> list[int]:
        return [int(r[0]) for r in self.execute("SELECT seq FROM audit_log ORDER BY seq")]

    def update_entry(self, seq: int, **values: Any) -> None:
        sets = ", ".join(f'"{name}" = ?' for name in values)
        self.execute(f"UPDATE audit_log SET {sets} WHERE seq = ?", *values.values(), seq)

    def insert_entry(self, row: dict[str, Any]) -> None:
        columns = ", ".join(f'"{c}"' for c in ENTRY_COLUMNS)
        marks = ", ".join("?" for _ in ENTRY_COLUMNS)
        self.execute(
            f"INSERT INTO audit_log ({columns}) VALUES ({marks})", *(row[c] for c in ENTRY_COLUMNS)
        )

    def renumber_from(self, seq: int, by: int) -> None:
        """Move the entries from ``seq`` on by ``by`` numbers (through negatives: no clashes)."""
        self.execute("UPDATE audit_log SET seq = -seq WHERE seq >= ?", seq)
        self.execute("UPDATE audit_log SET seq = -seq + ? WHERE seq < 0", by)

    def rehash_from(self, seq: int) -> None:
        """Recompute prev_hash and hash from ``seq`` to the end, and move the head to match:
        what a tamperer who knows the algorithm does to hide a change."""
        previous = self.entry(seq - 1)["hash"] if seq > 1 else "0" * 64
        for number in [s for s in self.seqs() if s >= seq]:
            row = self.entry(number)
            row["prev_hash"] = previous
            row["time"] = as_datetime(row["time"])
            previous = entry_hash(Fields(**{k: row[k] for k in Fields._fields}))
            self.update_entry(number, prev_hash=row["prev_hash"], hash=previous)
        last = self.seqs()[-1]
        self.execute("UPDATE audit_head SET last_seq = ?, last_hash = ?", last, previous)


def as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
