"""Officers' web console: officer accounts and failed-login counts.

Revision ID: 0005_console
Revises: 0001_base
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_console"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "officers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_officers"),
        sa.UniqueConstraint("username", name="uq_officers_username"),
    )
    op.create_index("ix_officers_unit", "officers", ["unit"])
    op.create_table(
        "officer_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_officer_login_failures"),
    )
    op.create_index("ix_officer_login_failures_key", "officer_login_failures", ["key"])


def downgrade() -> None:
    op.drop_index("ix_officer_login_failures_key", "officer_login_failures")
    op.drop_table("officer_login_failures")
    op.drop_index("ix_officers_unit", "officers")
    op.drop_table("officers")
