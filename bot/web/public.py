"""The outstanding leader's public page (3.4), which the province may link from its website.
No sign-in. It shows only what the leader agreed to publish (`CommitteeDecision.publish`), and
its photos are the EXIF-free thumbnails of that profile, served by their place in it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from werkzeug.exceptions import HTTPException

from bot.db import db
from bot.documents import profile
from bot.documents.exports import province_name
from bot.downloads import stream_object
from bot.services import areas, committee

bp = Blueprint("public", __name__, template_folder="templates")

NOT_FOUND = "ไม่พบข้อมูลผู้นำดีเด่นของจังหวัดและปีที่ระบุค่ะ"


def _published(province_code: str, year: int) -> profile.Profile:
    if areas.find(province_code) is None or len(province_code) != 2:
        abort(404)
    with db.transaction() as session:
        decision = committee.outstanding_of(session, province_code, year)
        found = profile.profile_of(session, decision) if decision else None
    if found is None:
        abort(404)
    return found


@bp.get("/p/<province_code>/<int:year>", endpoint="profile")
def profile_page(province_code: str, year: int) -> str:
    found = _published(province_code, year)
    fields = set(found.publish or [])
    return render_template(
        "desk/public_profile.html",
        office=found.office,
        province=province_name(province_code),
        year=year,
        fields=fields,
        name=found.name if "name" in fields else None,
        area=found.area if "area" in fields else None,
        story=found.story if "story" in fields else None,
        photos=range(1, len(found.photo_keys) + 1) if "photos" in fields else range(0),
        province_code=province_code,
    )


@bp.get("/p/<province_code>/<int:year>/photo/<int:number>.jpg")
def photo(province_code: str, year: int, number: int) -> Response:
    found = _published(province_code, year)
    if "photos" not in (found.publish or []) or not 1 <= number <= len(found.photo_keys):
        abort(404)
    # Cached briefly: when the leader takes her consent back, the photo must leave caches soon.
    response = stream_object(found.photo_keys[number - 1], "image/jpeg", "public, max-age=300")
    if response is None:
        abort(404)
    return response


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "public, max-age=300")
    return response


@bp.errorhandler(404)
def _not_found(exc: HTTPException) -> Any:
    if not request.path.startswith("/p/"):
        return exc
    return render_template("desk/public_profile.html", missing=NOT_FOUND), 404
