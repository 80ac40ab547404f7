"""Single-use invite codes that make someone a district officer or province staff.

Only a hash of each code is stored. Codes carry ~50 bits of randomness and wrong guesses are
limited per user, so a plain SHA-256 is enough (no slow hash needed).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import InviteAttempt, InviteCode, User, utcnow
from bot.services import areas, audit

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud and typed on phones
CODE_PATTERN = r"[A-Za-z2-9]{4}[-\s]?[A-Za-z2-9]{4}[-\s]?[A-Za-z2-9]{2}"
VALID_FOR = timedelta(days=7)
MAX_WRONG_PER_HOUR = 5
INVITE_ROLES = {"officer": 4, "province": 2}  # role -> length of the area code it needs


class InviteError(ValueError):
    pass


def _normalize(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def _hash(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def create(session: Session, role: str, area_code: str, note: str | None = None) -> str:
    """A new code, returned once in the clear as XXXX-XXXX-XX."""
    if role not in INVITE_ROLES:
        raise InviteError("role must be officer or province")
    if len(area_code) != INVITE_ROLES[role] or areas.find(area_code) is None:
        kind = "district (4 digits)" if role == "officer" else "province (2 digits)"
        raise InviteError(f"--area must be a {kind} DOPA code")
    raw = "".join(secrets.choice(ALPHABET) for _ in range(10))
    code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
    invite = InviteCode(
        code_hash=_hash(code),
        role=role,
        area_code=area_code,
        note=note,
        expires_at=utcnow() + VALID_FOR,
    )
    session.add(invite)
    session.flush()
    audit.record(
        session, "invite.create", "invite", invite.id, actor_label="cli", role=role, area=area_code
    )
    return code


def status(invite: InviteCode, now: datetime) -> str:
    if invite.revoked_at:
        return "revoked"
    if invite.used_at:
        return "used"
    if invite.expires_at <= now:
        return "expired"
    return "valid"


def revoke(session: Session, invite_id: int) -> InviteCode:
    invite = session.get(InviteCode, invite_id)
    if invite is None:
        raise InviteError(f"no invite with id {invite_id}")
    if invite.revoked_at is None and invite.used_at is None:
        invite.revoked_at = utcnow()
        audit.record(session, "invite.revoke", "invite", invite.id, actor_label="cli")
    return invite


@dataclass
class Redeemed:
    role: str
    area_code: str


def wrong_tries_left(session: Session, user: User, now: datetime) -> int:
    wrong = session.scalar(
        select(func.count())
        .select_from(InviteAttempt)
        .where(
            InviteAttempt.user_id == user.id,
            InviteAttempt.success.is_(False),
            InviteAttempt.at > now - timedelta(hours=1),
        )
    )
    return MAX_WRONG_PER_HOUR - int(wrong or 0)


def redeem(session: Session, user: User, code: str, now: datetime) -> Redeemed | None:
    """Give the user the code's role and area. None for a wrong, used, expired or revoked
    code (the caller says so); raises InviteError when the user has no tries left."""
    if wrong_tries_left(session, user, now) <= 0:
        raise InviteError("too many wrong codes")
    invite = session.scalar(
        select(InviteCode).where(InviteCode.code_hash == _hash(code)).with_for_update()
    )
    ok = invite is not None and status(invite, now) == "valid"
    session.add(InviteAttempt(user_id=user.id, at=now, success=ok))
    if not ok or invite is None:
        audit.record(session, "invite.wrong", "user", user.id, actor=user)
        return None
    invite.used_at, invite.used_by = now, user.id
    previous = user.role
    user.role, user.area_code, user.status = invite.role, invite.area_code, "active"
    audit.record(
        session,
        "invite.redeem",
        "user",
        user.id,
        actor=user,
        invite=invite.id,
        role=invite.role,
        area=invite.area_code,
        previous_role=previous,
    )
    return Redeemed(invite.role, invite.area_code)
