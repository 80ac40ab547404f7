"""Guided flows as small state machines, persisted per user (after python-telegram-bot's
ConversationHandler): named steps, one entry, and fallbacks that every step shares.

- ยกเลิก cancels, ช่วยเหลือ explains the current question with an example, ย้อนกลับ goes back.
- Every card a step sends carries the flow's `serial` in its postback data; a tap whose serial
  is not the current one comes from an old card and is refused instead of acting on stale data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from bot import render
from bot.context import Context
from bot.models import ConversationState
from bot.registry import normalize_text, registry
from bot.services import audit

END = "__end__"
CANCEL_WORDS = {"ยกเลิก", "cancel"}
HELP_WORDS = {"ช่วยเหลือ", "help", "วิธีใช้"}
BACK_WORDS = {"ย้อนกลับ", "กลับ", "back"}
RESUME_WORDS = {"ทำต่อ", "ทำต่อจากเดิม"}
# A form left alone this long is not assumed to be what the next message answers.
IDLE = timedelta(hours=1)

# A step's input handler returns the next step's name, END, or None to stay (having replied).
TextHandler = Callable[[Context, str], str | None]
PostbackHandler = Callable[[Context, dict[str, str]], str | None]
Asker = Callable[[Context, "Flow"], list[dict[str, Any]]]


@dataclass
class Step:
    name: str
    ask: Asker
    help: str
    on_text: TextHandler | None = None
    on_postback: PostbackHandler | None = None

    def text(self, fn: TextHandler) -> TextHandler:
        """Decorator: handles what the user types at this step."""
        self.on_text = fn
        return fn

    def postback(self, fn: PostbackHandler) -> PostbackHandler:
        """Decorator: handles taps on this step's cards."""
        self.on_postback = fn
        return fn


class Flow:
    def __init__(
        self,
        name: str,
        *,
        cancelled: str,
        title: str = "ข้อมูล",
        on_cancel: Callable[[Context], None] | None = None,
    ) -> None:
        self.name = name
        self.steps: dict[str, Step] = {}
        self.first: str | None = None
        self.cancelled = cancelled  # what the user is told after ยกเลิก
        self.title = title  # what the user is filling in, for "… ค้างไว้"
        self.on_cancel = on_cancel  # tidies up what the flow left behind

    def step(self, name: str, *, ask: Asker, help: str) -> Step:
        """Add a step; use the returned step's `.text` and `.postback` as decorators."""
        step = self.steps[name] = Step(name, ask, help)
        self.first = self.first or name
        return step

    # State -----------------------------------------------------------------------------
    @staticmethod
    def data(ctx: Context) -> dict[str, Any]:
        state = ctx.conversation
        return dict(state.data) if state else {}

    @staticmethod
    def update(ctx: Context, **values: Any) -> None:
        state = ctx.conversation
        assert state is not None
        state.data = {**state.data, **values}  # a new dict, so SQLAlchemy sees the change

    def postback_data(self, ctx: Context, action: str, **values: str | int) -> str:
        """Postback data for a card of this flow, stamped with the current serial."""
        state = ctx.conversation
        serial = state.serial if state else 0
        return urlencode({"f": self.name, "s": serial, "a": action, **values})

    def start(
        self, ctx: Context, data: dict[str, Any] | None = None, at: str | None = None
    ) -> None:
        assert ctx.user is not None
        state = ctx.conversation
        if state is None:
            state = ConversationState(user_id=ctx.user.id, serial=0)
            ctx.session.add(state)
            ctx.conversation = state
        state.flow, state.state = self.name, at or self.first or ""
        state.data = {"_history": [], **(data or {})}
        state.serial = (state.serial or 0) + 1
        ctx.session.flush()
        self.ask(ctx)

    def ask(self, ctx: Context) -> None:
        state = ctx.conversation
        assert state is not None
        if state.data.get("_paused"):
            self.update(ctx, _paused=False)
        ctx.reply(*self.steps[state.state].ask(ctx, self))

    def offer_resume(self, ctx: Context, restart: dict[str, Any] | None = None) -> None:
        """The user left this form (or long ago): ask before taking a message as an answer.
        `restart` is a chip that starts the form afresh, offered instead of ยกเลิก."""
        if not Flow.data(ctx).get("_paused"):
            self.update(ctx, _paused=True)
        other = "เริ่มใหม่" if restart else "ยกเลิก"
        outcome = "เริ่มกรอกใหม่" if restart else "ทิ้งข้อมูลที่กรอกไว้"
        ctx.reply(
            render.text(
                f"คุณกรอก{self.title}ค้างไว้ค่ะ ต้องการทำต่อไหมคะ\n"
                f'แตะ "ทำต่อ" เพื่อกลับไปที่คำถามล่าสุด หรือ "{other}" เพื่อ{outcome}',
                [render.say("ทำต่อ"), restart or render.say("ยกเลิก")],
            )
        )

    def goto(self, ctx: Context, name: str) -> None:
        state = ctx.conversation
        assert state is not None
        if name == END:
            self.finish(ctx)
            return
        history = [*state.data.get("_history", []), state.state]
        state.data = {**state.data, "_history": history[-20:]}
        state.state = name
        state.serial += 1
        self.ask(ctx)

    def finish(self, ctx: Context) -> None:
        state = ctx.conversation
        if state is not None:
            ctx.session.delete(state)
            ctx.session.flush()

    # Input -----------------------------------------------------------------------------
    def handle_text(self, ctx: Context, text: str) -> None:
        state = ctx.conversation
        assert state is not None
        word = normalize_text(text)
        step = self.steps[state.state]
        if word in CANCEL_WORDS:
            if self.on_cancel is not None:
                self.on_cancel(ctx)
            ctx.session.delete(state)
            ctx.session.flush()
            ctx.reply(render.text(self.cancelled))
        elif word in HELP_WORDS:
            ctx.reply(render.text(step.help))
            self.ask(ctx)
        elif word in BACK_WORDS:
            self.back(ctx)
        elif word in RESUME_WORDS:
            ctx.reply(render.text("มาต่อจากที่ค้างไว้นะคะ"))
            self.ask(ctx)
        elif keyword := self._leaving_for(ctx, text):
            # A menu tap or a command is not an answer: keep the form for later.
            self.update(ctx, _paused=True)
            keyword(ctx)
        elif state.data.get("_paused") or ctx.now - state.updated_at > IDLE:
            self.offer_resume(ctx)
        elif step.on_text is None:
            ctx.reply(render.text("กรุณาเลือกจากปุ่มในการ์ดด้านบนค่ะ"))
            self.ask(ctx)
        else:
            self._advance(ctx, step.on_text(ctx, text.strip()))

    @staticmethod
    def _leaving_for(ctx: Context, text: str) -> Callable[[Context], None] | None:
        return registry.keyword(text, ctx.user.audience) if ctx.user else None

    def handle_postback(self, ctx: Context, data: dict[str, str]) -> None:
        state = ctx.conversation
        if state is None or state.flow != self.name or data.get("s") != str(state.serial):
            audit.record(ctx.session, "flow.denied", "flow", self.name, actor=ctx.user)
            ctx.reply(render.text("การ์ดนี้เป็นของขั้นตอนก่อนหน้า จึงใช้ไม่ได้แล้วค่ะ"))
            if state is not None:
                registry.flows[state.flow].ask(ctx)
            return
        step = self.steps[state.state]
        if step.on_postback is None:
            ctx.reply(render.text("กรุณาพิมพ์คำตอบค่ะ"))
            self.ask(ctx)
            return
        self._advance(ctx, step.on_postback(ctx, data))

    def back(self, ctx: Context) -> None:
        state = ctx.conversation
        assert state is not None
        history = list(state.data.get("_history", []))
        if not history:
            ctx.reply(render.text("นี่คือคำถามแรกแล้วค่ะ"))
            self.ask(ctx)
            return
        state.state = history.pop()
        state.data = {**state.data, "_history": history}
        state.serial += 1
        self.ask(ctx)

    def _advance(self, ctx: Context, next_step: str | None) -> None:
        if next_step is not None:
            self.goto(ctx, next_step)
