"""Who may see whom. Decided here from the database, never from postback data."""

from __future__ import annotations

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
