"""Demo data: Bueng Kan province (38) with a district officer, province staff and leaders at
every stage of the year, for the LINE emulator and for trainers (`flask --app wsgi demo seed`).

Everything goes through the same services the chat uses, so the demo is what real use would
leave behind. Services stamp their rows with the app clock; the demo's story happened earlier
in the fiscal year, so its moments are written over those stamps once each person is done.
Areas are not seeded: they are read from geothai wherever they are needed.
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from fontpkg_sarabun import ROOT as SARABUN
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import media
from bot.models import InviteCode, Plan, PlanItem, User
from bot.services import (
    areas,
    committee,
    evidence,
    fiscal,
    inspection,
    invites,
    plans,
    progress,
    registration,
    standard,
)
from bot.services.thai import thai_date
from bot.storage import Storage, spool

BANGKOK = ZoneInfo("Asia/Bangkok")
PROVINCE = "38"
DISTRICT = "3801"
# The stages a leader can be shown at, in the order of the year.
STAGES = ("registered", "draft", "submitted", "in_progress", "assessment", "certified")
STAGE_LABELS = {
    "registered": "ลงทะเบียนแล้ว ยังไม่มีแผน",
    "draft": "กำลังเขียนแผน",
    "submitted": "ส่งแผนแล้ว รอตรวจ",
    "in_progress": "กำลังดำเนินการ มีหลักฐาน",
    "assessment": "ขอรับการประเมินแล้ว",
    "certified": "ได้รับการรับรองแล้ว",
}
ROLE_LABELS = {"leader": "ผู้นำ", "officer": "พัฒนากร", "province": "เจ้าหน้าที่จังหวัด"}
# As bot.intake keeps fetched photos: 1200×900 like a phone's, thumbnails 800 px.
PHOTO_SIZE = (1200, 900)
THUMB_SIDE = 800
ALREADY_THERE = "demo data is already there"


@dataclass(frozen=True)
class Activity:
    area: str  # the standard area's code: self, social or work
    activity: str
    mode: str  # "self" or "help"
    detail: str
    state: str = "not_started"  # where it stands once the demo is seeded
    photos: tuple[tuple[str, int], ...] = ()  # (caption, photos) per sending
    note: str | None = None


@dataclass(frozen=True)
class DemoPerson:
    key: str
    name: str
    role: str  # leader, officer or province
    area_code: str  # subdistrict, district or province
    stage: str | None = None  # leaders only: a key of STAGE_LABELS
    phone: str | None = None
    activities: tuple[Activity, ...] = field(default=(), repr=False)

    @property
    def line_user_id(self) -> str:
        """Fixed, so the emulator can offer the demo people by name."""
        return "U" + hashlib.sha256(f"mchch-demo:{self.key}".encode()).hexdigest()[:32]

    @property
    def label(self) -> str:
        """e.g. 'ผู้นำ ต.หอคำ · กำลังดำเนินการ มีหลักฐาน' for the emulator's list."""
        place = areas.label(self.area_code).split(" ")[0]
        role = f"{ROLE_LABELS[self.role]} {place}"
        return f"{role} · {STAGE_LABELS[self.stage]}" if self.stage else role


def _leader(key: str, name: str, code: str, stage: str, phone: str, *acts: Activity) -> DemoPerson:
    return DemoPerson(key, name, "leader", code, stage, phone, acts)


PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("province", "อรุณี แสงทอง", "province", PROVINCE),
    DemoPerson("officer", "วิชัย ประเสริฐสุข", "officer", DISTRICT),
    _leader("khampun", "คำปุ่น บุญเรือง", "380110", "registered", "0810000106"),
    _leader(
        "thongbai",
        "ทองใบ แก้วมณี",
        "380108",
        "draft",
        "0810000105",
        Activity("work", "ปลูกผักปลอดสารพิษขายในตลาดนัดชุมชน", "self", "ปลูกผักสวนครัวในแปลงรวมของหมู่บ้าน"),
        Activity("self", "อบรมการทำน้ำหมักชีวภาพจากเศษผลไม้", "help", "อาสาพัฒนาชุมชน: สอนทำน้ำหมักชีวภาพ"),
    ),
    _leader(
        "sudjai",
        "สุดใจ พรมมา",
        "380106",
        "submitted",
        "0810000104",
        Activity(
            "work",
            "เลี้ยงปลานิลในกระชังริมแม่น้ำโขง",
            "help",
            "ประมงอำเภอเมืองบึงกาฬ: พันธุ์ปลาและคำแนะนำการเลี้ยง",
        ),
        Activity("self", "จดบัญชีครัวเรือนทุกวัน", "self", "จดรายรับรายจ่ายในสมุดบัญชีครัวเรือนทุกเย็น"),
        Activity("social", "ชวนผู้สูงอายุถ่ายทอดการจักสานกระติบข้าว", "self", "นัดผู้สูงอายุสอนจักสานที่วัดทุกวันพระ"),
    ),
    _leader(
        "somsri",
        "สมศรี ใจดี",
        "380104",
        "in_progress",
        "0810000101",
        Activity(
            "work",
            "ทำปุ๋ยหมักจากเศษวัสดุการเกษตร ใช้ในแปลงผักของครัวเรือน",
            "help",
            "สถานีพัฒนาที่ดินบึงกาฬ: สาธิตการทำปุ๋ยหมักด้วยสารเร่ง พด.1",
            "done",
            (("กองปุ๋ยหมักชุดแรก ผสมฟางข้าวกับมูลวัว", 2), ("แจกปุ๋ยหมักให้สมาชิก 12 ครัวเรือน", 1)),
            "ทำปุ๋ยหมักได้ 3 กอง แจกสมาชิกแล้ว 12 ครัวเรือน",
        ),
        Activity(
            "work",
            "แปรรูปกล้วยตากพลังงานแสงอาทิตย์ ขายในตลาดชุมชน",
            "self",
            "ฝึกทำตามคู่มือของกลุ่มแม่บ้าน และทดลองอบในโรงอบพลังงานแสงอาทิตย์",
            "in_progress",
            (("กล้วยน้ำว้าในโรงอบพลังงานแสงอาทิตย์ วันที่ 3", 2),),
            "ทดลองอบแล้ว 2 รอบ กำลังออกแบบถุงบรรจุ",
        ),
        Activity(
            "social",
            "ชวนปราชญ์ชาวบ้านตั้งทีมถ่ายทอดการทอผ้าพื้นเมือง",
            "help",
            "กลุ่มทอผ้าบ้านหอคำ: ครูภูมิปัญญาสอนทอผ้าลายพื้นเมือง",
            "in_progress",
            (("ครูภูมิปัญญาสอนทอผ้าให้เยาวชน", 1),),
        ),
        Activity(
            "self",
            "อบรมการจดบัญชีครัวเรือนให้ครัวเรือนเป้าหมาย",
            "help",
            "ธ.ก.ส. สาขาบึงกาฬ: วิทยากรสอนจดบัญชีครัวเรือน",
        ),
    ),
    _leader(
        "pranom",
        "ประนอม ศรีสุข",
        "380102",
        "assessment",
        "0810000103",
        Activity(
            "self",
            "เรียนการขายออนไลน์ เพื่อขายผ้าทอและผลิตภัณฑ์ชุมชน",
            "help",
            "สำนักงานพัฒนาชุมชนอำเภอเมืองบึงกาฬ: อบรมการขายออนไลน์",
            "done",
            (("ถ่ายภาพสินค้าลงเพจของกลุ่ม", 1),),
        ),
        Activity(
            "work",
            "ทอผ้าพื้นเมืองลายนาคร่วมกับกลุ่มแม่บ้าน เพิ่มรายได้ครัวเรือน",
            "self",
            "ฝึกทอผ้าลายใหม่ร่วมกับสมาชิกกลุ่มสัปดาห์ละ 2 วัน",
            "done",
            (("ผ้าทอลายนาคผืนแรกของกลุ่ม", 2),),
            "ทอผ้าได้ 15 ผืน ขายได้แล้ว 9 ผืน",
        ),
        Activity(
            "social",
            "จัดเวทีแลกเปลี่ยนเรียนรู้ของทีมปราชญ์ประจำตำบล",
            "self",
            "จัดเวทีเดือนละครั้งที่ศาลากลางบ้าน",
            "done",
            (("เวทีแลกเปลี่ยนเรียนรู้ที่ศาลากลางบ้าน", 1),),
        ),
    ),
    _leader(
        "boonmee",
        "บุญมี รักถิ่น",
        "380101",
        "certified",
        "0810000102",
        Activity(
            "self",
            "ศึกษาดูงานเกษตรผสมผสานตามแนวเศรษฐกิจพอเพียง",
            "help",
            "ศูนย์เรียนรู้เศรษฐกิจพอเพียงอำเภอเมืองบึงกาฬ: ดูงานและฝึกปฏิบัติ",
            "done",
            (("ดูงานแปลงเกษตรผสมผสาน", 2),),
        ),
        Activity(
            "social",
            "ตั้งทีมปราชญ์ชุมชนด้านการเพาะเห็ดและแปรรูปยางพารา",
            "self",
            "ประชุมชาวบ้านคัดเลือกปราชญ์ 5 คน และทำทำเนียบปราชญ์ประจำตำบล",
            "done",
            (("ประชุมทีมปราชญ์ตำบลบึงกาฬ", 1),),
        ),
        Activity(
            "work",
            "ฝึกอาชีพเพาะเห็ดนางฟ้าให้ครัวเรือนเป้าหมาย 20 ครัวเรือน",
            "help",
            "สำนักงานเกษตรอำเภอเมืองบึงกาฬ: วิทยากรสอนเพาะเห็ด",
            "done",
            (("สมาชิกเก็บเห็ดนางฟ้ารุ่นแรก", 2),),
            "อบรมครบ 20 ครัวเรือน มีอาชีพเพาะเห็ดแล้ว 18 ครัวเรือน",
        ),
    ),
    _leader(
        "malai",
        "มาลัย ทองดี",
        "380203",
        "draft",
        "0810000107",
        Activity("work", "แปรรูปสับปะรดกวนขายเป็นของฝาก", "self", "ทดลองสูตรกับกลุ่มแม่บ้านบ้านพรเจริญ"),
        Activity("self", "อบรมการจดบัญชีครัวเรือน", "help", "ธ.ก.ส. สาขาพรเจริญ: วิทยากรสอนจดบัญชี"),
    ),
    _leader("wilaiwan", "วิไลวรรณ สีหา", "380401", "registered", "0810000108"),
)
# The work-management figures (trained, with an occupation, income before and after) of
# leaders far enough along to have counted them.
FIGURES = {
    "somsri": (20, 12, Decimal(36000), Decimal(36600)),
    "pranom": (15, 13, Decimal(39000), Decimal(40500)),
    "boonmee": (20, 18, Decimal(48000), Decimal(50400)),
}
SIGNER = ("นายประยงค์ มั่นคง", "พัฒนาการจังหวัดบึงกาฬ")


def person(key: str) -> DemoPerson:
    return next(p for p in PEOPLE if p.key == key)


# The year's timeline ---------------------------------------------------------------------
class Timeline:
    """Moments of the demo's story as fractions of the fiscal year so far: 0 is its first
    day, 1 is now. The story fits whenever it is seeded, and nothing happens after now."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.today = now.astimezone(BANGKOK).date()
        self.year = fiscal.year_of(self.today)
        self.first, self.last = fiscal.bounds(self.year)
        self.start = datetime.combine(self.first, time(0), BANGKOK)

    def at(self, f: float, hour: int = 10, minute: int = 0) -> datetime:
        """During office hours on that day, but never later than now."""
        day = (self.start + (self.now - self.start) * f).date()
        moment = datetime.combine(day, time(hour, minute), BANGKOK).astimezone(UTC)
        return min(moment, self.now)

    def day(self, f: float) -> date:
        return self.at(f).astimezone(BANGKOK).date()

    def after(self, moment: datetime, minutes: int) -> datetime:
        return min(moment + timedelta(minutes=minutes), self.now)

    def ahead(self, days: int) -> date:
        """A day to come, inside the fiscal year."""
        return min(self.last, self.today + timedelta(days=days))


# Photos ----------------------------------------------------------------------------------
PALETTES = (
    ("#2F6B3A", "#A7D38C"),  # fields
    ("#7A4B1E", "#E8C07D"),  # bananas drying, compost
    ("#5B2A6E", "#D9A7E0"),  # weaving
    ("#1E4E79", "#9CC9E8"),  # river, meetings
)


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "Sarabun-Bold.ttf" if bold else "Sarabun-Regular.ttf"
    return ImageFont.truetype(str(SARABUN / "files" / name), size)


def _fitted(text: str, width: int, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    while _font(size, bold).getlength(text) > width and size > 24:
        size -= 4
    return _font(size, bold)


def draw_photo(caption: str, place: str, taken: datetime, seed: str) -> bytes:
    """A stand-in photo: a coloured scene, the caption in Sarabun and when and where it was
    taken, with the time in its EXIF as a phone writes it."""
    width, height = PHOTO_SIZE
    rng = random.Random(seed)
    dark, light = PALETTES[rng.randrange(len(PALETTES))]
    mask = Image.linear_gradient("L").resize(PHOTO_SIZE)
    image = Image.composite(
        Image.new("RGB", PHOTO_SIZE, dark), Image.new("RGB", PHOTO_SIZE, light), mask
    )
    pen = ImageDraw.Draw(image, "RGBA")
    for _ in range(7):  # hills and trees, so no two photos look alike
        x, y, r = rng.randrange(width), rng.randrange(height // 3, height), rng.randrange(60, 260)
        tint = (rng.randrange(256), rng.randrange(256), rng.randrange(256), 70)
        pen.ellipse([x - r, y - r, x + r, y + r], fill=tint)
    sun = rng.randrange(150, width - 150)
    pen.ellipse([sun - 70, 90, sun + 70, 230], fill=(255, 236, 160, 200))
    pen.rounded_rectangle([30, 30, 430, 90], 14, fill=(0, 0, 0, 110))
    pen.text((50, 60), "ภาพตัวอย่าง (ข้อมูลสาธิต)", font=_font(30), fill="white", anchor="lm")
    pen.rectangle([0, height - 210, width, height], fill=(0, 0, 0, 150))
    pen.text(
        (width / 2, height - 140),
        caption,
        font=_fitted(caption, width - 80, 60, True),
        fill="white",
        anchor="mm",
    )
    local = taken.astimezone(BANGKOK)
    when = f"{place} · {thai_date(local)} เวลา {local:%H.%M} น."
    pen.text(
        (width / 2, height - 60),
        when,
        font=_fitted(when, width - 80, 36, False),
        fill="#EEEEEE",
        anchor="mm",
    )
    exif = Image.Exif()
    exif[0x0132] = local.strftime("%Y:%m:%d %H:%M:%S")  # DateTime, read back by bot.media
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def _keep(storage: Storage, data: bytes) -> tuple[str, str, str, int]:
    """Store a JPEG and its thumbnail under the content hash, as bot.intake does; returns
    the hash, the key, the thumbnail's key and the size."""
    spooled = spool(storage, [data], None)
    sha = spooled.sha256
    key, thumb_key = f"objects/{sha[:2]}/{sha}.jpg", f"thumbs/{sha[:2]}/{sha}.jpg"
    thumb = Path(f"{spooled.path}.thumb.jpg")
    try:
        media.thumbnail(spooled.path, thumb, THUMB_SIDE)
        storage.put(thumb_key, thumb, "image/jpeg")
        storage.put(key, spooled.path, "image/jpeg")
    finally:
        spooled.path.unlink(missing_ok=True)
        thumb.unlink(missing_ok=True)
    return sha, key, thumb_key, spooled.size


# Seeding ---------------------------------------------------------------------------------
@dataclass
class _Seeding:
    session: Session
    storage: Storage
    line: Timeline
    users: dict[str, User] = field(default_factory=dict)
    photos: int = 0
    report: list[str] = field(default_factory=list)

    def user(self, who: DemoPerson, at: datetime) -> User:
        """Followed the bot and accepted the consent, as in the chat."""
        user = User(
            line_user_id=who.line_user_id,
            display_name=who.name,
            role="guest",
            status="new",
            following=True,
            created_at=at,
        )
        self.session.add(user)
        self.session.flush()
        registration.accept_consent(self.session, user, at, who.name)
        self.users[who.key] = user
        return user

    def staff(self, who: DemoPerson, f: float) -> None:
        at = self.line.at(f, 9)
        user = self.user(who, at)
        code = invites.create(self.session, who.role, who.area_code, note=f"demo: {who.name}")
        redeemed = invites.redeem(self.session, user, code, self.line.after(at, 5))
        assert redeemed is not None
        invite = self.session.scalar(select(InviteCode).where(InviteCode.used_by == user.id))
        if invite is not None:
            invite.created_at = at - timedelta(days=1)
        user.updated_at = user.last_seen_at = self.line.after(at, 5)

    def leader(self, who: DemoPerson, shift: float) -> None:
        line = self.line
        joined = line.at(0.02 + shift, 9, 30)
        user = self.user(who, joined)
        profile = registration.complete(
            self.session,
            user,
            registration.LeaderDetails(who.name, who.area_code, who.phone),
        )
        profile.registered_at = last_seen = line.after(joined, 4)
        summary = STAGE_LABELS[who.stage or "registered"]
        if who.stage != "registered":
            plan, moments = self.plan(who, user, shift)
            last_seen = max(moments.values())
            done = sum(1 for i in plan.items if i.state == "done")
            summary += f"; {done}/{len(plan.items)} activities done"
            decision = committee.of(self.session, plan.id)
            if decision is not None:
                summary += f"; certificate {decision.certificate_no}"
        self.session.flush()
        user.updated_at = user.last_seen_at = last_seen
        self.report.append(f"leader   {who.name} ({areas.label(who.area_code)}): {summary}")

    def plan(self, who: DemoPerson, user: User, shift: float) -> tuple[Plan, dict[str, datetime]]:
        """The leader's plan brought to her stage; returns it and when each step happened."""
        line, session = self.line, self.session
        stage = STAGES.index(who.stage or "registered")
        plan = plans.get_or_create(session, user, line.year)
        edition = plans.edition(session, plan)
        started = stage >= STAGES.index("in_progress")
        for n, act in enumerate(who.activities):
            starts, ends = self.period(act, n, started, shift)
            draft = plans.ItemDraft(
                component_id=_component(edition, act.area),
                activity=act.activity,
                mode=act.mode,
                detail=act.detail,
                responsible=who.name,
                starts_on=starts,
                ends_on=ends,
            )
            plans.add_item(session, plan, draft, user)
        session.refresh(plan, ["items"])
        drafted = line.at(0.06 + shift, 19, 10)
        for item in plan.items:
            item.created_at = item.updated_at = drafted
        moments = {"created": drafted, "updated": drafted}
        if stage >= STAGES.index("submitted"):
            ready = line.day(0.8) if stage >= STAGES.index("assessment") else line.ahead(200)
            plans.set_ready(session, plan, ready, user)
            plans.submit(session, plan, user)
            moments["submitted"] = moments["updated"] = line.at(0.1 + shift, 20)
        if started:
            plans.approve(session, plan, self.users["officer"], plan.revision)
            moments["reviewed"] = moments["updated"] = line.at(0.14 + shift, 11)
            for n, (item, act) in enumerate(zip(plan.items, who.activities, strict=True)):
                self.carry_out(who, user, item, act, 0.25 + 0.1 * n + shift)
        if who.key in FIGURES:
            trained, working, before, after = FIGURES[who.key]
            progress.record_figures(
                session,
                plan,
                user,
                trained=trained,
                with_occupation=working,
                income_before=before,
                income_after=after,
            )
            moments["updated"] = line.at(0.72 + shift, 19)
        if stage >= STAGES.index("assessment"):
            progress.request_assessment(session, plan, user)
            moments["assessment"] = moments["updated"] = line.at(0.78 + shift, 9)
        if who.stage == "certified":
            moments["updated"] = self.certify(plan, shift)
        session.flush()
        plan.created_at, plan.updated_at = moments["created"], moments["updated"]
        plan.submitted_at = moments.get("submitted")
        plan.reviewed_at = moments.get("reviewed")
        plan.assessment_requested_at = moments.get("assessment")
        session.flush()
        return plan, moments

    def period(self, act: Activity, n: int, started: bool, shift: float) -> tuple[date, date]:
        """The n-th activity's planned dates: under way since early in the year once the plan
        is being carried out, else still to come; what is not done yet is not late."""
        line = self.line
        if not started:
            return line.ahead(7 + 10 * n), line.ahead(97 + 10 * n)
        if act.state == "not_started":
            return line.ahead(14), line.ahead(60 + 20 * n)
        if act.state == "done":
            return line.day(0.2 + shift), line.day(0.55 + 0.1 * n + shift)
        return line.day(0.2 + shift), line.ahead(60 + 20 * n)

    def certify(self, plan: Plan, shift: float) -> datetime:
        """The officer takes the request, inspects and recommends; the committee certifies.
        Returns when the plan last changed."""
        line, session = self.line, self.session
        officer, staff = self.users["officer"], self.users["province"]
        progress.accept_assessment(session, plan, officer)
        inspection.record(
            session,
            plan,
            officer,
            "recommend",
            "ทำกิจกรรมครบตามแผน มีหลักฐานชัดเจน และครัวเรือนเป้าหมายมีรายได้เพิ่มขึ้นตามเป้าหมาย",
            line.day(0.85 + shift),
            line.today,
        )
        decision = committee.decide(
            session, plan, staff, "certified", line.day(0.95), None, line.today
        )
        seen = inspection.of(session, plan.id)
        assert seen is not None
        seen.created_at = seen.updated_at = line.at(0.85 + shift, 15)
        decision.created_at = decision.updated_at = line.at(0.95, 14)
        return seen.created_at

    def carry_out(
        self, who: DemoPerson, user: User, item: PlanItem, act: Activity, f: float
    ) -> None:
        """Photos sent for the activity, each sending captioned, then its state and note."""
        session, line = self.session, self.line
        sent = line.at(f, 14)
        for n, (caption, count) in enumerate(act.photos):
            sent = line.at(f + 0.05 * n, 14, 10 * n)
            rows = []
            for i in range(count):
                taken = sent - timedelta(minutes=20 * (count - i))
                seed = f"{who.key}:{item.position}:{n}:{i}"
                data = draw_photo(caption, areas.label(who.area_code), taken, seed)
                sha, key, thumb_key, size = _keep(self.storage, data)
                row = evidence.receive(
                    session,
                    user,
                    message_id=f"demo-{who.key}-{item.position}-{n}-{i}",
                    kind="image",
                    item_id=None,
                    set_id=f"demo-{who.key}-{item.position}-{n}" if count > 1 else None,
                    file_name=None,
                    reply_token=None,
                    reply_by=None,
                )
                # What bot.intake writes once the bytes are in storage.
                row.status, row.attempts = "stored", 1
                row.content_hash, row.storage_key, row.thumb_key = sha, key, thumb_key
                row.size_bytes, row.mime_type, row.taken_at = size, "image/jpeg", taken
                row.created_at = row.next_attempt_at = row.stored_at = sent
                rows.append(row)
                self.photos += 1
            evidence.assign(session, rows, item, user)
            session.flush()
            evidence.describe(session, user, item.id, caption)
        if act.state != "not_started":
            progress.set_state(session, item, act.state, act.note, user)
            item.updated_at = line.after(sent, 15)


def _component(edition: standard.Edition, area_code: str) -> int:
    """The first component of the area; a province's own edition may name areas otherwise,
    so fall back to the area at the same place in the letter's order."""
    found = next((a for a in edition.areas if a.code == area_code), None)
    if found is None or not found.components:
        order = ("self", "social", "work")
        index = order.index(area_code) if area_code in order else 0
        usable = [a for a in edition.areas if a.components]
        found = usable[min(index, len(usable) - 1)]
    return found.components[0].id


def already_seeded(session: Session) -> bool:
    ids = [p.line_user_id for p in PEOPLE]
    return session.scalar(select(User.id).where(User.line_user_id.in_(ids)).limit(1)) is not None


def seed(session: Session, storage: Storage, *, now: datetime) -> list[str]:
    """Fill the database with the demo; a database that has any demo person is left alone.
    Returns lines for the CLI to print."""
    if already_seeded(session):
        return [ALREADY_THERE]
    line = Timeline(now)
    seeding = _Seeding(session, storage, line)
    districts = areas.districts(PROVINCE)
    subdistricts = sum(len(areas.subdistricts(d.code)) for d in districts)
    seeding.report.append(
        f"{areas.label(PROVINCE)} ({PROVINCE}): {len(districts)} districts, {subdistricts} "
        "subdistricts, read from geothai"
    )
    seeding.report.append(
        f"fiscal year {line.year}: {thai_date(line.first)} to {thai_date(line.today)} so far"
    )
    seeding.staff(person("province"), 0.0)
    seeding.staff(person("officer"), 0.01)
    for who in (p for p in PEOPLE if p.role != "leader"):
        seeding.report.append(f"{who.role:<8} {who.name} ({areas.label(who.area_code)})")
    leaders = [p for p in PEOPLE if p.role == "leader"]
    for n, who in enumerate(leaders):
        seeding.leader(who, 0.005 * n)
    settings = committee.settings_of(session, PROVINCE)
    if not settings.signer_name:
        committee.save_settings(session, PROVINCE, seeding.users["province"], *SIGNER)
    session.flush()
    seeding.report.append(f"photos   {seeding.photos} stored with thumbnails")
    seeding.report.append(f"{len(PEOPLE)} demo people; their LINE user IDs are in bot.demo.PEOPLE")
    return seeding.report
