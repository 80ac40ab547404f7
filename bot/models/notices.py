"""What the bot tells people unasked: the notification ledger, the scheduler's lease and runs,
reminder preferences, the programme calendar, province broadcasts and the message quota."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, utcnow


class Notification(Base):
    """The ledger: one row per push the bot decided to make, written in the same transaction as
    its outbox row. The unique key means a job run twice, by two schedulers or after a crash,
    records (and so sends) each notification once."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("recipient_id", "kind", "subject", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # morning, digest, calendar, broadcast ...
    subject: Mapped[str] = mapped_column(String(64))  # what it is about, "" for a daily summary
    day: Mapped[date] = mapped_column(Date)  # the local day it belongs to
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobRun(Base):
    """A scheduled run that finished, so a scheduler that starts late (or takes over from a dead
    one) knows whether the last slot of a daily job still needs running."""

    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    slot: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SchedulerLease(Base):
    """Who runs the jobs, on databases without advisory locks (SQLite)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReminderSnooze(Base):
    """A leader asked to be reminded of something later: not before `until`, and on that day."""

    __tablename__ = "reminder_snoozes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. "item:12"
    until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProgrammeDate(Base):
    """A province's own date for a programme deadline, overriding the department's default
    (`bot/data/programme_calendar.json`) for one fiscal year."""

    __tablename__ = "programme_dates"
    __table_args__ = (UniqueConstraint("province_code", "fiscal_year", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province_code: Mapped[str] = mapped_column(String(2))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)  # for a window, e.g. the assessments
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Broadcast(Base):
    """A province's announcement of an assessment date to leaders and/or officers."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    # leaders (all of the province), districts (leaders of `district_codes`), officers, everyone
    audience: Mapped[str] = mapped_column(String(16))
    district_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # scheduled → sending → sent; cancelled
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    send_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Bumped by every change after sending, so each update is its own notification.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # blocked the account
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class QuotaReading(Base):
    """LINE's message quota and this month's use, read once a day."""

    __tablename__ = "quota_readings"

    id: Mapped[int] = mapped_column(primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    limit: Mapped[int | None] = mapped_column(Integer)  # None: no limit on this plan
    used: Mapped[int] = mapped_column(Integer)
