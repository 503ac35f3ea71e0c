"""Periodic jobs of worker processes: the corp tag sync at start and the guide-pool
rotation. Each run is claimed in Redis first, so with many workers a job runs once per
interval, not once per worker."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from bot.settings import Settings
from bot.wecom import WeComClient
from handlers.guide_rotation import rotate_guides
from handlers.tags import sync_corp_tags

log = logging.getLogger("scrm.scheduler")

TAG_SYNC_EVERY_SECONDS = 60  # at most once a minute however many workers start
TAG_SYNC_DELAY_SECONDS = 3.0


async def _once_per(redis: Redis, name: str, seconds: float) -> bool:
    """Claim this interval's run of job `name`; False when another process has it."""
    return bool(await redis.set(f"scrm:job:{name}", "1", nx=True, px=max(1, int(seconds * 1000))))


async def _run(name: str, job: Callable[[], Awaitable[object]]) -> None:
    try:
        result = await job()
        log.info("job.done name=%s result=%s", name, result)
    except Exception:
        log.exception("job.failed name=%s", name)


async def run_schedules(redis: Redis, wecom: WeComClient, settings: Settings) -> None:
    """Until cancelled: sync corp tags shortly after start, rotate guide pools every
    interval. The short delay lets the process come up (and a process that stops at
    once never starts a sync it would have to abandon)."""
    await asyncio.sleep(TAG_SYNC_DELAY_SECONDS)
    if await _once_per(redis, "tag_sync", TAG_SYNC_EVERY_SECONDS):
        await _run("tag_sync", lambda: sync_corp_tags(wecom))
    interval = settings.channels.rotate_interval_seconds
    while True:
        if await _once_per(redis, "guide_rotation", interval):
            await _run("guide_rotation", lambda: rotate_guides(wecom))
        await asyncio.sleep(interval)
