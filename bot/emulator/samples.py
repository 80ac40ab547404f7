"""Every template of `flex_templates/` filled with made-up data, so a designer can start from
what the bot really sends (the preview's dropdown "ตัวอย่างจากบอท") and the renderer's tests
can walk every template."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot import render
from bot.render import button, message_action, postback_action, uri_action

Message = dict[str, Any]

PERSON = "นางสมศรี ใจดี"
AREA = "ตำบลในเมือง อำเภอเมืองบึงกาฬ จังหวัดบึงกาฬ"


def _buttons(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    """Footer buttons: the first one primary, as the bot's cards do."""
    return [
        button(postback_action(label, data), "primary" if n == 0 else "secondary")
        for n, (label, data) in enumerate(pairs)
    ]


def _appointment() -> Message:
    rows = [
        {"label": "วันที่", "value": "พฤหัสบดี 17 มิถุนายน 2570", "strike": True},
        {"label": "วันใหม่", "value": "ศุกร์ 18 มิถุนายน 2570 เวลา 09:30 น.", "strike": False},
        {"label": "สถานที่", "value": "ศาลาประชาคมหมู่ 3 บ้านโนนสวรรค์", "strike": False},
    ]
    return render.flex(
        "appointment.json",
        "เลื่อนวันประเมิน",
        colour="#B35C00",
        heading="เลื่อนวันประเมินผู้นำ",
        sender="จาก พัฒนาการอำเภอเมืองบึงกาฬ",
        lead="ขออภัยค่ะ วันประเมินเดิมเลื่อนออกไป 1 วัน",
        rows=rows,
        footnote='แตะ "รับทราบ" เพื่อแจ้งเจ้าหน้าที่ค่ะ',
        buttons=_buttons(("รับทราบ", "a=ack&b=1"), ("ขอเลื่อน", "a=postpone&b=1")),
    )


def _broadcast_districts() -> Message:
    names = ["เมืองบึงกาฬ", "พรเจริญ", "โซ่พิสัย", "เซกา", "ปากคาด", "บึงโขงหลง", "ศรีวิไล"]
    districts = [
        {"on": n % 3 == 0, "action": postback_action(name, f"a=bc.district&d={n}")}
        for n, name in enumerate(names)
    ]
    return render.flex(
        "broadcast_districts.json",
        "เลือกอำเภอ",
        pages=[districts[:5], districts[5:]],
        title="เลือกอำเภอที่จะประกาศ",
        chosen="เลือกแล้ว: เมืองบึงกาฬ, เซกา, ศรีวิไล",
        done=postback_action("เสร็จแล้ว", "a=bc.done"),
    )


def _broadcast_list() -> Message:
    item = {
        "when": "ประเมินวันที่ 18 มิถุนายน 2570",
        "status": "ส่งแล้ว 42 คน · อ่านแล้ว 30 คน",
        "lines": ["อำเภอเมืองบึงกาฬ 20 คน", "อำเภอเซกา 22 คน"],
        "buttons": _buttons(("ดูรายละเอียด", "a=bc.view&b=1"), ("ยกเลิกประกาศ", "a=bc.cancel&b=1")),
    }
    return render.flex(
        "broadcast_list.json",
        "ประกาศวันประเมิน",
        items=[item, {**item, "when": "ประเมินวันที่ 2 กรกฎาคม 2570"}],
        hint="ประกาศวันประเมินให้ผู้นำในอำเภอที่เลือกทราบค่ะ",
        new=postback_action("ประกาศใหม่", "a=bc.new"),
    )


def _broadcast_summary() -> Message:
    return render.flex(
        "broadcast_summary.json",
        "สรุปการประกาศ",
        title="สรุปการประกาศวันประเมิน",
        subtitle="ส่งเมื่อ 10 มิถุนายน 2570 เวลา 09:00 น.",
        stats=[
            {"label": "ผู้นำที่ได้รับ", "value": "42 คน"},
            {"label": "ยืนยันเข้าร่วม", "value": "35 คน"},
            {"label": "ขอเลื่อน", "value": "2 คน"},
        ],
        lines_title="ยังไม่ตอบ",
        lines=["นายบุญมี รักถิ่น (เซกา)", "นางสาวมาลี ศรีสุข (ศรีวิไล)"],
        footnote="ข้อมูล ณ วันที่ 12 มิถุนายน 2570",
        buttons=_buttons(("ส่งเตือนอีกครั้ง", "a=bc.remind&b=1")),
    )


def _buttons_card() -> Message:
    return render.flex(
        "buttons.json",
        "ดาวน์โหลดแผน",
        title="ดาวน์โหลดแผนพัฒนาตนเอง",
        body="เลือกรูปแบบไฟล์ที่ต้องการค่ะ ลิงก์ใช้ได้ 7 วัน",
        buttons=[
            button(
                uri_action("PDF (แบบฟอร์มทางการ)", "https://bot.example.test/d/plan.pdf"), "primary"
            ),
            button(uri_action("Excel", "https://bot.example.test/d/plan.xlsx")),
            button(message_action("กลับเมนูหลัก", "เมนู"), "link"),
        ],
    )


def _calendar() -> Message:
    entries = [
        {
            "title": "ส่งแผนพัฒนาตนเอง",
            "when": "30 พฤศจิกายน 2569",
            "countdown": "ผ่านมาแล้ว",
            "source": "กำหนดของกรมการพัฒนาชุมชน",
            "ref": "หนังสือ มท 0403/ว 123",
            "past": True,
            "own": False,
            "note": None,
            "buttons": [],
        },
        {
            "title": "ประเมินผลผู้นำระดับอำเภอ",
            "when": "18 มิถุนายน 2570",
            "countdown": "อีก 8 วัน",
            "source": "นัดหมายของคุณ",
            "ref": "ศาลาประชาคมหมู่ 3",
            "past": False,
            "own": True,
            "note": "เตรียมหลักฐานให้ครบค่ะ",
            "buttons": [
                postback_action("รายละเอียด", "a=cal.view&e=2"),
                postback_action("เลื่อนนัด", "a=cal.move&e=2"),
            ],
        },
    ]
    return render.flex(
        "calendar.json",
        "ปฏิทินงาน",
        year=2570,
        subtitle="ตั้งแต่ 1 ตุลาคม 2569 ถึง 30 กันยายน 2570",
        entries=entries,
        hint='พิมพ์ "ปฏิทิน" เพื่อดูอีกครั้งค่ะ',
    )


def _choices() -> Message:
    names = ["บึงกาฬ", "หนองคาย", "อุดรธานี", "สกลนคร", "นครพนม", "เลย", "ขอนแก่น", "กาฬสินธุ์"]
    options = [
        {"label": name, "data": f"f=register&s=1&a=pick&v={n}"} for n, name in enumerate(names)
    ]
    return render.flex(
        "choices.json",
        "เลือกจังหวัด",
        title="เลือกจังหวัดของคุณ",
        hint="แตะชื่อจังหวัดค่ะ",
        pages=[options[:5], options[5:]],
    )


def _committee_cards() -> Message:
    card = {
        "status": "รอพิจารณา",
        "color": "#B35C00",
        "name": PERSON,
        "area": AREA,
        "rows": [
            {"label": "ผลการประเมินระดับอำเภอ", "value": "ผ่าน 92 คะแนน"},
            {"label": "ความเห็นอำเภอ", "value": "เสนอรับรองเป็นผู้นำสัมมาชีพชุมชน"},
        ],
        "pending": True,
        "action": postback_action("บันทึกผล", "a=cm.decide&l=1"),
    }
    done = {**card, "status": "รับรองแล้ว", "color": "#1F6E43", "name": "นายบุญมี รักถิ่น"}
    done |= {"pending": False, "action": postback_action("ดูผล", "a=cm.view&l=2")}
    return render.flex("committee_cards.json", "ผลการพิจารณา", cards=[card, done])


def _consent() -> Message:
    return render.flex("consent.json", "ขอความยินยอมในการเก็บข้อมูลส่วนบุคคล (มชช.)")


def _digest() -> Message:
    return render.flex(
        "digest.json",
        "สรุปประจำสัปดาห์",
        title="อำเภอเมืองบึงกาฬ",
        subtitle="สัปดาห์ 7–13 มิถุนายน 2570",
        states=[
            {"label": "ลงทะเบียนแล้ว", "count": 42},
            {"label": "ส่งแผนแล้ว", "count": 30},
            {"label": "ตรวจแล้ว", "count": 12},
            {"label": "ถูกส่งกลับ", "count": 0},
        ],
        late_title="กิจกรรมเลยกำหนด 2 รายการ",
        late=["นางสมศรี ใจดี: อบรมการทำปุ๋ยหมัก", "นายบุญมี รักถิ่น: ศึกษาดูงาน"],
        silent_title="ไม่มีความเคลื่อนไหว 1 คน",
        silent=["นางสาวมาลี ศรีสุข (30 วัน)"],
        buttons=_buttons(("ดูรายชื่อผู้นำ", "a=officer.leaders"), ("ปฏิทินงาน", "a=calendar")),
    )


def _evidence_list() -> Message:
    photo = {
        "thumb": "https://bot.example.test/files/evidence/1.jpg",
        "heading": "กิจกรรมที่ 1 อบรมการทำปุ๋ยหมัก",
        "icon": "📷",
        "name": "รูปภาพ",
        "date": "ถ่ายเมื่อ 5 มิถุนายน 2570",
        "caption": "ชาวบ้านร่วมอบรม 25 คน ที่ศาลาประชาคม",
        "buttons": [
            button(
                uri_action("เปิดไฟล์", "https://bot.example.test/files/evidence/1.jpg"), "primary"
            ),
            button(postback_action("ลบ", "a=evidence.delete&e=1", "ลบ")),
        ],
    }
    document = {**photo, "thumb": None, "icon": "📄", "name": "รายชื่อผู้เข้าอบรม.pdf", "caption": ""}
    more = {"count": 3, "action": postback_action("ดูเพิ่มเติม", "a=evidence.list&i=1")}
    return render.flex("evidence_list.json", "หลักฐาน", items=[photo, document], more=more)


def _item_form() -> Message:
    rows = [
        {"label": "1. ด้าน", "value": "ด้านเศรษฐกิจ", "filled": True, "current": False},
        {"label": "2. กิจกรรม", "value": "อบรมการทำปุ๋ยหมัก", "filled": True, "current": False},
        {"label": "3. รายละเอียด", "value": "ยังไม่ได้กรอก", "filled": False, "current": True},
    ]
    for n, row in enumerate(rows):
        row["edit"] = postback_action("แก้ไข", f"f=item&s=1&a=edit&field={n}")
    return render.flex(
        "item_form.json",
        "เพิ่มกิจกรรม",
        title="เพิ่มกิจกรรม",
        subtitle="แผนพัฒนาตนเอง ปีงบประมาณ 2570",
        rows=rows,
        question="พิมพ์รายละเอียดของกิจกรรมค่ะ",
        buttons=_buttons(("บันทึก", "f=item&s=1&a=save"), ("ยกเลิก", "f=item&s=1&a=cancel")),
    )


def _item_list() -> Message:
    item = {
        "number": 1,
        "area": "ด้านเศรษฐกิจ · การพัฒนาอาชีพ",
        "activity": "อบรมการทำปุ๋ยหมักชีวภาพให้สมาชิกกลุ่ม",
        "rows": [
            {"label": "ทำเอง/ช่วยผู้อื่น", "value": "ช่วยผู้อื่น"},
            {"label": "ช่วงเวลา", "value": "1 ธันวาคม 2569 – 31 มีนาคม 2570"},
            {"label": "ผู้รับผิดชอบ", "value": PERSON},
        ],
        "buttons": [
            button(postback_action("แก้ไข", "a=item.edit&i=1"), "primary"),
            button(postback_action("ลบ", "a=item.delete&i=1")),
        ],
    }
    more = {"count": 4, "action": postback_action("ดูเพิ่มเติม", "a=plan.items&p=1")}
    second = {**item, "number": 2, "activity": "ศึกษาดูงานกลุ่มอาชีพตำบลข้างเคียง"}
    return render.flex("item_list.json", "กิจกรรม", items=[item, second], more=more)


def _officer_leaders() -> Message:
    leader = {
        "open": postback_action(PERSON, "a=officer.leader&l=1"),
        "subdistrict": "ตำบลในเมือง",
        "name": PERSON,
        "state": "ส่งแผนแล้ว รอตรวจ",
        "state_color": "#B35C00",
        "rows": [
            {"label": "กิจกรรม", "value": "5 รายการ", "color": "#111111"},
            {"label": "เลยกำหนด", "value": "1 รายการ", "color": "#C0392B"},
        ],
        "buttons": _buttons(("ตรวจแผน", "a=plan.review&l=1"), ("ดูความคืบหน้า", "a=progress&l=1")),
    }
    more = {"text": "และอีก 12 คน", "action": postback_action("ดูเพิ่มเติม", "a=officer.leaders&p=1")}
    return render.flex("officer_leaders.json", "ผู้นำในอำเภอ", leaders=[leader], more=more)


def _plan_card() -> Message:
    areas = [
        {
            "name": "ด้านเศรษฐกิจ",
            "lines": [
                {"text": "1. อบรมการทำปุ๋ยหมัก", "size": "sm", "color": "#111111", "state": "เสร็จแล้ว"},
                {"text": "2. ศึกษาดูงาน", "size": "sm", "color": "#C0392B", "state": "เลยกำหนด"},
            ],
        },
        {
            "name": "ด้านสังคม",
            "lines": [{"text": "ยังไม่มีกิจกรรม", "size": "xs", "color": "#999999", "state": None}],
        },
    ]
    return render.flex(
        "plan_card.json",
        "แผนพัฒนาตนเอง",
        year=2570,
        leader=PERSON,
        status="ถูกส่งกลับให้แก้ไข",
        comment="กรุณาเพิ่มกิจกรรมด้านสังคมอย่างน้อย 1 กิจกรรมค่ะ",
        areas=areas,
        summary=["กิจกรรม 2 รายการ", "งบประมาณรวม 5,000 บาท"],
        buttons=_buttons(("เพิ่มกิจกรรม", "a=item.add"), ("ส่งแผน", "a=plan.submit")),
    )


def _profile() -> Message:
    return render.flex(
        "profile.json",
        "ข้อมูลของฉัน",
        heading="ข้อมูลของฉัน",
        name=PERSON,
        rows=[
            {"label": "พื้นที่", "value": AREA},
            {"label": "โทรศัพท์", "value": "081-234-5678"},
            {"label": "บทบาท", "value": "ผู้นำสัมมาชีพชุมชน"},
        ],
        buttons=[{"label": "ดูแผนของฉัน", "data": "a=plan.view&l=1"}],
    )


def _progress_card() -> Message:
    return render.flex(
        "progress_card.json",
        "ความคืบหน้า",
        year=2570,
        leader=PERSON,
        overall="เสร็จแล้ว 3 จาก 5 กิจกรรม (60%)",
        areas=[
            {"name": "ด้านเศรษฐกิจ", "line": "เสร็จ 2 จาก 3 กิจกรรม"},
            {"name": "ด้านสังคม", "line": "เสร็จ 1 จาก 2 กิจกรรม"},
        ],
        late_title="เลยกำหนด 1 กิจกรรม",
        late=["ศึกษาดูงานกลุ่มอาชีพ (ครบกำหนด 31 มีนาคม 2570)"],
        figures=["ครัวเรือนที่อบรม 25 ครัวเรือน", "รายได้เพิ่มขึ้น 1,200 บาทต่อเดือน"],
        assessment="ผลการประเมิน: รอประเมิน",
        buttons=_buttons(("ส่งหลักฐาน", "a=evidence.add"), ("ดูหลักฐาน", "a=evidence.list")),
    )


def _province_overview() -> Message:
    rows = [
        {"name": "เมืองบึงกาฬ", "data": "a=province.district&d=3801", "counts": [42, 30, 12]},
        {"name": "พรเจริญ", "data": "a=province.district&d=3802", "counts": [18, 10, 4]},
        {"name": "โซ่พิสัย", "data": None, "counts": [0, 0, 0]},
    ]
    return render.flex(
        "province_overview.json",
        "ภาพรวมจังหวัด",
        pages=[rows, rows[:1]],
        title="ภาพรวมจังหวัดบึงกาฬ",
        subtitle="ปีงบประมาณ 2570",
        headings=["ลงทะเบียน", "ส่งแผน", "รับรอง"],
        totals=[60, 40, 16],
        hint="แตะชื่ออำเภอเพื่อดูรายชื่อค่ะ",
    )


def _registration_summary() -> Message:
    rows = [
        {"label": "ชื่อ-นามสกุล", "value": PERSON, "edit": "f=register&s=1&a=edit&field=name"},
        {"label": "พื้นที่", "value": AREA, "edit": "f=register&s=1&a=edit&field=area"},
        {"label": "โทรศัพท์", "value": "081-234-5678", "edit": "f=register&s=1&a=edit&field=phone"},
    ]
    return render.flex(
        "registration_summary.json", "ตรวจสอบข้อมูล", rows=rows, confirm="f=register&s=1&a=ok"
    )


def _reminder() -> Message:
    return render.flex(
        "reminder.json",
        "แจ้งเตือน",
        title="แจ้งเตือนกิจกรรมใกล้ครบกำหนด",
        sections=[
            {
                "title": "ครบกำหนดภายใน 7 วัน",
                "color": "#B35C00",
                "lines": [
                    {"text": "อบรมการทำปุ๋ยหมัก", "detail": "ครบกำหนด 17 มิถุนายน 2570"},
                    {"text": "ศึกษาดูงาน", "detail": None},
                ],
            },
            {
                "title": "ยังไม่ส่งหลักฐาน",
                "color": "#C0392B",
                "lines": [{"text": "1 กิจกรรม", "detail": None}],
            },
        ],
        buttons=_buttons(("ส่งหลักฐาน", "a=evidence.add"), ("ดูแผน", "a=plan.view")),
    )


SAMPLES: dict[str, Callable[[], Message]] = {
    "appointment.json": _appointment,
    "broadcast_districts.json": _broadcast_districts,
    "broadcast_list.json": _broadcast_list,
    "broadcast_summary.json": _broadcast_summary,
    "buttons.json": _buttons_card,
    "calendar.json": _calendar,
    "choices.json": _choices,
    "committee_cards.json": _committee_cards,
    "consent.json": _consent,
    "digest.json": _digest,
    "evidence_list.json": _evidence_list,
    "item_form.json": _item_form,
    "item_list.json": _item_list,
    "officer_leaders.json": _officer_leaders,
    "plan_card.json": _plan_card,
    "profile.json": _profile,
    "progress_card.json": _progress_card,
    "province_overview.json": _province_overview,
    "registration_summary.json": _registration_summary,
    "reminder.json": _reminder,
}
SAMPLE_NAMES = sorted(SAMPLES)
