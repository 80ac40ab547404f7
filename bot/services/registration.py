"""Consent and leader registration (PDPA: nothing beyond the LINE user ID before consent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.models import LeaderProfile, User
from bot.services import areas, audit, privacy
from bot.services.thai import normalize_phone, without_invisible

NAME_MIN, NAME_MAX = 4, 120


class RegistrationError(ValueError):
    """Bad input; the message is Thai and can be shown to the user as it is."""


def accept_consent(session: Session, user: User, now: datetime, display_name: str | None) -> None:
    user.consent_at, user.consent_refused_at = now, None
    user.display_name = display_name
    if user.status in {"new", "declined"}:
        user.status = "registering"
    audit.record(session, "consent.accept", "user", user.id, actor=user)


def refuse_consent(session: Session, user: User, now: datetime) -> None:
    """Keep only the LINE user ID and the refusal."""
    privacy.erase(session, user, now)
    user.consent_refused_at = now
    user.status = "declined"
    audit.record(session, "consent.refuse", "user", user.id, actor=user)


def clean_name(text: str) -> str:
    name = " ".join(without_invisible(text).split())
    if len(name) < NAME_MIN:
        raise RegistrationError(f"ชื่อสั้นเกินไปค่ะ กรุณาพิมพ์ชื่อและนามสกุล (อย่างน้อย {NAME_MIN} ตัวอักษร)")
    if len(name) > NAME_MAX:
        raise RegistrationError(f"ชื่อยาวเกินไปค่ะ พิมพ์ได้ไม่เกิน {NAME_MAX} ตัวอักษร")
    if any(ch.isdigit() for ch in name) or any(ch in "<>{}[]@#$%^*=\\|" for ch in name):
        raise RegistrationError("ชื่อไม่ควรมีตัวเลขหรือสัญลักษณ์ค่ะ กรุณาพิมพ์ชื่อและนามสกุลอีกครั้ง")
    return name


def clean_phone(text: str) -> str:
    phone = normalize_phone(text)
    if phone is None:
        raise RegistrationError(
            "เบอร์โทรศัพท์ไม่ถูกต้องค่ะ กรุณาพิมพ์ 10 หลัก เช่น 081-234-5678 (ใช้เลขไทยได้) หรือกด 'ข้าม'"
        )
    return phone


@dataclass
class LeaderDetails:
    full_name: str
    subdistrict_code: str
    phone: str | None


def complete(session: Session, user: User, details: LeaderDetails) -> LeaderProfile:
    """Make the user a registered leader of the subdistrict (or update the profile)."""
    if areas.find(details.subdistrict_code) is None or len(details.subdistrict_code) != 6:
        raise RegistrationError("ยังไม่ได้เลือกตำบลค่ะ")
    profile = session.get(LeaderProfile, user.id)
    created = profile is None
    if profile is None:
        profile = LeaderProfile(user_id=user.id)
        session.add(profile)
    profile.full_name = details.full_name
    profile.phone = details.phone
    profile.subdistrict_code = details.subdistrict_code
    profile.district_code = details.subdistrict_code[:4]
    profile.province_code = details.subdistrict_code[:2]
    if user.role in {"guest", "leader"}:
        user.role, user.area_code = "leader", details.subdistrict_code
    user.status = "active"
    audit.record(
        session,
        "leader.register" if created else "leader.update",
        "user",
        user.id,
        actor=user,
        subdistrict=details.subdistrict_code,
    )
    return profile
