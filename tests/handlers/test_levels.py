"""Levels follow growth (both ways), every change is recorded, and an upgrade tells the
member's guide in WeCom (an app message, in the sandbox) when settings say so."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.settings import LevelSettings, Settings
from bot.wecom import WeComClient
from handlers import ledger
from handlers.levels import apply_level, level_for, next_level
from models.members import LevelChange, Member
from tests.miniapp_api.conftest import MiniApp, miniapp_client
from tests.sandbox_fixtures import SandboxConsole

GUIDE = "zhangsan"


def test_the_level_is_the_last_threshold_reached(settings: Settings) -> None:
    levels = settings.members.levels
    assert [level_for(g, levels) for g in (0, 499, 500, 1999, 2000, 10**9)] == [
        1, 1, 2, 2, 3, len(levels)]
    assert next_level(1, levels) == levels[1] and next_level(len(levels), levels) is None
    two = (LevelSettings("新人", 0, 1.0, 0, ()), LevelSettings("熟客", 10, 1.0, 0, ()))
    assert (level_for(9, two), level_for(10, two)) == (1, 2)


@pytest.fixture
async def miniapp(settings: Settings, sandbox: SandboxConsole) -> AsyncIterator[MiniApp]:
    await sandbox.add_staff(GUIDE, "导购 张三")
    async with miniapp_client(settings, sandbox) as app:
        yield app


@pytest.fixture
async def wecom(settings: Settings, redis: Redis) -> AsyncIterator[WeComClient]:
    async with aiohttp.ClientSession() as session:
        yield WeComClient(session, redis, settings)


async def member_with_guide(miniapp: MiniApp, guide: str | None = GUIDE) -> int:
    _, member = await miniapp.log_in(await miniapp.sandbox.miniapp_user())
    await Member.filter(id=member["id"]).update(guide_userid=guide)
    return int(member["id"])


async def changes(member_id: int) -> list[tuple[int, int, int]]:
    rows = await LevelChange.filter(member_id=member_id).order_by("id")
    return [(c.from_level, c.to_level, c.growth) for c in rows]


async def test_an_upgrade_is_recorded_and_the_guide_told_a_downgrade_only_recorded(
    miniapp: MiniApp, settings: Settings, wecom: WeComClient, sandbox: SandboxConsole
) -> None:
    member_id = await member_with_guide(miniapp)
    now = datetime.now(UTC)
    await ledger.award(member_id, 10, key="test:order-1", reason="订单", now=now, growth=2100,
                       settings=settings, wecom=wecom)
    assert (await Member.get(id=member_id)).level == 3
    assert await changes(member_id) == [(1, 3, 2100)]
    [message] = await sandbox.app_messages(GUIDE)
    assert "V3" in message["content"] and str(member_id) in message["content"]

    await ledger.reverse("test:order-1", key="test:refund-1", reason="退款", now=now,
                         settings=settings, wecom=wecom)
    assert (await Member.get(id=member_id)).level == 1
    assert await changes(member_id) == [(1, 3, 2100), (3, 1, 0)]
    assert len(await sandbox.app_messages(GUIDE)) == 1

    await apply_level(member_id, settings, now, wecom=wecom)  # nothing moved: nothing new
    assert len(await changes(member_id)) == 2


async def test_no_guide_or_notification_off_tells_nobody(
    miniapp: MiniApp, settings: Settings, wecom: WeComClient, sandbox: SandboxConsole
) -> None:
    lone = await member_with_guide(miniapp, guide=None)
    quiet_settings = dataclasses.replace(settings, members=dataclasses.replace(
        settings.members, notify_guide_on_upgrade=False))
    guided = await member_with_guide(miniapp)
    now = datetime.now(UTC)
    await ledger.award(lone, 0, key="test:lone", reason="订单", now=now, growth=600,
                       settings=settings, wecom=wecom)
    await ledger.award(guided, 0, key="test:quiet", reason="订单", now=now, growth=600,
                       settings=quiet_settings, wecom=wecom)
    assert [(await Member.get(id=m)).level for m in (lone, guided)] == [2, 2]
    assert await changes(lone) == await changes(guided) == [(1, 2, 600)]
    assert await sandbox.app_messages() == []


async def test_a_guide_wecom_cannot_reach_costs_only_the_message(
    miniapp: MiniApp, settings: Settings, wecom: WeComClient, sandbox: SandboxConsole
) -> None:
    member_id = await member_with_guide(miniapp)
    await sandbox.fault("message/send", 60011)
    await ledger.award(member_id, 0, key="test:order-2", reason="订单", now=datetime.now(UTC),
                       growth=600, settings=settings, wecom=wecom)
    assert (await Member.get(id=member_id)).level == 2
    assert await changes(member_id) == [(1, 2, 600)]
    assert await sandbox.app_messages() == []
