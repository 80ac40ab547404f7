"""Follow and unfollow (unfollow also means the user blocked the account)."""

from __future__ import annotations

from bot import render
from bot.context import Context
from bot.registry import registry
from bot.services import audit
from handlers.common import help_message
from handlers.consent import consent_card
from handlers.registration import resume


@registry.on_event("follow")
def on_follow(ctx: Context) -> None:
    user = ctx.user
    assert user is not None
    user.following = True
    audit.record(ctx.session, "user.follow", "user", user.id, actor=user)
    if user.status == "active":
        ctx.reply(render.text("ยินดีต้อนรับกลับมาค่ะ 😊"), help_message(user))
    elif user.consent_at is not None:
        ctx.reply(render.text("ยินดีต้อนรับกลับมาค่ะ มาลงทะเบียนต่อกันนะคะ"))
        resume(ctx)
    else:
        ctx.reply(consent_card())


@registry.on_event("unfollow")
def on_unfollow(ctx: Context) -> None:
    user = ctx.user
    assert user is not None
    user.following = False  # no pushes until they follow again
    audit.record(ctx.session, "user.unfollow", "user", user.id, actor=user)
