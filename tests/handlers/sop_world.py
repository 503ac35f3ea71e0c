"""A small world for the SOP delivery tests: the database, Redis and a WeCom client
(`open_runtime`), the sandbox console, groups made in the sandbox and brought in by the
full group sync, plans stored through the plan handlers, and ticks at chosen times.

Times are chosen by the test and passed as `now`: nothing waits for a clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import aiohttp

from bot.runtime import Runtime, open_runtime
from bot.settings import Settings
from bot.wecom import WeComClient
from handlers.group_sync import sync_groups
from handlers.points_rules import ZONE as SHANGHAI
from handlers.points_rules import local_day
from handlers.sop_plans import PlanSpec, StepSpec, TargetSpec, create_plan
from handlers.sop_schedule import local_moment
from handlers.sop_tick import SopTickResult, run_sop_tick
from models.groups import GroupChat
from models.sop import SopPlan, SopStep, SopTask, TaskStatus
from tests.sandbox_fixtures import SandboxConsole

ADD = "externalcontact/add_msg_template"


def at_local(day: date, hhmm: str) -> datetime:
    """`day` at HH:MM in Shanghai, as UTC."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return local_moment(day, time(hours, minutes), SHANGHAI)


def next_weekday(after: datetime, weekday: int, hhmm: str) -> datetime:
    """The first `weekday` (0 Monday) at HH:MM Shanghai strictly after `after`."""
    day = local_day(after)
    while True:
        moment = at_local(day, hhmm)
        if day.weekday() == weekday and moment > after:
            return moment
        day += timedelta(days=1)


@dataclass
class Planned:
    """Groups just made and a plan over them; `at` reads times from the local day
    after the groups were created (day 1)."""

    groups: list[GroupChat]
    plan: SopPlan
    steps: list[SopStep]
    created: datetime  # the groups' creation (the latest of them)

    def at(self, hhmm: str, day: int = 1) -> datetime:
        return at_local(local_day(self.created) + timedelta(days=day), hhmm)


@dataclass
class SopWorld:
    settings: Settings
    console: SandboxConsole
    runtime: Runtime

    @property
    def wecom(self) -> WeComClient:
        return self.runtime.wecom

    async def tick(self, now: datetime, wecom: WeComClient | None = None) -> SopTickResult:
        return await run_sop_tick(wecom or self.wecom, self.runtime.redis, self.settings, now)

    async def add_groups(self, owners: list[str], per_owner: int) -> list[GroupChat]:
        """Staff `owners` with `per_owner` groups each in the sandbox, then the full
        group sync; the groups, in chat id order."""
        for owner in owners:
            await self.console.add_staff(owner, f"群主{owner}")
        chat_ids = await self.console.bulk_groups(owners, per_owner)
        await sync_groups(self.wecom)
        return await GroupChat.filter(chat_id__in=chat_ids).order_by("chat_id")

    async def plan(self, steps: list[StepSpec], *, created: datetime, enabled: bool = True,
                   **target: Any) -> tuple[SopPlan, list[SopStep]]:
        spec = PlanSpec(name="新群欢迎", target=TargetSpec(**target), steps=steps,
                        enabled=enabled)
        return await create_plan(spec, created)

    async def planned(self, *steps: StepSpec, owners: tuple[str, ...] = ("zhangsan",),
                      per_owner: int = 1, **target: Any) -> Planned:
        """`per_owner` groups for each of `owners`, then a plan with `steps` stored as
        the groups were created."""
        groups = await self.add_groups(list(owners), per_owner)
        created = max(g.created_at for g in groups)
        plan, stored = await self.plan(list(steps), created=created, **target)
        return Planned(groups, plan, stored, created)

    async def tasks(self, **filters: Any) -> list[SopTask]:
        return await SopTask.filter(**filters).order_by("due_at", "chat_id")

    async def statuses(self) -> list[TaskStatus]:
        return [t.status for t in await self.tasks()]

    async def pushes(self) -> list[dict[str, Any]]:
        """The sandbox's group push tasks whose add_msg_template was accepted."""
        return await self.console.group_pushes()


@asynccontextmanager
async def sop_world(settings: Settings, console: SandboxConsole,
                    **sop: Any) -> AsyncIterator[SopWorld]:
    """The world on `settings` with `sop` settings replaced (e.g. receive_limit="1/day")."""
    settings = dataclasses.replace(settings, sop=dataclasses.replace(settings.sop, **sop))
    async with open_runtime(settings) as runtime:
        yield SopWorld(settings, console, runtime)


@asynccontextmanager
async def more_clients(world: SopWorld, count: int) -> AsyncIterator[list[WeComClient]]:
    """`count` more WeCom clients on the world's Redis, each with its own HTTP session
    (as in separate processes)."""
    sessions = [aiohttp.ClientSession() for _ in range(count)]
    try:
        yield [WeComClient(s, world.runtime.redis, world.settings) for s in sessions]
    finally:
        for session in sessions:
            await session.close()


def chats_pushed(pushes: list[dict[str, Any]]) -> list[str]:
    """Every chat id the pushes were accepted for (a chat twice = pushed twice)."""
    return sorted(chat["chat_id"] for push in pushes for chat in push["chats"])
