"""The job registry: each job module registers its functions with `@job`, as handlers do with
the handler registry. A job gets a `JobContext` and does one run; it must be safe to run twice
(the notification ledger makes it so for anything it sends)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.db import Database
from bot.notify import QuietHours

if TYPE_CHECKING:
    from bot.runtime import Runtime


@dataclass
class JobContext:
    runtime: Runtime
    db: Database
    now: datetime  # aware UTC
    slot: datetime  # the scheduled time this run stands for
    quiet: QuietHours

    @property
    def config(self) -> Mapping[str, Any]:
        return self.runtime.app.config

    @property
    def timezone(self) -> str:
        return str(self.config["APP_TIMEZONE"])

    @property
    def today(self) -> date:
        """The local day of the slot (a run caught up at 10:30 is still that morning's)."""
        return self.slot.astimezone(ZoneInfo(self.timezone)).date()


Trigger = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Job:
    id: str
    run: Callable[[JobContext], None]
    trigger: Trigger  # APScheduler cron fields, from the configuration
    catch_up: bool  # a slot missed while no scheduler ran still runs once, within the grace


JOBS: dict[str, Job] = {}


def job(id: str, trigger: Trigger, *, catch_up: bool = True) -> Callable[..., Any]:
    def register(fn: Callable[[JobContext], None]) -> Callable[[JobContext], None]:
        JOBS[id] = Job(id, fn, trigger, catch_up)
        return fn

    return register


def daily_at(setting: str) -> Trigger:
    """Every day at the HH:MM the configuration holds under `setting`."""
    return lambda config: {"hour": config[setting][0], "minute": config[setting][1]}


def weekly_at(setting: str, day_of_week: str) -> Trigger:
    return lambda config: {**daily_at(setting)(config), "day_of_week": day_of_week}


def every(**fields: Any) -> Trigger:
    return lambda config: dict(fields)
