"""Console content editing and officers' tip attachments.

Facts, news items and scam alerts get who edited them in the console and when
(the loader leaves such edits alone until their knowledge/ entry changes);
news items and scam alerts get withdrawn_at/by (unpublished: the assistant no
longer answers with them). New tables: content_audit (every console edit),
tips_attachments and tips_attachment_chunks (files officers add to a tip,
encrypted in chunks).

Revision ID: 0006_console_content
Revises: 0002_knowledge (the content tables) and 0004_services (tips), both
of which revise 0001_base: this changes their tables, so it must come after
both (Alembic's depends_on between sibling branches of one base breaks
`upgrade heads`, a merge point does not)
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_console_content"
down_revision = ("0002_knowledge", "0004_services")
branch_labels = None
depends_on = None

EDITED = ("facts", "news_items", "scam_alerts")
WITHDRAWABLE = ("news_items", "scam_alerts")


def upgrade() -> None:
    for table in EDITED:
        op.add_column(table, sa.Column("edited_by", sa.String(64), nullable=True))
        op.add_column(table, sa.Column("edited_at", sa.DateTime(), nullable=True))
    for table in WITHDRAWABLE:
        op.add_column(table, sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
        op.add_column(table, sa.Column("withdrawn_by", sa.String(64), nullable=True))
    op.create_table(
        "content_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("officer", sa.String(120), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("object_key", sa.String(200), nullable=False),
        sa.Column("changes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_content_audit"),
    )
    op.create_index("ix_content_audit_object_key", "content_audit", ["object_key"])
    op.create_table(
        "tips_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(120), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tip_id"],
            ["tips.id"],
            name="fk_tips_attachments_tip_id_tips",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tips_attachments"),
    )
    op.create_index("ix_tips_attachments_tip_id", "tips_attachments", ["tip_id"])
    op.create_table(
        "tips_attachment_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["tips_attachments.id"],
            name="fk_tips_attachment_chunks_attachment_id_tips_attachments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tips_attachment_chunks"),
    )
    op.create_index(
        "ix_tips_attachment_chunks_attachment_id",
        "tips_attachment_chunks",
        ["attachment_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_tips_attachment_chunks_attachment_id", "tips_attachment_chunks")
    op.drop_table("tips_attachment_chunks")
    op.drop_index("ix_tips_attachments_tip_id", "tips_attachments")
    op.drop_table("tips_attachments")
    op.drop_index("ix_content_audit_object_key", "content_audit")
    op.drop_table("content_audit")
    for table in EDITED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("edited_at")
            batch.drop_column("edited_by")
            if table in WITHDRAWABLE:
                batch.drop_column("withdrawn_by")
                batch.drop_column("withdrawn_at")
