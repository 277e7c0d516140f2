"""Knowledge content: units, procedures, facts, forms, news, scam alerts, notes.

Revision ID: 0002_knowledge
Revises: 0001_base
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_knowledge"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("parent", sa.String(40), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("hotline", sa.String(40), nullable=True),
        sa.Column("working_hours", sa.JSON(), nullable=False),
        sa.Column("working_hours_text", sa.Text(), nullable=True),
        sa.Column("zalo_oa_id", sa.String(64), nullable=True),
        sa.Column("map_link", sa.Text(), nullable=True),
        sa.Column("is_sample", sa.Boolean(), nullable=False),
        sa.Column("former_names", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_units")),
    )
    op.create_table(
        "procedures",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("cases", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_procedures")),
    )
    op.create_table(
        "facts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("procedure", sa.String(40), nullable=False),
        sa.Column("info_type", sa.String(20), nullable=False),
        sa.Column("case_key", sa.String(40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("last_verified", sa.Date(), nullable=False),
        sa.Column("confidence", sa.String(1), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("unit", sa.String(40), nullable=True),
        sa.Column("mode", sa.String(8), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["procedure"],
            ["procedures.code"],
            name=op.f("fk_facts_procedure_procedures"),
        ),
        sa.ForeignKeyConstraint(
            ["unit"], ["units.code"], name=op.f("fk_facts_unit_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facts")),
        sa.UniqueConstraint("key", name=op.f("uq_facts_key")),
    )
    op.create_index(op.f("ix_facts_procedure"), "facts", ["procedure"])
    op.create_index(op.f("ix_facts_unit"), "facts", ["unit"])
    op.create_table(
        "forms",
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("procedures", sa.JSON(), nullable=False),
        sa.Column("file", sa.String(200), nullable=True),
        sa.Column("official_link", sa.Text(), nullable=True),
        sa.Column("version", sa.String(200), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("last_verified", sa.Date(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_forms")),
    )
    op.create_table(
        "news_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("published_at", sa.Date(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit"], ["units.code"], name=op.f("fk_news_items_unit_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_news_items")),
        sa.UniqueConstraint("key", name=op.f("uq_news_items_key")),
    )
    op.create_index(op.f("ix_news_items_unit"), "news_items", ["unit"])
    op.create_table(
        "scam_alerts",
        sa.Column("key", sa.String(60), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("how_it_works", sa.Text(), nullable=False),
        sa.Column("signs", sa.JSON(), nullable=False),
        sa.Column("what_to_do", sa.JSON(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("last_verified", sa.Date(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_scam_alerts")),
    )
    op.create_table(
        "knowledge_notes",
        sa.Column("key", sa.String(60), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("last_verified", sa.Date(), nullable=True),
        sa.Column("confidence", sa.String(1), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_knowledge_notes")),
    )


def downgrade() -> None:
    op.drop_table("knowledge_notes")
    op.drop_table("scam_alerts")
    op.drop_index(op.f("ix_news_items_unit"), table_name="news_items")
    op.drop_table("news_items")
    op.drop_table("forms")
    op.drop_index(op.f("ix_facts_unit"), table_name="facts")
    op.drop_index(op.f("ix_facts_procedure"), table_name="facts")
    op.drop_table("facts")
    op.drop_table("procedures")
    op.drop_table("units")
