"""Files the app serves under signed, expiring links: the plan as PDF or XLSX.

The link names the plan and the person it was made for; the person's access is checked again
when the file is fetched, so a link stops working when their role or area changes.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, render_template_string

from bot.db import db
from bot.documents.pdf import render_pdf
from bot.documents.xlsx import render_xlsx
from bot.links import LinkError, Links
from bot.models import LeaderProfile, Plan, User
from bot.services import access, audit, plans

bp = Blueprint("downloads", __name__)

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


@bp.get("/files/plan/<token>")
def plan_file(token: str) -> Response:
    links: Links = current_app.extensions["runtime"].site.links
    try:
        payload = links.load(token, "plan")
    except LinkError as exc:
        if exc.expired:
            return _refuse(410, "ลิงก์หมดอายุแล้ว", 'กรุณากด "ดาวน์โหลดแผน" ใน LINE อีกครั้งเพื่อรับลิงก์ใหม่ค่ะ')
        return _refuse(404, "ไม่พบไฟล์", "ลิงก์นี้ไม่ถูกต้อง กรุณาขอลิงก์ใหม่จาก LINE ค่ะ")
    fmt = payload.get("f")
    if fmt not in FORMATS:
        return _refuse(404, "ไม่พบไฟล์", "ลิงก์นี้ไม่ถูกต้อง กรุณาขอลิงก์ใหม่จาก LINE ค่ะ")
    with db.transaction() as session:
        plan = session.get(Plan, payload.get("p"))
        viewer = session.get(User, payload.get("u"))
        profile = session.get(LeaderProfile, plan.leader_id) if plan else None
        if plan is None or profile is None or viewer is None:
            return _refuse(404, "ไม่พบแผนนี้", "แผนนี้อาจถูกลบไปแล้วค่ะ")
        if not access.can_view_leader(viewer, profile):
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
