"""Sign-in to the web desk without passwords: a one-time link from the chat, valid ten
minutes, turned into a server-side session for a working day. Only hashes of the tokens are
stored, and a session stays bound to the role and area it was made for."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.models import User, WebSession, WebSignIn
from bot.services import audit

LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=10)  # a working day
DESK_ROLES = ("leader", "officer", "province", "admin")


class SignInError(ValueError):
    """Why a link cannot sign in; the message is Thai, for the page."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _bound(user: User, role: str, area_code: str | None) -> bool:
    return user.status == "active" and user.role == role and user.area_code == area_code


def issue(session: Session, user: User, now: datetime) -> str:
    """A new one-time sign-in token for this user's current role and area."""
    if user.status != "active" or user.role not in DESK_ROLES:
        raise SignInError("เว็บสำหรับผู้ที่ลงทะเบียนแล้วเท่านั้นค่ะ")
    token = secrets.token_urlsafe(32)
    session.add(
        WebSignIn(
            token_hash=_hash(token),
            user_id=user.id,
            role=user.role,
            area_code=user.area_code,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    audit.record(session, "web.link", "user", user.id, actor=user)
    return token


def redeem(session: Session, token: str, now: datetime) -> str:
    """Use a sign-in token once; returns the new session's token for the cookie."""
    link = session.scalar(select(WebSignIn).where(WebSignIn.token_hash == _hash(token)))
    if link is None:
        raise SignInError("ลิงก์นี้ไม่ถูกต้อง กรุณาพิมพ์ “เข้าเว็บ” ในแชตเพื่อรับลิงก์ใหม่ค่ะ")
    # Mark used in one statement, so two browsers opening the same link can't both win.
    won = session.execute(
        update(WebSignIn)
        .where(WebSignIn.id == link.id, WebSignIn.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if not won:
        raise SignInError("ลิงก์นี้ใช้ไปแล้ว กรุณาพิมพ์ “เข้าเว็บ” ในแชตเพื่อรับลิงก์ใหม่ค่ะ")
    if link.expires_at <= now:
        raise SignInError("ลิงก์หมดอายุแล้ว (ใช้ได้ 10 นาที) กรุณาพิมพ์ “เข้าเว็บ” ในแชตอีกครั้งค่ะ")
    user = session.get(User, link.user_id)
    if user is None or not _bound(user, link.role, link.area_code):
        raise SignInError("สิทธิ์ของบัญชีนี้เปลี่ยนไปแล้ว กรุณาขอลิงก์ใหม่ค่ะ")
    token_out = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_hash(token_out),
            user_id=user.id,
            role=user.role,
            area_code=user.area_code,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    audit.record(session, "web.sign_in", "user", user.id, actor=user)
    return token_out


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a web page: the user, as of the session's role and area."""

    user: User
    session_id: int

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def area_code(self) -> str | None:
        return self.user.area_code


def current(session: Session, token: str | None, now: datetime) -> Viewer | None:
    """The viewer for a session cookie, or None when it is unknown, ended, expired, or the
    person's role or area has changed since signing in."""
    if not token:
        return None
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _hash(token)))
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not _bound(user, row.role, row.area_code):
        return None
    return Viewer(user, row.id)


def end(session: Session, token: str | None, now: datetime) -> None:
    if not token:
        return
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _hash(token)))
    if row is not None and row.ended_at is None:
        row.ended_at = now
        audit.record(session, "web.sign_out", "user", row.user_id, actor_label="web")
