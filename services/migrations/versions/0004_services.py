"""Citizen services: appointments, applications, tips, handoff, outbound, audit.

Revision ID: 0004_services
Revises: 0001_base
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_services"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("procedure", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("request_key", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_appointments"),
        sa.UniqueConstraint("code", name="uq_appointments_code"),
        sa.UniqueConstraint("request_key", name="uq_appointments_request_key"),
        sa.UniqueConstraint(
            "unit", "day", "start_time", "seat", name="uq_appointments_seat"
        ),
    )
    op.create_index("ix_appointments_unit_day", "appointments", ["unit", "day"])
    op.create_table(
        "appointments_capacity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.String(5), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_appointments_capacity"),
        sa.UniqueConstraint(
            "unit", "weekday", "start_time", name="uq_appointments_capacity_slot"
        ),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("procedure", sa.String(64), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("last_changed", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_applications"),
        sa.UniqueConstraint("code", name="uq_applications_code"),
    )
    op.create_index("ix_applications_unit", "applications", ["unit"])
    op.create_table(
        "applications_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("officer", sa.String(120), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_applications_history"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_applications_history_application_id_applications",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "applications_lookup_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("code_key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_applications_lookup_attempts"),
    )
    op.create_index(
        "ix_applications_lookup_attempts_code_key",
        "applications_lookup_attempts",
        ["code_key"],
    )
    op.create_index(
        "ix_applications_lookup_attempts_conversation",
        "applications_lookup_attempts",
        ["conversation_id", "at"],
    )
    op.create_table(
        "tips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("what_text", sa.Text(), nullable=False),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("occurred", sa.Text(), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("conversation", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("request_key", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tips"),
        sa.UniqueConstraint("reference", name="uq_tips_reference"),
        sa.UniqueConstraint("request_key", name="uq_tips_request_key"),
    )
    op.create_index("ix_tips_unit", "tips", ["unit"])
    for table, columns in (
        (
            "tips_evidence",
            [
                sa.Column("key_id", sa.String(32), nullable=False),
                sa.Column("ref", sa.Text(), nullable=False),
                sa.Column("added_at", sa.DateTime(), nullable=False),
            ],
        ),
        (
            "tips_notes",
            [
                sa.Column("key_id", sa.String(32), nullable=False),
                sa.Column("author", sa.String(120), nullable=False),
                sa.Column("text", sa.Text(), nullable=False),
                sa.Column("added_at", sa.DateTime(), nullable=False),
            ],
        ),
        (
            "tips_access_log",
            [
                sa.Column("officer", sa.String(120), nullable=False),
                sa.Column("unit", sa.String(64), nullable=False),
                sa.Column("action", sa.String(32), nullable=False),
                sa.Column("at", sa.DateTime(), nullable=False),
            ],
        ),
    ):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("tip_id", sa.Integer(), nullable=False),
            *columns,
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
            sa.ForeignKeyConstraint(
                ["tip_id"],
                ["tips.id"],
                name=f"fk_{table}_tip_id_tips",
                ondelete="CASCADE",
            ),
        )
    op.create_table(
        "handoff_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("active_key", sa.String(255), nullable=True),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(120), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_tickets"),
        sa.UniqueConstraint("active_key", name="uq_handoff_tickets_active_key"),
    )
    op.create_index(
        "ix_handoff_tickets_conversation_id", "handoff_tickets", ["conversation_id"]
    )
    op.create_index(
        "ix_handoff_tickets_unit_status", "handoff_tickets", ["unit", "status"]
    )
    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("meta", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbound_messages"),
    )
    op.create_index(
        "ix_outbound_messages_pending",
        "outbound_messages",
        ["channel", "status", "sender_id"],
    )
    op.create_table(
        "officer_api_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("officer", sa.String(120), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_officer_api_audit"),
    )


def downgrade() -> None:
    for table in (
        "officer_api_audit",
        "outbound_messages",
        "handoff_tickets",
        "tips_access_log",
        "tips_notes",
        "tips_evidence",
        "tips",
        "applications_lookup_attempts",
        "applications_history",
        "applications",
        "appointments_capacity",
        "appointments",
    ):
        op.drop_table(table)
