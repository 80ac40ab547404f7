"""The plan's cards: the plan card (leader's and officer's), the activity carousel, and the
download links. Data in, Flex out; no decisions about who may do what."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from bot import render
from bot.links import Links
from bot.models import LeaderProfile, Plan, PlanItem
from bot.services import evidence, fiscal, plans
from bot.services.thai import thai_date

CARD_ITEMS_PER_AREA = 5  # more are counted, not listed: the card must stay short
LIST_PAGE = 11  # 11 activity bubbles + a "ดูเพิ่มเติม" bubble = LINE's 12 per carousel
MODE_LABELS = {"self": "พัฒนาด้วยตนเอง", "help": "ขอความร่วมมือ/สนับสนุน"}


def data(action: str, **values: str | int) -> str:
    return urlencode({"a": action, **values})


def period(item: PlanItem) -> str:
    return f"{thai_date(item.starts_on)} – {thai_date(item.ends_on)}"


def summary_lines(plan: Plan) -> list[str]:
    items = plan.items
    by_self = sum(1 for i in items if i.mode == "self")
    starts = min((i.starts_on for i in items), default=None)
    start_text = thai_date(starts).split(" ", 1)[1] if starts else "ยังไม่มีกิจกรรม"
    ready = thai_date(plan.ready_on) if plan.ready_on else "ยังไม่กำหนด"
    return [
        f"1. พัฒนาด้วยตนเอง {by_self} กิจกรรม",
        f"2. ขอความร่วมมือ/สนับสนุนจากผู้อื่น {len(items) - by_self} กิจกรรม",
        f"3. เริ่มพัฒนาตนเอง เดือน{start_text}",
        f"4. พร้อมรับการตรวจประเมิน {ready}",
    ]


def _areas(session: Session, plan: Plan) -> list[dict[str, Any]]:
    edition = plans.edition(session, plan)
    numbered = list(enumerate(plan.items, start=1))
    result = []
    for area in edition.areas:
        ids = {c.id for c in area.components}
        mine = [(n, item) for n, item in numbered if item.component_id in ids]
        lines = [
            {
                "text": f"{n}. {render.clip(item.activity, 80)}",
                "state": plans.STATE_LABELS.get(item.state, item.state),
                "size": "sm",
                "color": "#111111",
            }
            for n, item in mine[:CARD_ITEMS_PER_AREA]
        ]
        if len(mine) > CARD_ITEMS_PER_AREA:
            more = len(mine) - CARD_ITEMS_PER_AREA
            lines.append(
                {"text": f"และอีก {more} กิจกรรม", "state": "", "size": "xs", "color": "#888888"}
            )
        if not mine:
            lines.append({"text": "ยังไม่มีกิจกรรม", "state": "", "size": "xs", "color": "#AAAAAA"})
        result.append({"name": area.name_th, "lines": lines})
    return result


def ready_picker(plan: Plan, label: str, today: date) -> dict[str, Any]:
    first, last = fiscal.bounds(plan.fiscal_year)
    initial = plan.ready_on or min(max(today, first), last)
    return render.date_action(
        label,
        data("plan.ready", p=plan.id),
        initial.isoformat(),
        first.isoformat(),
        last.isoformat(),
    )


def plan_card(session: Session, plan: Plan, *, viewer: str, today: Any = None) -> dict[str, Any]:
    """The plan card for "leader" (edit buttons), "officer" (review buttons) or "province"."""
    profile = session.get(LeaderProfile, plan.leader_id)
    name = profile.full_name if profile else "-"
    buttons = []
    if viewer == "leader":
        if plan.status in plans.EDITABLE:
            buttons += [
                render.button(
                    render.postback_action("เพิ่มกิจกรรม", data("plan.add", p=plan.id), "เพิ่มกิจกรรม"),
                    "primary",
                ),
                render.button(
                    render.postback_action("ดูกิจกรรม", data("plan.items", p=plan.id), "ดูกิจกรรม")
                ),
                render.button(ready_picker(plan, "วันพร้อมรับการประเมิน", today)),
                render.button(
                    render.postback_action(
                        "ส่งแผนให้เจ้าหน้าที่", data("plan.submit", p=plan.id), "ส่งแผนให้เจ้าหน้าที่"
                    )
                ),
            ]
        else:
            buttons.append(
                render.button(
                    render.postback_action("ดูกิจกรรม", data("plan.items", p=plan.id), "ดูกิจกรรม")
                )
            )
    elif viewer == "officer" and plan.status == "submitted":
        review = {"p": plan.id, "r": plan.revision}
        buttons += [
            render.button(
                render.postback_action("เห็นชอบแผน", data("review.approve", **review), "เห็นชอบแผน"),
                "primary",
            ),
            render.button(
                render.postback_action(
                    "ส่งกลับให้แก้ไข", data("review.return", **review), "ส่งกลับให้แก้ไข"
                )
            ),
        ]
    elif viewer == "officer" and plan.status == "approved":
        # The inspection flow itself refuses once the committee has decided.
        buttons.append(
            render.button(
                render.postback_action(
                    "บันทึกผลการตรวจ", data("inspect", p=plan.id), "บันทึกผลการตรวจ"
                ),
                "primary",
            )
        )
    if viewer != "leader":
        buttons.append(
            render.button(
                render.postback_action("ดูกิจกรรม", data("plan.items", p=plan.id), "ดูกิจกรรม")
            )
        )
    buttons.append(
        render.button(
            render.postback_action(
                "ความคืบหน้าและหลักฐาน", data("progress.view", p=plan.id), "ดูความคืบหน้า"
            )
        )
    )
    buttons.append(
        render.button(
            render.postback_action("ดาวน์โหลดแผน", data("plan.download", p=plan.id), "ดาวน์โหลดแผน")
        )
    )
    return render.flex(
        "plan_card.json",
        f"แผนพัฒนาตนเองของ {name} ปีงบประมาณ {plan.fiscal_year}",
        year=plan.fiscal_year,
        leader=name,
        status="สถานะ: " + plans.STATUS_LABELS.get(plan.status, plan.status),
        comment=plan.review_comment if plan.status == "returned" else None,
        areas=_areas(session, plan),
        summary=summary_lines(plan),
        buttons=buttons,
    )


def item_list(
    session: Session, plan: Plan, *, page: int, editable: bool, owner: bool = False
) -> dict[str, Any] | None:
    """One page of the activity carousel; None when the page is past the end. `owner`: the
    leader herself, who sends evidence and updates progress from here."""
    edition = plans.edition(session, plan)
    numbered = list(enumerate(plan.items, start=1))
    shown = numbered[page * LIST_PAGE : (page + 1) * LIST_PAGE]
    if not shown:
        return None
    counts = evidence.counts(session, (item.id for _, item in shown))
    bubbles = []
    for n, item in shown:
        found = edition.component(item.component_id)
        area = f"{found[0].name_th} › {found[1].name_th}" if found else "-"
        rows = [
            {
                "label": MODE_LABELS.get(item.mode, item.mode),
                "value": item.method or item.helper or "-",
            },
            {"label": "ผู้รับผิดชอบ", "value": item.responsible},
            {"label": "ระยะเวลา", "value": period(item)},
            {"label": "สถานะ", "value": plans.STATE_LABELS.get(item.state, item.state)},
        ]
        if item.note:
            rows.append({"label": "บันทึกความคืบหน้า", "value": item.note})
        buttons = []
        if owner:
            buttons.append(
                render.button(
                    render.postback_action(
                        "ส่งหลักฐาน", data("evidence.send", i=item.id), "ส่งหลักฐาน"
                    ),
                    "primary",
                )
            )
            buttons.append(
                render.button(
                    render.postback_action(
                        "อัปเดตความคืบหน้า", data("progress.item", i=item.id), "อัปเดตความคืบหน้า"
                    )
                )
            )
        buttons.append(
            render.button(
                render.postback_action(
                    f"ดูหลักฐาน ({counts.get(item.id, 0)})",
                    data("evidence.list", i=item.id),
                    f"ดูหลักฐานกิจกรรมที่ {n}",
                )
            )
        )
        if editable:
            buttons += [
                render.button(
                    render.postback_action("แก้ไข", data("item.edit", i=item.id), f"แก้ไขกิจกรรมที่ {n}")
                ),
                render.button(
                    render.postback_action("ลบ", data("item.delete", i=item.id), f"ลบกิจกรรมที่ {n}")
                ),
            ]
        bubbles.append(
            {"number": n, "area": area, "activity": item.activity, "rows": rows, "buttons": buttons}
        )
    remaining = len(numbered) - (page + 1) * LIST_PAGE
    more = None
    if remaining > 0:
        more = {
            "count": remaining,
            "action": render.postback_action(
                "ดูเพิ่มเติม", data("plan.items", p=plan.id, page=page + 1), "ดูเพิ่มเติม"
            ),
        }
    first, last = shown[0][0], shown[-1][0]
    return render.flex(
        "item_list.json",
        f"กิจกรรมที่ {first}–{last} จาก {len(numbered)} กิจกรรม",
        items=bubbles,
        more=more,
    )


def download_card(links: Links | None, plan: Plan, viewer_id: int) -> dict[str, Any]:
    urls = {
        fmt: links.url("/files/plan", "plan", p=plan.id, u=viewer_id, f=fmt) if links else None
        for fmt in ("pdf", "xlsx")
    }
    if not urls["pdf"] or not urls["xlsx"]:
        return render.text("ขออภัยค่ะ ระบบยังไม่ได้ตั้งค่าที่อยู่เว็บสำหรับดาวน์โหลด กรุณาแจ้งผู้ดูแลระบบ")
    return render.buttons_card(
        f"แผนพัฒนาตนเอง ปีงบประมาณ {plan.fiscal_year}",
        "แบบฟอร์มตามหนังสือกรมการพัฒนาชุมชน ลิงก์ใช้ได้ 24 ชั่วโมง กรุณาอย่าส่งต่อให้ผู้อื่นค่ะ",
        [
            render.button(render.uri_action("PDF (สำหรับพิมพ์)", urls["pdf"]), "primary"),
            render.button(render.uri_action("Excel (แก้ไขได้)", urls["xlsx"])),
        ],
    )
