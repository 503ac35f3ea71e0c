"""Periodic jobs of worker processes: the corp tag sync at start, the guide-pool
rotation, points expiry with the birthday bonus, and the completion of mall orders
nobody confirmed. Each run is claimed in Redis
first, so with many workers a job runs once per interval, not once per worker. Beside
them, the group SOP tick runs in every worker (not claimed: ticks at once are safe,
and they share the pushing)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial

from redis.asyncio import Redis

from bot.background import pause, raise_if_cancelling
from bot.settings import Settings
from bot.wecom import WeComClient
from handlers.guide_rotation import rotate_guides
from handlers.mall_orders import complete_due_orders
from handlers.points_expiry import EXPIRY_EVERY_SECONDS, expire_due_points
from handlers.points_rules import award_birthdays
from handlers.sop_tick import run_sop_tick
from handlers.tags import sync_corp_tags

log = logging.getLogger("scrm.scheduler")

TAG_SYNC_EVERY_SECONDS = 60  # at most once a minute however many workers start


async def _once_per(redis: Redis, name: str, seconds: float) -> bool:
    """Claim this interval's run of job `name`; False when another process has it."""
    return bool(await redis.set(f"scrm:job:{name}", "1", nx=True, px=max(1, int(seconds * 1000))))


async def _run(name: str, job: Callable[[], Awaitable[object]], *,
               claim: Callable[[], Awaitable[bool]] | None = None) -> None:
    """Run `job` (after `claim`, when given, says this process has this round) and log
    how it went; a failure of either is logged and the loop calling this goes on."""
    try:
        if claim is not None and not await claim():
            return
        result = await job()
        log.info("job.done name=%s result=%s", name, result)
    except Exception:
        raise_if_cancelling()
        log.exception("job.failed name=%s", name)


def start_schedules(redis: Redis, wecom: WeComClient, settings: Settings, *,
                    clock: Callable[[], float] = time.time) -> list[asyncio.Task[None]]:
    """Start the jobs below, each its own task, so the caller's `stop_tasks` cancels
    and awaits every one of them itself (`clock`: the app's clock, epoch seconds)."""
    return [
        asyncio.create_task(_tags_and_rotation(redis, wecom, settings),
                            name="tags_and_rotation"),
        asyncio.create_task(run_sop_ticks(redis, wecom, settings, clock), name="sop_ticks"),
        asyncio.create_task(_points(redis, settings, clock), name="points"),
    ]


async def run_sop_ticks(redis: Redis, wecom: WeComClient, settings: Settings,
                        clock: Callable[[], float]) -> None:
    """Every sop.tick_seconds, one SOP tick at the clock's time; a failed tick is
    logged and the next one comes as usual."""
    while True:
        await pause(settings.sop.tick_seconds)
        try:
            await run_sop_tick(wecom, redis, settings, datetime.fromtimestamp(clock(), UTC))
        except Exception:
            raise_if_cancelling()
            log.exception("job.failed name=sop_tick")


async def _tags_and_rotation(redis: Redis, wecom: WeComClient, settings: Settings) -> None:
    """Sync corp tags at start, rotate guide pools every interval."""
    await _run("tag_sync", lambda: sync_corp_tags(wecom),
               claim=lambda: _once_per(redis, "tag_sync", TAG_SYNC_EVERY_SECONDS))
    interval = settings.channels.rotate_interval_seconds
    while True:
        await _run("guide_rotation", lambda: rotate_guides(wecom),
                   claim=lambda: _once_per(redis, "guide_rotation", interval))
        await pause(interval)


async def _points(redis: Redis, settings: Settings, clock: Callable[[], float]) -> None:
    """Expire due points, award birthday month bonuses and complete mall orders shipped
    mall.auto_complete_days ago, at start and every interval."""
    while True:
        now = datetime.fromtimestamp(clock(), UTC)
        await _run("points_expiry", partial(expire_due_points, now),
                   claim=lambda: _once_per(redis, "points_expiry", EXPIRY_EVERY_SECONDS))
        await _run("birthday_bonus", partial(award_birthdays, settings, now),
                   claim=lambda: _once_per(redis, "birthday_bonus", EXPIRY_EVERY_SECONDS))
        await _run("mall_auto_complete", partial(complete_due_orders, settings, now),
                   claim=lambda: _once_per(redis, "mall_auto_complete", EXPIRY_EVERY_SECONDS))
        await pause(EXPIRY_EVERY_SECONDS)
