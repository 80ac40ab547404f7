"""After the plan: the district's inspection, the province committee's decision and its
certificate number, the province's own settings and activity photos."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, utcnow


class Inspection(Base):
    """The district officer's inspection of one plan: the opinion the committee reads.
    One per plan; recording it again replaces it (the audit log keeps the history)."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), unique=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opinion: Mapped[str] = mapped_column(String(16))  # "recommend" (เสนอรับรอง) or "not_yet"
    reasons: Mapped[str] = mapped_column(Text)
    inspected_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CommitteeDecision(Base):
    """The provincial committee's decision on one plan. A certified leader gets the next
    number of her province's sequence for the fiscal year; a number once given is never
    given again, even when the decision is later corrected."""

    __tablename__ = "committee_decisions"
    __table_args__ = (
        UniqueConstraint("province_code", "fiscal_year", "certificate_seq"),
        Index("ix_committee_decisions_province_year", "province_code", "fiscal_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), unique=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    province_code: Mapped[str] = mapped_column(String(2))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(16))  # "certified" or "not_certified"
    decided_on: Mapped[date] = mapped_column(Date)
    reasons: Mapped[str | None] = mapped_column(Text)
    certificate_seq: Mapped[int | None] = mapped_column(Integer)
    certificate_no: Mapped[str | None] = mapped_column(String(32))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The province's outstanding leader of the year (3.3): at most one per province and year.
    outstanding: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The profile the province writes for 3.3/3.4, and what the leader agreed to publish:
    # None = not asked yet, [] = nothing, else a subset of PUBLISHABLE.
    story: Mapped[str | None] = mapped_column(Text)
    publish: Mapped[list[str] | None] = mapped_column(JSON)
    publish_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CertificateCounter(Base):
    """The last certificate number given in a province for a fiscal year."""

    __tablename__ = "certificate_counters"

    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class ProvinceSettings(Base):
    """What a province office sets for its own paperwork: who signs the certificates."""

    __tablename__ = "province_settings"

    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    signer_name: Mapped[str | None] = mapped_column(String(120))
    signer_position: Mapped[str | None] = mapped_column(String(200))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ProvincePhoto(Base):
    """A photo of the province's own activities for report 3.2: the workshop (step 2) or the
    committee meeting (step 5). The bytes live in storage under their content hash."""

    __tablename__ = "province_photos"
    __table_args__ = (Index("ix_province_photos_province_year", "province_code", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province_code: Mapped[str] = mapped_column(String(2))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    activity: Mapped[str] = mapped_column(String(16))  # "workshop" or "committee"
    storage_key: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    mime_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    caption: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebSignIn(Base):
    """A one-time sign-in link for the web desk. Only the token's hash is kept."""

    __tablename__ = "web_sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str | None] = mapped_column(String(6))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its hash is kept, so the
    session can be ended on the server (sign out, or the person's role changing)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str | None] = mapped_column(String(6))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
