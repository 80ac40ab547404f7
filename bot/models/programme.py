"""The programme: fiscal years, the standard as data, plans, evidence, announcements."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, UTCDateTime, utcnow


class FiscalYear(Base):
    """A Thai fiscal year, named by its BE year (FY2570 = October 2569 to September 2570)."""

    __tablename__ = "fiscal_years"

    year_be: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # The edition of the standard new plans of this year are written against.
    standard_version_id: Mapped[int | None] = mapped_column(ForeignKey("standard_versions.id"))


class StandardVersion(Base):
    """One edition of the standard (areas and components); plans keep the one they used."""

    __tablename__ = "standard_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    areas: Mapped[list[StandardArea]] = relationship(
        back_populates="version", order_by="StandardArea.position"
    )


class StandardArea(Base):
    __tablename__ = "standard_areas"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("standard_versions.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name_th: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)

    version: Mapped[StandardVersion] = relationship(back_populates="areas")
    components: Mapped[list[StandardComponent]] = relationship(
        back_populates="area", order_by="StandardComponent.position"
    )


class StandardComponent(Base):
    __tablename__ = "standard_components"
    __table_args__ = (UniqueConstraint("area_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("standard_areas.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name_th: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)

    area: Mapped[StandardArea] = relationship(back_populates="components")


class Plan(Base):
    """A leader's self-development plan for one fiscal year."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("leader_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    fiscal_year: Mapped[int] = mapped_column(ForeignKey("fiscal_years.year_be"))
    standard_version_id: Mapped[int] = mapped_column(ForeignKey("standard_versions.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    ready_on: Mapped[date | None] = mapped_column(Date)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped on every change, so that a button on an officer's older card is refused.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The letter's work-management targets: 85% of trained households with an occupation,
    # their income up 3%. Income is the average per household per year, in baht.
    households_trained: Mapped[int | None] = mapped_column(Integer)
    households_with_occupation: Mapped[int | None] = mapped_column(Integer)
    income_before: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    income_after: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # Assessment request: None, "requested", "accepted" (officer will inspect) or "more_info".
    assessment_status: Mapped[str | None] = mapped_column(String(16))
    assessment_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assessment_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    items: Mapped[list[PlanItem]] = relationship(
        back_populates="plan", order_by="PlanItem.position", cascade="all, delete-orphan"
    )


class PlanItem(Base):
    """One row of the plan form: an activity under a component, by oneself or with help."""

    __tablename__ = "plan_items"
    __table_args__ = (Index("ix_plan_items_plan_position", "plan_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    component_id: Mapped[int] = mapped_column(ForeignKey("standard_components.id"))
    position: Mapped[int] = mapped_column(Integer)
    activity: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(8))  # "self" or "help"
    method: Mapped[str | None] = mapped_column(Text)  # by oneself: how
    helper: Mapped[str | None] = mapped_column(Text)  # with help: who and what
    responsible: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    state: Mapped[str] = mapped_column(String(16), default="not_started")
    note: Mapped[str | None] = mapped_column(Text)  # the leader's progress note
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    plan: Mapped[Plan] = relationship(back_populates="items")
    component: Mapped[StandardComponent] = relationship()


class Evidence(Base):
    """A photo, video or file a leader sent for a plan item. The bytes live in object storage
    under their content hash; the row is also the fetch job (LINE deletes content after a
    while, so it is fetched at once, before the leader has even said which activity)."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_items.id", ondelete="CASCADE"), index=True
    )
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    line_message_id: Mapped[str] = mapped_column(String(40), unique=True)
    # pending → fetching → stored | duplicate | refused | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    kind: Mapped[str] = mapped_column(String(16))  # image, video, file
    image_set_id: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(255))
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    storage_key: Mapped[str | None] = mapped_column(String(300))
    thumb_key: Mapped[str | None] = mapped_column(String(300))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(100))
    caption: Mapped[str | None] = mapped_column(Text)
    # From the photo's EXIF, kept for the record and never shown in what others see.
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    # True once the leader was told about it (one message for a set, not one per photo).
    announced: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reply_token: Mapped[str | None] = mapped_column(String(100))
    reply_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SummaryDocument(Base):
    """A summary document (เอกสารสรุปผลงาน) someone asked for; built in the background."""

    __tablename__ = "summary_documents"
    __table_args__ = (Index("ix_summary_documents_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, ready, failed
    storage_key: Mapped[str | None] = mapped_column(String(300))
    pages: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Appointment(Base):
    """A dated meeting with a leader: an assessment slot from a province broadcast, or an
    inspection visit. The leader answers รับทราบ (acknowledged) or ขอเลื่อน (postpone, with a
    reason); the day-before reminder follows `starts_at`, which a change of the broadcast moves."""

    __tablename__ = "appointments"
    __table_args__ = (UniqueConstraint("broadcast_id", "leader_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))  # assessment, inspection
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    place: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    # None (no answer yet), "acknowledged" or "postpone"
    response: Mapped[str | None] = mapped_column(String(16))
    response_reason: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
