"""The audit log: who changed what, and who was refused."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.models import AuditLog, User


def record(
    session: Session,
    action: str,
    entity: str,
    entity_id: object = None,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditLog(
            actor_user_id=actor.id if actor else None,
            actor_label=actor_label,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            detail=detail or None,
        )
    )
