"""What goes over the wire to LINE is exactly what line-bot-sdk's own models would send."""

from __future__ import annotations

from datetime import date

from linebot.v3.messaging import PushMessageRequest, ReplyMessageRequest

from bot.services import fiscal
from fakeline import webhook as events
from tests.test_plan import add_activity
from tests.test_registration import register


def test_messages_sent_are_the_sdk_models_own_json(line):
    """The gateway writes message requests in one pydantic pass instead of the SDK's nested
    `to_dict` calls, to save CPU; the JSON LINE receives must not change with it. Every
    request of a leader's plan form (Flex cards, date pickers, quick replies) and a push,
    read back into the SDK's model, serialises the SDK's way to the very JSON that was sent."""
    somsri = line.user("สมศรี ใจดี")
    register(somsri)
    somsri.say("แผนของฉัน")
    first, _ = fiscal.bounds(fiscal.year_of(date.today()))
    day = max(date.today(), first).isoformat()
    add_activity(
        somsri, "ด้านการบริหารตนเอง", 0, "ศึกษาดูงานปุ๋ยหมัก", "พัฒนาด้วยตนเอง", "ไปดูงาน", None, day, day
    )
    # Her token has run out by the time the bot answers: the answer goes as a push.
    stale = line.platform.issue_reply_token(somsri.user_id, ttl_seconds=0)
    line.send(events.text_event(somsri.user_id, "ช่วยเหลือ", stale))
    line.settle()

    sent = [(r.endpoint, r.json) for r in line.platform.requests if r.status == 200]
    replies = [body for endpoint, body in sent if endpoint == "reply"]
    pushes = [body for endpoint, body in sent if endpoint == "push"]
    assert len(replies) > 10 and pushes
    assert any(m["type"] == "flex" for body in replies for m in body["messages"])
    for body in replies:
        assert body == ReplyMessageRequest.from_dict(body).to_dict()
    for body in pushes:
        assert body == PushMessageRequest.from_dict(body).to_dict()
