"""All models, importable from one place (Alembic reads `Base.metadata` from here)."""

from bot.models.base import Base, UTCDateTime, utcnow
from bot.models.messaging import InboxEvent, OutboxMessage
from bot.models.notices import (
    Broadcast,
    JobRun,
    Notification,
    ProgrammeDate,
    QuotaReading,
    ReminderSnooze,
    SchedulerLease,
)
from bot.models.people import (
    ROLES,
    AuditLog,
    ConversationState,
    InviteAttempt,
    InviteCode,
    LeaderProfile,
    RichMenu,
    User,
)
from bot.models.programme import (
    Appointment,
    Evidence,
    FiscalYear,
    Plan,
    PlanItem,
    StandardArea,
    StandardComponent,
    StandardVersion,
    SummaryDocument,
)

__all__ = [
    "ROLES",
    "Appointment",
    "AuditLog",
    "Base",
    "Broadcast",
    "ConversationState",
    "Evidence",
    "FiscalYear",
    "InboxEvent",
    "InviteAttempt",
    "InviteCode",
    "JobRun",
    "LeaderProfile",
    "Notification",
    "OutboxMessage",
    "Plan",
    "PlanItem",
    "ProgrammeDate",
    "QuotaReading",
    "ReminderSnooze",
    "RichMenu",
    "SchedulerLease",
    "StandardArea",
    "StandardComponent",
    "StandardVersion",
    "SummaryDocument",
    "UTCDateTime",
    "User",
    "utcnow",
]
