"""scheduler: notification ledger, lease, job runs, reminders, calendar, broadcasts, quota

Revision ID: 7c3e7cbad7fe
Revises: d69dc632214f
Create Date: 2026-11-24 01:08:21.479092
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models.base

revision: str = "7c3e7cbad7fe"
down_revision: str | None = "d69dc632214f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("slot", bot.models.base.UTCDateTime(), nullable=False),
        sa.Column("finished_at", bot.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "slot", name=op.f("pk_job_runs")),
    )
    op.create_table(
        "quota_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("read_at", bot.models.base.UTCDateTime(), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=True),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_readings")),
    )
    with op.batch_alter_table("quota_readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quota_readings_read_at"), ["read_at"], unique=False)

    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires_at", bot.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("starts_at", bot.models.base.UTCDateTime(), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("district_codes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("send_at", bot.models.base.UTCDateTime(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("created_at", bot.models.base.UTCDateTime(), nullable=False),
        sa.Column("sent_at", bot.models.base.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", bot.models.base.UTCDateTime(), nullable=True),
        sa.Column("updated_at", bot.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_broadcasts_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcasts_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index("ix_broadcasts_status_send_at", ["status", "send_at"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", bot.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["users.id"],
            name=op.f("fk_notifications_recipient_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "recipient_id", "kind", "subject", "day", name=op.f("uq_notifications_recipient_id")
        ),
    )
    op.create_table(
        "programme_dates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", bot.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_programme_dates_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_dates")),
        sa.UniqueConstraint(
            "province_code", "fiscal_year", "key", name=op.f("uq_programme_dates_province_code")
        ),
    )
    op.create_table(
        "reminder_snoozes",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("created_at", bot.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_reminder_snoozes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "subject", name=op.f("pk_reminder_snoozes")),
    )
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcements_province_code"))

    op.drop_table("announcements")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("broadcast_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("response", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("response_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("responded_at", bot.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", bot.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "updated_at",
                bot.models.base.UTCDateTime(),
                server_default=sa.text("CURRENT_TIMESTAMP"),
                nullable=False,
            )
        )
        batch_op.create_index(
            batch_op.f("ix_appointments_broadcast_id"), ["broadcast_id"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_appointments_broadcast_id"), ["broadcast_id", "leader_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_appointments_broadcast_id_broadcasts"),
            "broadcasts",
            ["broadcast_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("quiet", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(sa.Column("topic", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_messages_topic"), ["topic"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminders", sa.Boolean(), server_default=sa.text("true"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("reminders")

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_topic"))
        batch_op.drop_column("topic")
        batch_op.drop_column("quiet")

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_appointments_broadcast_id_broadcasts"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_appointments_broadcast_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_appointments_broadcast_id"))
        batch_op.drop_column("updated_at")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("responded_at")
        batch_op.drop_column("response_reason")
        batch_op.drop_column("response")
        batch_op.drop_column("broadcast_id")

    op.create_table(
        "announcements",
        sa.Column("id", sa.INTEGER(), autoincrement=True, nullable=False),
        sa.Column("province_code", sa.VARCHAR(length=2), autoincrement=False, nullable=False),
        sa.Column("title", sa.VARCHAR(length=200), autoincrement=False, nullable=False),
        sa.Column("body", sa.TEXT(), autoincrement=False, nullable=False),
        sa.Column("created_by", sa.INTEGER(), autoincrement=False, nullable=True),
        sa.Column("created_at", sa.DateTime(), autoincrement=False, nullable=False),
        sa.Column("sent_at", sa.DateTime(), autoincrement=False, nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_announcements_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_announcements_province_code"), ["province_code"], unique=False
        )

    op.drop_table("reminder_snoozes")
    op.drop_table("programme_dates")
    op.drop_table("notifications")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcasts_status_send_at")
        batch_op.drop_index(batch_op.f("ix_broadcasts_province_code"))

    op.drop_table("broadcasts")
    op.drop_table("scheduler_leases")
    with op.batch_alter_table("quota_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quota_readings_read_at"))

    op.drop_table("quota_readings")
    op.drop_table("job_runs")
