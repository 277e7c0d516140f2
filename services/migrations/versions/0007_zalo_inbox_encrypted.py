"""The Zalo inbox payload encrypted at rest: the sealing key's id per row.

Revision ID: 0007_zalo_inbox_encrypted
Revises: 0003_zalo
Create Date: 2026-11-29

Revises 0003_zalo (not 0001_base): the column belongs to a table 0003 creates,
so this must run after it. Rows stored before keep ``key_id`` NULL and are read
in clear until processed (their payload is cleared then, as always).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_zalo_inbox_encrypted"
down_revision = "0003_zalo"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("zalo_inbox") as batch:
        batch.add_column(sa.Column("key_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("zalo_inbox") as batch:
        batch.drop_column("key_id")
