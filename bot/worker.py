"""`python run.py worker`: consume the Redis stream and sweep stranded events.

Any number of workers can run; the inbox claim keeps each event to one of them.
"""

from __future__ import annotations

import asyncio
import logging

from bot.background import stop_tasks
from bot.queue import create_lanes, enqueuer, run_stream_workers, sweep_forever
from bot.runtime import open_runtime
from bot.scheduler import start_schedules
from bot.settings import Settings

log = logging.getLogger("scrm.worker")


async def run_worker(settings: Settings) -> None:
    if not settings.redis.url:
        raise RuntimeError(
            "worker needs [redis] url (SCRM__REDIS__URL); on the embedded default "
            "`python run.py serve` runs the worker in-process"
        )
    async with open_runtime(settings) as runtime:
        lanes = create_lanes(settings)
        await lanes.startup(settings, runtime.wecom)
        log.info("worker.started concurrency=%d per lane", settings.queue.concurrency)
        background = [
            asyncio.create_task(
                sweep_forever(enqueuer(lanes), settings.queue, queue_is_durable=True),
                name="sweep"),
            *start_schedules(runtime.redis, runtime.wecom, settings),
        ]
        try:
            await run_stream_workers(lanes, settings.queue.concurrency)
        finally:
            await stop_tasks(background)
            await lanes.shutdown()
