"""The Zalo OA tokens encrypted at rest: the sealing key's id per row.

Revision ID: 0008_zalo_tokens_encrypted
Revises: 0007_zalo_inbox_encrypted
Create Date: 2026-11-30

Pairs stored before keep ``key_id`` NULL and are read in clear until the next
token rotation rewrites them sealed (or ``python -m services.crypto rotate``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_zalo_tokens_encrypted"
down_revision = "0007_zalo_inbox_encrypted"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("zalo_tokens") as batch:
        batch.add_column(sa.Column("key_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("zalo_tokens") as batch:
        batch.drop_column("key_id")
