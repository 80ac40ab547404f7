"""All models, importable from one place (Alembic reads `Base.metadata` from here)."""

from bot.models.base import Base, UTCDateTime, utcnow
from bot.models.messaging import InboxEvent, OutboxMessage
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
    Announcement,
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
    "Announcement",
    "Appointment",
    "AuditLog",
    "Base",
    "ConversationState",
    "Evidence",
    "FiscalYear",
    "InboxEvent",
    "InviteAttempt",
    "InviteCode",
    "LeaderProfile",
    "OutboxMessage",
    "Plan",
    "PlanItem",
    "RichMenu",
    "StandardArea",
    "StandardComponent",
    "StandardVersion",
    "SummaryDocument",
    "UTCDateTime",
    "User",
    "utcnow",
]
