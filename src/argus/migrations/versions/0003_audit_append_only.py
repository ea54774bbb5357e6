"""audit: the head row, and triggers that keep the log append-only

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:00:00

Written by hand (Alembic does not generate triggers), and kept apart from 0002 so that
regenerating 0002 does not lose it. To regenerate 0002 with tools/regen_migration.py, move this
file out of versions/ first and put it back afterwards.

In the database itself:
- an entry is accepted only if it extends the chain: its seq is the head's plus one and its
  prev_hash is the head's hash; the insert moves the head on (so the head always names the
  newest entry, whoever inserted it);
- audit_log and audit_checkpoints refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE);
- audit_head only moves forward and cannot be deleted.
Someone who drops these triggers can still change rows: `argus audit verify` finds that.
A later migration that rebuilds audit_log on SQLite (batch mode copies the table) loses its
triggers and must create them again.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64

# The head names the newest entry (none yet on a new database; after a downgrade and an
# upgrade, the newest one there is).
INSERT_HEAD = f"""INSERT INTO audit_head (id, last_seq, last_hash)
SELECT 1, COALESCE((SELECT MAX(seq) FROM audit_log), 0),
       COALESCE((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), '{GENESIS}')"""

SQLITE_UP = [
    INSERT_HEAD,
    """CREATE TRIGGER audit_log_extends_chain BEFORE INSERT ON audit_log
    WHEN NOT EXISTS (SELECT 1 FROM audit_head
                     WHERE id = 1 AND last_seq = NEW.seq - 1 AND last_hash = NEW.prev_hash)
    BEGIN SELECT RAISE(ABORT, 'audit_log: the entry does not extend the chain'); END""",
    """CREATE TRIGGER audit_log_moves_head AFTER INSERT ON audit_log
    BEGIN UPDATE audit_head SET last_seq = NEW.seq, last_hash = NEW.hash WHERE id = 1; END""",
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
    WHEN NEW.id <> OLD.id OR NEW.last_seq < OLD.last_seq
      OR (NEW.last_seq = OLD.last_seq AND NEW.last_hash <> OLD.last_hash)
    BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END""",
    """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END""",
]
SQLITE_TRIGGERS = [
    "audit_log_extends_chain",
    "audit_log_moves_head",
    "audit_log_no_update",
    "audit_log_no_delete",
    "audit_checkpoints_no_update",
    "audit_checkpoints_no_delete",
    "audit_head_forward_only",
    "audit_head_no_delete",
]

POSTGRESQL_UP = [
    INSERT_HEAD,
    """CREATE FUNCTION audit_extend_chain() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE audit_head SET last_seq = NEW.seq, last_hash = NEW.hash
       WHERE id = 1 AND last_seq = NEW.seq - 1 AND last_hash = NEW.prev_hash;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_log: entry % does not extend the chain', NEW.seq
              USING ERRCODE = 'restrict_violation';
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation';
    END $$""",
    """CREATE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.last_seq < OLD.last_seq
         OR (NEW.last_seq = OLD.last_seq AND NEW.last_hash <> OLD.last_hash) THEN
        RAISE EXCEPTION 'audit_head only moves forward: % refused', TG_OP
              USING ERRCODE = 'restrict_violation';
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER audit_log_extends_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_extend_chain()""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""",
    """CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    """CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""",
    """CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward()""",
    """CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_head_forward()""",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER audit_head_no_truncate ON audit_head",
    "DROP TRIGGER audit_head_forward_only ON audit_head",
    "DROP TRIGGER audit_checkpoints_no_truncate ON audit_checkpoints",
    "DROP TRIGGER audit_checkpoints_append_only ON audit_checkpoints",
    "DROP TRIGGER audit_log_no_truncate ON audit_log",
    "DROP TRIGGER audit_log_append_only ON audit_log",
    "DROP TRIGGER audit_log_extends_chain ON audit_log",
    "DROP FUNCTION audit_head_forward()",
    "DROP FUNCTION audit_refuse_change()",
    "DROP FUNCTION audit_extend_chain()",
    "DELETE FROM audit_head",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        statements = POSTGRESQL_UP
    elif dialect == "sqlite":
        statements = SQLITE_UP
    else:
        raise NotImplementedError(f"audit triggers for {dialect}")
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        statements = POSTGRESQL_DOWN
    else:
        statements = [f"DROP TRIGGER {name}" for name in SQLITE_TRIGGERS]
        statements.append("DELETE FROM audit_head")
    for statement in statements:
        op.execute(statement)
