"""the console: each user's video wall

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_walls",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("layout", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_console_walls_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_console_walls")),
    )


def downgrade() -> None:
    op.drop_table("console_walls")
