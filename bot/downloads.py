"""Files the app serves under signed, expiring links: the plan as PDF or XLSX, evidence, the
summary document and the certificate.

The link names the plan and the person it was made for; the person's access is checked again
when the file is fetched, so a link stops working when their role or area changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from flask import Blueprint, Response, current_app, render_template_string
from sqlalchemy.orm import Session

from bot import throttle
from bot.db import db
from bot.documents.certificate import certificate_of, render_certificates
from bot.documents.pdf import render_pdf
from bot.documents.xlsx import render_xlsx
from bot.links import LinkError, Links
from bot.models import CommitteeDecision, Evidence, LeaderProfile, Plan, SummaryDocument, User
from bot.services import access, audit, plans
from bot.storage import StorageError

bp = Blueprint("downloads", __name__)

# The certificate link sits in the leader's chat as a keepsake: it lasts a year. Who may
# open it is still checked on every fetch, so a role change stops it all the same.
CERTIFICATE_LINK_MAX_AGE = 366 * 24 * 3600

FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PAGE = """<!doctype html><html lang="th"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title><body style="font-family: sans-serif; padding: 2em">
<h1 style="font-size: 1.3em">{{ title }}</h1><p>{{ message }}</p></body></html>"""


def _refuse(status: int, title: str, message: str) -> Response:
    html = render_template_string(PAGE, title=title, message=message)
    return Response(html, status=status, mimetype="text/html")


@bp.before_request
def _not_too_often() -> Response | None:
    """Signed links are bearer links: a leaked one must not serve without bound."""
    wait = throttle.windows.wait_needed("file", throttle.address())
    if wait <= 0:
        return None
    refusal = _refuse(429, "ขอถี่เกินไป", throttle.too_often(wait))
    refusal.headers["Retry-After"] = str(int(wait) + 1)
    return refusal


@bp.after_request
def _headers(response: Response) -> Response:
    # The token in the address is the key: a link inside a served PDF must not carry it away
    # in a Referer, and a served file must never be sniffed into a page of this origin.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"
        )
        response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def _link_refused(exc: LinkError) -> Response:
    if exc.expired:
        return _refuse(410, "ลิงก์หมดอายุแล้ว", "กรุณาเปิดจาก LINE อีกครั้งเพื่อรับลิงก์ใหม่ค่ะ")
    return _refuse(404, "ไม่พบไฟล์", "ลิงก์นี้ไม่ถูกต้อง กรุณาขอลิงก์ใหม่จาก LINE ค่ะ")


@bp.get("/files/plan/<token>")
def plan_file(token: str) -> Response:
    links: Links = current_app.extensions["runtime"].site.links
    try:
        payload = links.load(token, "plan")
    except LinkError as exc:
        return _link_refused(exc)
    fmt = payload.get("f")
    if fmt not in FORMATS:
        return _refuse(404, "ไม่พบไฟล์", "ลิงก์นี้ไม่ถูกต้อง กรุณาขอลิงก์ใหม่จาก LINE ค่ะ")
    with db.transaction() as session:
        plan = session.get(Plan, payload.get("p"))
        viewer = session.get(User, payload.get("u"))
        if plan is None or session.get(LeaderProfile, plan.leader_id) is None:
            return _refuse(404, "ไม่พบแผนนี้", "แผนนี้อาจถูกลบไปแล้วค่ะ")
        if not _viewer_may_see(session, viewer, plan.leader_id):
            audit.record(session, "plan.download.denied", "plan", plan.id, actor=viewer)
            return _refuse(403, "ไม่มีสิทธิ์ดูแผนนี้", "สิทธิ์ของบัญชีนี้เปลี่ยนไปแล้วค่ะ")
        form = plans.plan_form(session, plan)
        audit.record(session, "plan.download", "plan", plan.id, actor=viewer, format=fmt)
    body = render_pdf(form) if fmt == "pdf" else render_xlsx(form)
    filename = f"แผนพัฒนาตนเอง-{form.leader_name}-{form.fiscal_year}.{fmt}"
    response = Response(body, mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=plan-{form.fiscal_year}.{fmt}; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def stream_object(key: str, mimetype: str, cache: str = "private, max-age=3600") -> Response | None:
    """A stored object as a streamed response (never whole in memory); None if it is gone."""
    storage = current_app.extensions["runtime"].storage
    try:
        source = storage.open(key)
    except StorageError:
        return None

    def chunks() -> Iterator[bytes]:
        with source:
            while chunk := source.read(256 * 1024):
                yield chunk

    response = Response(chunks(), mimetype=mimetype)
    response.headers["Cache-Control"] = cache
    return response


def _stream(key: str, mimetype: str, filename: str | None = None) -> Response:
    response = stream_object(key, mimetype)
    if response is None:
        return _refuse(404, "ไม่พบไฟล์", "ไฟล์นี้อาจถูกลบไปแล้วค่ะ")
    if filename:
        response.headers["Content-Disposition"] = (
            f"inline; filename=file; filename*=UTF-8''{quote(filename)}"
        )
    return response


def _viewer_may_see(session: Session, viewer: User | None, leader_id: int) -> bool:
    profile = session.get(LeaderProfile, leader_id)
    return viewer is not None and profile is not None and access.can_view_leader(viewer, profile)


@bp.get("/files/evidence/<token>")
def evidence_file(token: str) -> Response:
    """A thumbnail (EXIF stripped, for anyone allowed), or the original video or file. The
    original of a photo keeps its EXIF (time, place) and is never served to others."""
    links: Links = current_app.extensions["runtime"].site.links
    try:
        payload = links.load(token, "evidence")
    except LinkError as exc:
        return _link_refused(exc)
    variant = payload.get("v")
    with db.transaction() as session:
        row = session.get(Evidence, payload.get("e"))
        viewer = session.get(User, payload.get("u"))
        gone = row is None or row.deleted_at is not None or row.status != "stored"
        if gone or session.get(LeaderProfile, row.uploaded_by) is None:
            return _refuse(404, "ไม่พบหลักฐานนี้", "หลักฐานนี้อาจถูกลบไปแล้วค่ะ")
        if not _viewer_may_see(session, viewer, row.uploaded_by):
            audit.record(session, "evidence.view.denied", "evidence", row.id, actor=viewer)
            return _refuse(403, "ไม่มีสิทธิ์ดูหลักฐานนี้", "สิทธิ์ของบัญชีนี้เปลี่ยนไปแล้วค่ะ")
        if variant == "thumb" and row.thumb_key:
            return _stream(row.thumb_key, "image/jpeg")
        if variant == "file" and row.kind != "image" and row.storage_key:
            return _stream(
                row.storage_key, row.mime_type or "application/octet-stream", row.file_name
            )
    return _refuse(404, "ไม่พบไฟล์", "ลิงก์นี้ไม่ถูกต้อง กรุณาขอลิงก์ใหม่จาก LINE ค่ะ")


@bp.get("/files/summary/<token>")
def summary_file(token: str) -> Response:
    links: Links = current_app.extensions["runtime"].site.links
    try:
        payload = links.load(token, "summary")
    except LinkError as exc:
        return _link_refused(exc)
    with db.transaction() as session:
        job = session.get(SummaryDocument, payload.get("d"))
        viewer = session.get(User, payload.get("u"))
        plan = session.get(Plan, job.plan_id) if job else None
        ready = job is not None and job.status == "ready" and job.storage_key
        if not ready or plan is None or session.get(LeaderProfile, plan.leader_id) is None:
            return _refuse(404, "ไม่พบเอกสารนี้", "กรุณาขอเอกสารสรุปผลงานใหม่จาก LINE ค่ะ")
        if not _viewer_may_see(session, viewer, plan.leader_id):
            audit.record(session, "summary.download.denied", "plan", plan.id, actor=viewer)
            return _refuse(403, "ไม่มีสิทธิ์ดูเอกสารนี้", "สิทธิ์ของบัญชีนี้เปลี่ยนไปแล้วค่ะ")
        # Opened before the audit row is written: a document gone from storage was not downloaded.
        response = _stream(
            job.storage_key, "application/pdf", f"เอกสารสรุปผลงาน-{plan.fiscal_year}.pdf"
        )
        if response.status_code == 200:
            audit.record(session, "summary.download", "plan", plan.id, actor=viewer)
    return response


@bp.get("/files/certificate/<token>")
def certificate_file(token: str) -> Response:
    """The leader's certificate, pushed with her result; also opens for anyone who may see her."""
    links: Links = current_app.extensions["runtime"].site.links
    try:
        payload = links.load(token, "certificate", max_age=CERTIFICATE_LINK_MAX_AGE)
    except LinkError as exc:
        return _link_refused(exc)
    with db.transaction() as session:
        decision = session.get(CommitteeDecision, payload.get("d"))
        viewer = session.get(User, payload.get("u"))
        page = certificate_of(session, decision) if decision else None
        if decision is None or page is None:
            return _refuse(404, "ไม่พบเกียรติบัตร", "ผู้นำคนนี้ยังไม่ได้รับการรับรอง จึงยังไม่มีเกียรติบัตรค่ะ")
        if not _viewer_may_see(session, viewer, decision.leader_id):
            audit.record(
                session, "certificate.download.denied", "plan", decision.plan_id, actor=viewer
            )
            return _refuse(403, "ไม่มีสิทธิ์ดูเกียรติบัตรนี้", "สิทธิ์ของบัญชีนี้เปลี่ยนไปแล้วค่ะ")
        audit.record(session, "certificate.download", "plan", decision.plan_id, actor=viewer)
    response = Response(render_certificates([page]), mimetype=FORMATS["pdf"])
    filename = f"เกียรติบัตร-{page.fiscal_year}.pdf"
    response.headers["Content-Disposition"] = (
        f"inline; filename=certificate-{page.fiscal_year}.pdf; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
