"""Every LINE action against every outsider: each postback button the bot sent during a
journey (plan review, activities, evidence, inspection, committee) that names an object is
pressed by people who own nothing there and may act on nothing there: a newcomer who has not
consented, a guest who consented but did not register, an officer of another district, and
province staff of another province. None of them may change a plan, activity, evidence,
inspection or decision, and each gets a Thai answer, never silence or a failure."""

from __future__ import annotations

from urllib.parse import parse_qsl

from tests.test_broadcast import province_staff
from tests.test_hostile_text import answered_safely
from tests.test_postback_forgery import journey, postbacks, snapshot  # noqa: F401 (fixture)


def names_an_object(data: str) -> bool:
    return any(key != "a" and value.isdigit() for key, value in parse_qsl(data))


def test_no_button_acts_for_someone_it_does_not_belong_to(journey, line, runner):  # noqa: F811
    sent: dict[str, str] = {}
    for who in ("officer", "staff", "somsri", "boonma", "kanya"):
        for action, datas in postbacks(journey[who]).items():
            for data in datas:
                if names_an_object(data):
                    sent.setdefault(data, action)
    assert len({a for a in sent.values()}) >= 8, sorted(set(sent.values()))

    newcomer = line.user("คนใหม่ ยังไม่ยินยอม")
    newcomer.follow()
    guest = line.user("แขก ยินยอมแล้ว")
    guest.follow()
    guest.tap("ยอมรับ")
    outsiders = {
        "newcomer": newcomer,
        "guest": guest,
        "officer of another district": journey["elsewhere"],
        "staff of another province": province_staff(line, runner, "เจ้าหน้าที่ขอนแก่น", "40"),
    }
    before = snapshot()
    pressed = 0
    for data, action in sorted(sent.items()):
        for who, person in outsiders.items():
            person.postback(data)
            answered_safely(person)
            assert snapshot() == before, f"{who} changed data with {action}: {data}"
            pressed += 1
    print(f"\n{len(sent)} buttons ({len(set(sent.values()))} actions) x {len(outsiders)} outsiders")
    assert pressed == len(sent) * len(outsiders)
    # The same button pressed by the officer it was sent to does act: the check can see it.
    approve = next(d for d, a in sent.items() if a == "review.approve")
    journey["officer"].postback(approve)
    assert snapshot() != before
