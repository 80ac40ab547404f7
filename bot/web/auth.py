"""Signing in and out of the web desk, who is looking (`g.viewer`), CSRF tokens for forms,
and the security headers every desk page carries.

Opening a sign-in link shows a button rather than signing in at once: LINE's link preview
fetches every address sent in a chat, and must not use up the one-time link."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException, InternalServerError

from bot import clock
from bot.db import db
from bot.services import websignin
from bot.services.websignin import SignInError, Viewer

bp = Blueprint("auth", __name__, url_prefix="/web", template_folder="templates")

COOKIE = "desk_session"
ROLE_LABELS = {
    "leader": "ผู้นำ",
    "officer": "เจ้าหน้าที่อำเภอ",
    "province": "เจ้าหน้าที่จังหวัด",
    "admin": "ผู้ดูแลระบบ",
}
# The menu: (order, label, endpoint, roles); pages add themselves with `add_nav`.
_NAV: list[tuple[int, str, str, tuple[str, ...]]] = []


def add_nav(label: str, endpoint: str, roles: tuple[str, ...], order: int = 50) -> None:
    if not any(e[2] == endpoint for e in _NAV):
        _NAV.append((order, label, endpoint, roles))
        _NAV.sort()


def nav_for(who: Viewer | None) -> list[tuple[str, str]]:
    if who is None:
        return []
    return [
        (label, endpoint)
        for _, label, endpoint, roles in _NAV
        if (who.role in roles or who.role == "admin") and endpoint in current_app.view_functions
    ]


F = TypeVar("F", bound=Callable[..., Any])


def _cookie_token() -> str | None:
    return request.cookies.get(COOKIE)


def viewer() -> Viewer | None:
    """The signed-in person for this request (loaded once per request)."""
    if "viewer" not in g:
        with db.transaction() as session:
            found = websignin.current(session, _cookie_token(), clock.now())
            if found is not None:
                session.expunge(found.user)
        g.viewer = found
    return g.viewer


def signed_in(*roles: str) -> Callable[[F], F]:
    """Pages for signed-in people: nobody is sent to the sign-in page, a role not in
    `roles` (when given) gets 403. Area rules are the page's own, checked on the server."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            who = viewer()
            if who is None:
                return redirect(url_for("auth.sign_in_needed", next=request.full_path))
            if roles and who.role not in roles and who.role != "admin":
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def csrf_token() -> str:
    token = _cookie_token() or ""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"csrf:{token}".encode(), hashlib.sha256).hexdigest()


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    if not _cookie_token() or not hmac.compare_digest(sent, csrf_token()):
        abort(400, description="แบบฟอร์มหมดอายุ กรุณาโหลดหน้าใหม่แล้วลองอีกครั้งค่ะ")


def _secure_cookie() -> bool:
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    return request.is_secure or base.startswith("https://")


@bp.get("/signin")
def sign_in_needed() -> str:
    return render_template("desk/signin_needed.html", next=request.args.get("next", ""))


@bp.get("/signin/<token>")
def sign_in_page(token: str) -> str:
    return render_template("desk/signin.html", token=token)


@bp.post("/signin/<token>")
def sign_in(token: str) -> Response | tuple[str, int]:
    try:
        with db.transaction() as session:
            session_token = websignin.redeem(session, token, clock.now())
    except SignInError as exc:
        return render_template("desk/message.html", title="เข้าสู่ระบบไม่ได้", message=str(exc)), 400
    response = redirect(url_for("auth.home"))
    response.set_cookie(
        COOKIE,
        session_token,
        max_age=int(websignin.SESSION_LIFETIME.total_seconds()),
        secure=_secure_cookie(),
        httponly=True,
        samesite="Lax",
        path="/",
    )
    return response


@bp.post("/signout")
def sign_out() -> Response:
    check_csrf()
    with db.transaction() as session:
        websignin.end(session, _cookie_token(), clock.now())
    response = redirect(url_for("auth.signed_out"))
    response.delete_cookie(COOKIE, path="/")
    return response


@bp.get("/signed-out")
def signed_out() -> str:
    return render_template(
        "desk/message.html", title="ออกจากระบบแล้ว", message="ขอบคุณค่ะ ปิดหน้านี้ได้เลย"
    )


@bp.get("/")
@signed_in()
def home() -> str:
    return render_template("desk/home.html")


def _security_headers(response: Response) -> Response:
    if request.path.startswith("/web/") or request.path == "/web":
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "private, no-store")
    return response


# Desk answers in Thai for every refusal Werkzeug would otherwise word in English.
ERROR_MESSAGES = {
    400: ("คำขอไม่ถูกต้อง", "คำขอไม่ถูกต้องค่ะ"),
    403: ("ไม่มีสิทธิ์", "บัญชีของคุณไม่มีสิทธิ์ดูหน้านี้ค่ะ"),
    404: ("ไม่พบหน้า", "ไม่พบหน้าที่ต้องการค่ะ"),
    405: ("ใช้งานไม่ได้", "หน้านี้ใช้งานด้วยวิธีนี้ไม่ได้ค่ะ กรุณาเปิดจากเมนู"),
    413: ("ไฟล์ใหญ่เกินไป", "ไฟล์ที่ส่งรวมกันใหญ่เกินไปค่ะ กรุณาส่งทีละน้อยลง"),
    429: ("ขอถี่เกินไป", "ขอถี่เกินไปค่ะ กรุณารอสักครู่แล้วลองใหม่"),
}


def _error_page(title: str, status: int) -> Callable[[HTTPException], Any]:
    def handle(exc: HTTPException) -> Any:
        if not request.path.startswith("/web"):
            return exc  # the webhook and file links keep their own answers
        message = getattr(exc, "description", "") or ""
        if not message or not any("\u0e00" <= ch <= "\u0e7f" for ch in message):
            message = ERROR_MESSAGES[status][1]
        page = render_template("desk/message.html", title=title, message=message)
        # Keep what tells a client when to come back (Retry-After on a 429).
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() == "retry-after"]
        return page, status, headers

    return handle


FAULT_PAGE = """<!doctype html><html lang="th"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>ระบบขัดข้อง</title>
<body style="font-family: sans-serif; padding: 2em">
<h1 style="font-size: 1.3em">ระบบขัดข้องชั่วคราว</h1>
<p>ขออภัยค่ะ ข้อมูลที่ส่งมายังไม่ถูกบันทึก กรุณาลองใหม่อีกครั้งในอีกสักครู่</p></body></html>"""


def _fault_page(exc: InternalServerError) -> Any:
    # Standalone, not the desk layout: the layout reads the session from the database,
    # which may be the very thing that failed. (Flask has logged the original error.)
    if not request.path.startswith(("/web", "/p/")):
        return exc
    return Response(FAULT_PAGE, status=500, mimetype="text/html")


def init_app(app: Flask) -> None:
    app.after_request(_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["desk_viewer"] = viewer
    app.jinja_env.globals["desk_nav"] = nav_for
    app.jinja_env.globals["desk_role_label"] = lambda role: ROLE_LABELS.get(role, role)
    for status, (title, _) in ERROR_MESSAGES.items():
        app.register_error_handler(status, _error_page(title, status))
    app.register_error_handler(InternalServerError, _fault_page)
