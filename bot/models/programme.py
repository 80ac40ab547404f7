"""The programme: fiscal years, the standard as data, plans, evidence, announcements."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    plan: Mapped[Plan] = relationship(back_populates="items")
    component: Mapped[StandardComponent] = relationship()


class Evidence(Base):
    """A photo, video or file attached to a plan item. The bytes live in object storage."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_item_id: Mapped[int] = mapped_column(
        ForeignKey("plan_items.id", ondelete="CASCADE"), index=True
    )
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # image, video, file
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    storage_key: Mapped[str] = mapped_column(String(300))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(100))
    caption: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Announcement(Base):
    """A province's broadcast, e.g. the assessment dates."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Appointment(Base):
    """A dated meeting with a leader: an inspection visit or an assessment slot."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    place: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
