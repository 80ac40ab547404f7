"""The department's reports from the web desk: 3.1 applicants (XLSX, CSV), 3.2 results (XLSX)
and the photos ZIP, 3.3 the outstanding leader's profile (PDF), 3.5 certificates (PDF), and the
page where province staff upload their workshop and committee photos.

Area rules are the server's: an officer gets their district's rows, province staff their
province's; an admin names the province with ?province=. Every file taken out is audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from bot import clock, throttle
from bot.db import db
from bot.documents import certificate, exports, photos, profile
from bot.documents.exports import Scope
from bot.downloads import stream_object
from bot.models import CommitteeDecision, LeaderProfile, ProvincePhoto, User
from bot.services import access, areas, audit, committee, fiscal
from bot.storage import StorageError
from bot.web import auth

bp = Blueprint("exports", __name__, template_folder="templates")

PDF = "application/pdf"
STAFF = ("officer", "province")
MAX_UPLOAD = 100 * 1024 * 1024  # one form of photos; each photo has its own limit

auth.add_nav("รายงาน", "exports.index", STAFF, order=60)
auth.add_nav("รูปกิจกรรมจังหวัด", "exports.photos", ("province",), order=65)


def _today_year() -> int:
    return fiscal.year_of(clock.now().astimezone(exports.BANGKOK).date())


def _year() -> int:
    raw = request.args.get("year", "")
    if not raw:
        return _today_year()
    if not raw.isdigit() or not 2500 <= int(raw) <= 2700:
        abort(400, description="ปีงบประมาณไม่ถูกต้องค่ะ กรุณาระบุเป็น พ.ศ. เช่น 2570")
    return int(raw)


def _scope() -> Scope:
    """What the signed-in person may take out (the decorator has already checked the role)."""
    who = auth.viewer()
    assert who is not None
    code = who.area_code or ""
    if who.role == "officer":
        return Scope(code[:2], code)
    if who.role == "province":
        return Scope(code)
    wanted = request.args.get("province", "")
    if len(wanted) != 2 or areas.find(wanted) is None:
        abort(400, description="กรุณาระบุจังหวัดด้วย ?province= เช่น ?province=38 ค่ะ")
    return Scope(wanted)


def _user() -> User:
    who = auth.viewer()
    assert who is not None
    return who.user


def _caller() -> str:
    return f"user:{_user().id}"


def _audit(action: str, scope: Scope, year: int, **detail: Any) -> None:
    with db.transaction() as session:
        area = scope.district_code or scope.province_code
        audit.record(session, action, "area", area, actor=_user(), year=year, **detail)


def _file(body: bytes | Iterator[bytes], mimetype: str, filename: str, ascii_name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename={ascii_name}; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/web/exports")
@auth.signed_in(*STAFF)
def index() -> str:
    scope, year = _scope(), _year()
    query = {"year": year} | ({"province": scope.province_code} if _user().role == "admin" else {})
    return render_template(
        "desk/exports.html",
        place=scope.place(),
        year=year,
        years=range(_today_year() + 1, _today_year() - 5, -1),
        query=query,
        province_staff=_user().role in {"province", "admin"},
    )


@bp.get("/web/exports/applicants.xlsx")
@auth.signed_in(*STAFF)
@throttle.limited("export", _caller)
def applicants_xlsx() -> Response:
    scope, year = _scope(), _year()
    with db.transaction() as session:
        rows = exports.applicant_rows(session, scope, year)
    _audit("export.applicants", scope, year, format="xlsx", rows=len(rows))
    body = exports.applicants_xlsx(rows, exports.applicants_title(scope, year))
    name = f"applicants-{year}.xlsx"
    return _file(body, exports.XLSX_MIME, f"บัญชีรายชื่อผู้สมัคร-{year}.xlsx", name)


@bp.get("/web/exports/applicants.csv")
@auth.signed_in(*STAFF)
@throttle.limited("export", _caller)
def applicants_csv() -> Response:
    scope, year = _scope(), _year()
    with db.transaction() as session:
        rows = exports.applicant_rows(session, scope, year)
    _audit("export.applicants", scope, year, format="csv", rows=len(rows))
    body = exports.applicants_csv(rows)
    return _file(body, "text/csv", f"บัญชีรายชื่อผู้สมัคร-{year}.csv", f"applicants-{year}.csv")


@bp.get("/web/exports/results.xlsx")
@auth.signed_in(*STAFF)
@throttle.limited("export", _caller)
def results_xlsx() -> Response:
    scope, year = _scope(), _year()
    with db.transaction() as session:
        rows = exports.result_rows(session, scope, year)
    _audit("export.results", scope, year, rows=len(rows))
    body = exports.results_xlsx(rows, exports.results_title(scope, year))
    return _file(body, exports.XLSX_MIME, f"ผลการรับรอง-{year}.xlsx", f"results-{year}.xlsx")


@bp.get("/web/exports/photos.zip")
@auth.signed_in("province")
@throttle.limited("bulk", _caller)
def photos_zip() -> Response:
    scope, year = _scope(), _year()
    with_evidence = request.args.get("evidence") == "1"
    with db.transaction() as session:
        entries = photos.zip_entries(session, scope.province_code, year, with_evidence)
    _audit("export.photos", scope, year, evidence=with_evidence, files=len(entries))
    storage = current_app.extensions["runtime"].storage
    body = photos.zip_stream(entries, storage.open)
    return _file(body, "application/zip", f"รูปกิจกรรม-{year}.zip", f"photos-{year}.zip")


@bp.get("/web/exports/outstanding.pdf")
@auth.signed_in("province")
@throttle.limited("export", _caller)
def outstanding_pdf() -> Response:
    scope, year = _scope(), _year()
    with db.transaction() as session:
        decision = committee.outstanding_of(session, scope.province_code, year)
        found = profile.profile_of(session, decision) if decision else None
    if found is None:
        abort(404, description="ยังไม่ได้เลือกผู้นำดีเด่นของปีนี้ค่ะ")
    storage = current_app.extensions["runtime"].storage
    images = []
    for key in found.photo_keys:
        try:
            with storage.open(key) as source:
                images.append(source.read())
        except (StorageError, OSError):
            continue  # a lost thumbnail must not cost the province the whole profile
    _audit("export.outstanding", scope, year)
    body = profile.render_profile(found, images)
    return _file(body, PDF, f"ผู้นำดีเด่น-{year}.pdf", f"outstanding-{year}.pdf")


@bp.get("/web/certificates/<int:decision_id>.pdf", endpoint="certificate")
@auth.signed_in(*STAFF)
@throttle.limited("export", _caller)
def certificate_pdf(decision_id: int) -> Response:
    with db.transaction() as session:
        decision = session.get(CommitteeDecision, decision_id)
        leader = session.get(LeaderProfile, decision.leader_id) if decision else None
        if decision is None or leader is None:
            abort(404)
        if not access.can_view_leader(_user(), leader):
            abort(403)
        page = certificate.certificate_of(session, decision)
        if page is None:
            abort(404, description="ผู้นำคนนี้ยังไม่ได้รับการรับรอง จึงยังไม่มีเกียรติบัตรค่ะ")
        audit.record(session, "certificate.download", "plan", decision.plan_id, actor=_user())
    body = certificate.render_certificates([page])
    name = f"certificate-{decision_id}.pdf"
    return _file(body, PDF, f"เกียรติบัตร-{page.leader_name}.pdf", name)


@bp.get("/web/certificates.pdf")
@auth.signed_in(*STAFF)
@throttle.limited("bulk", _caller)
def certificates_all() -> Response:
    scope, year = _scope(), _year()
    with db.transaction() as session:
        pages = certificate.certified(session, scope.province_code, year, scope.district_code)
    _audit("export.certificates", scope, year, pages=len(pages))
    body = certificate.render_certificates(pages)
    return _file(body, PDF, f"เกียรติบัตร-{year}.pdf", f"certificates-{year}.pdf")


# The province's own activity photos --------------------------------------------------------
def _own_photo(session: Any, photo_id: int) -> ProvincePhoto:
    row = session.get(ProvincePhoto, photo_id)
    if row is None or row.deleted_at is not None:
        abort(404)
    who = _user()
    if who.role != "admin" and row.province_code != who.area_code:
        abort(403)
    return row


@bp.route("/web/photos", methods=["GET", "POST"], endpoint="photos")
@auth.signed_in("province")
def photos_page() -> Any:
    scope, year = _scope(), _year()
    if request.method == "POST":
        auth.check_csrf()
        _upload(scope, year)
        return redirect(url_for("exports.photos", **request.args))
    with db.transaction() as session:
        rows = photos.listed(session, scope.province_code, year)
        session.expunge_all()
    return render_template(
        "desk/photos.html",
        rows=rows,
        year=year,
        place=scope.place(),
        activities=photos.ACTIVITIES,
        max_mb=photos.MAX_BYTES // (1024 * 1024),
        query=dict(request.args),
    )


def _upload(scope: Scope, year: int) -> None:
    if (request.content_length or 0) > MAX_UPLOAD:
        abort(413)
    throttle.refuse_if_over("upload", _caller())
    files = [f for f in request.files.getlist("photos") if f.filename or f.content_length]
    if not files:
        flash("กรุณาเลือกรูปอย่างน้อยหนึ่งรูปค่ะ", "error")
        return
    storage = current_app.extensions["runtime"].storage
    kept, refused = 0, []
    for upload in files:
        try:
            stored = photos.store(storage, iter(partial(upload.stream.read, 64 * 1024), b""))
            with db.transaction() as session:
                photos.record(
                    session,
                    stored,
                    scope.province_code,
                    year,
                    request.form.get("activity", ""),
                    request.form.get("caption", ""),
                    _user(),
                )
            kept += 1
        except photos.PhotoError as exc:
            refused.append(f"{upload.filename or 'รูป'}: {exc}")
    if kept:
        flash(f"บันทึกรูปแล้ว {kept} รูปค่ะ", "ok")
    for message in refused:
        flash(message, "error")


@bp.post("/web/photos/<int:photo_id>/delete")
@auth.signed_in("province")
def photo_delete(photo_id: int) -> Response:
    auth.check_csrf()
    storage = current_app.extensions["runtime"].storage
    with db.transaction() as session:
        row = _own_photo(session, photo_id)
        year, province = row.fiscal_year, row.province_code
        photos.delete(session, storage, row, _user())
    flash("ลบรูปแล้วค่ะ", "ok")
    query = {"year": year} | ({"province": province} if _user().role == "admin" else {})
    return redirect(url_for("exports.photos", **query))


@bp.get("/web/photos/<int:photo_id>/thumb")
@auth.signed_in("province")
def photo_thumb(photo_id: int) -> Response:
    with db.transaction() as session:
        key = photos.thumb_key(_own_photo(session, photo_id).content_hash)
    response = stream_object(key, "image/jpeg")
    if response is None:
        abort(404)
    return response
