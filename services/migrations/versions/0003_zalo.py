"""The Zalo channel: inbox, OA tokens, outbox (services/zalo_store.py).

Revision ID: 0003_zalo
Revises: 0001_base
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_zalo"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zalo_inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("oa_id", sa.String(32), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("event_name", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_zalo_inbox"),
        sa.UniqueConstraint(
            "oa_id", "dedupe_key", name="uq_zalo_inbox_oa_id_dedupe_key"
        ),
    )
    op.create_index("ix_zalo_inbox_status_id", "zalo_inbox", ["status", "id"])
    op.create_table(
        "zalo_tokens",
        sa.Column("oa_id", sa.String(32), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("seed_fingerprint", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("oa_id", name="pk_zalo_tokens"),
    )
    op.create_table(
        "zalo_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("oa_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_text", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_zalo_outbox"),
    )
    op.create_index(
        "ix_zalo_outbox_oa_id_message_id", "zalo_outbox", ["oa_id", "message_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_zalo_outbox_oa_id_message_id", table_name="zalo_outbox")
    op.drop_table("zalo_outbox")
    op.drop_table("zalo_tokens")
    op.drop_index("ix_zalo_inbox_status_id", table_name="zalo_inbox")
    op.drop_table("zalo_inbox")
