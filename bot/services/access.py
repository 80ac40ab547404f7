"""Who may see whom. Decided here from the database, never from postback data."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from bot.models import LeaderProfile, User


def can_view_leader(viewer: User, leader: LeaderProfile) -> bool:
    if viewer.status != "active":
        return False
    if viewer.role == "admin":
        return True
    if viewer.role == "officer":
        return leader.district_code == viewer.area_code
    if viewer.role == "province":
        return leader.province_code == viewer.area_code
    return viewer.role == "leader" and viewer.id == leader.user_id


def leader_scope(viewer: User) -> ColumnElement[bool]:
    """The leaders a viewer may see, as a condition on LeaderProfile for list queries; the
    same rule as `can_view_leader`."""
    if viewer.status != "active":
        return false()
    if viewer.role == "admin":
        return true()
    if viewer.role == "officer":
        return LeaderProfile.district_code == viewer.area_code
    if viewer.role == "province":
        return LeaderProfile.province_code == viewer.area_code
    if viewer.role == "leader":
        return LeaderProfile.user_id == viewer.id
    return false()
