"""Periodic jobs of worker processes: the corp tag sync at start and the guide-pool
rotation. Each run is claimed in Redis first, so with many workers a job runs once per
interval, not once per worker. Beside them, the group SOP tick runs in every worker
(not claimed: ticks at once are safe, and they share the pushing)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from redis.asyncio import Redis

from bot.background import raise_if_cancelling
from bot.settings import Settings
from bot.wecom import WeComClient
from handlers.guide_rotation import rotate_guides
from handlers.sop_tick import run_sop_tick
from handlers.tags import sync_corp_tags

log = logging.getLogger("scrm.scheduler")

TAG_SYNC_EVERY_SECONDS = 60  # at most once a minute however many workers start


async def _once_per(redis: Redis, name: str, seconds: float) -> bool:
    """Claim this interval's run of job `name`; False when another process has it."""
    return bool(await redis.set(f"scrm:job:{name}", "1", nx=True, px=max(1, int(seconds * 1000))))


async def _run(name: str, job: Callable[[], Awaitable[object]]) -> None:
    try:
        result = await job()
        log.info("job.done name=%s result=%s", name, result)
    except Exception:
        raise_if_cancelling()
        log.exception("job.failed name=%s", name)


async def run_schedules(redis: Redis, wecom: WeComClient, settings: Settings, *,
                        clock: Callable[[], float] = time.time) -> None:
    """Until cancelled: the jobs below and, beside them, the SOP ticks (`clock`: the
    app's clock, epoch seconds)."""
    # A TaskGroup, not gather: cancelled, it returns only once every job has stopped.
    # gather would return at the first cancelled job while another is still inside a
    # database call, and the app would then close the database under that call.
    async with asyncio.TaskGroup() as jobs:
        jobs.create_task(_tags_and_rotation(redis, wecom, settings), name="tags_and_rotation")
        jobs.create_task(run_sop_ticks(redis, wecom, settings, clock), name="sop_ticks")


async def run_sop_ticks(redis: Redis, wecom: WeComClient, settings: Settings,
                        clock: Callable[[], float]) -> None:
    """Every sop.tick_seconds, one SOP tick at the clock's time; a failed tick is
    logged and the next one comes as usual."""
    while True:
        await asyncio.sleep(settings.sop.tick_seconds)
        try:
            await run_sop_tick(wecom, redis, settings, datetime.fromtimestamp(clock(), UTC))
        except Exception:
            raise_if_cancelling()
            log.exception("job.failed name=sop_tick")


async def _tags_and_rotation(redis: Redis, wecom: WeComClient, settings: Settings) -> None:
    """Sync corp tags at start, rotate guide pools every interval."""
    if await _once_per(redis, "tag_sync", TAG_SYNC_EVERY_SECONDS):
        await _run("tag_sync", lambda: sync_corp_tags(wecom))
    interval = settings.channels.rotate_interval_seconds
    while True:
        if await _once_per(redis, "guide_rotation", interval):
            await _run("guide_rotation", lambda: rotate_guides(wecom))
        await asyncio.sleep(interval)
