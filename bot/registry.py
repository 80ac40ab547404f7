"""Handlers register here by event type, message type, postback action, keyword or pattern.

`handlers/` modules fill the registry with decorators; `bot.dispatch` looks things up in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.context import Context
    from bot.conversation import Flow

Handler = Callable[["Context"], None]


def normalize_text(text: str) -> str:
    """Fold what users type so keywords match: spaces, zero-width characters, case."""
    text = re.sub(r"[\u200b-\u200d\ufeff]", "", text)
    return " ".join(text.split()).casefold()


@dataclass
class Keyword:
    words: frozenset[str]
    roles: frozenset[str] | None  # None: anyone
    handler: Handler
    label: str  # shown in the help message
    describe: str
    order: int  # place in the help message and the rich menu


@dataclass
class Registry:
    events: dict[str, Handler] = field(default_factory=dict)
    messages: dict[str, Handler] = field(default_factory=dict)
    postbacks: dict[str, Handler] = field(default_factory=dict)
    keywords: list[Keyword] = field(default_factory=list)
    patterns: list[tuple[re.Pattern[str], Handler]] = field(default_factory=list)
    flows: dict[str, Flow] = field(default_factory=dict)

    def on_event(self, event_type: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.events[event_type] = fn
            return fn

        return register

    def on_message(self, message_type: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.messages[message_type] = fn
            return fn

        return register

    def on_postback(self, action: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            assert action not in self.postbacks, f"postback {action} registered twice"
            self.postbacks[action] = fn
            return fn

        return register

    def on_keyword(
        self,
        *words: str,
        roles: tuple[str, ...] | None = None,
        describe: str = "",
        order: int = 50,
    ) -> Callable[[Handler], Handler]:
        """Typed Thai keywords; the first word is the label the help message and menu show."""

        def register(fn: Handler) -> Handler:
            self.keywords.append(
                Keyword(
                    frozenset(normalize_text(w) for w in words),
                    frozenset(roles) if roles else None,
                    fn,
                    words[0],
                    describe,
                    order,
                )
            )
            return fn

        return register

    def on_pattern(self, regex: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.patterns.append((re.compile(regex), fn))
            return fn

        return register

    def add_flow(self, flow: Flow) -> Flow:
        self.flows[flow.name] = flow
        return flow

    def keyword(self, text: str, role: str) -> Handler | None:
        folded = normalize_text(text)
        for kw in self.keywords:
            if folded in kw.words and (kw.roles is None or role in kw.roles):
                return kw.handler
        return None

    def pattern(self, text: str) -> Handler | None:
        for regex, handler in self.patterns:
            if regex.fullmatch(text.strip()):
                return handler
        return None

    def keywords_for(self, role: str) -> list[Keyword]:
        shown = [k for k in self.keywords if k.describe and (k.roles is None or role in k.roles)]
        return sorted(shown, key=lambda k: k.order)


registry = Registry()
