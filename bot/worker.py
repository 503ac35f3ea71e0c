"""`python run.py worker`: consume the Redis stream and sweep stranded events.

Any number of workers can run; the inbox claim keeps each event to one of them.
"""

from __future__ import annotations

import asyncio
import logging

from bot.processing import EventProcessor
from bot.queue import create_broker, enqueuer, run_stream_worker, sweep_forever
from bot.runtime import open_runtime
from bot.settings import Settings

log = logging.getLogger("scrm.worker")


async def run_worker(settings: Settings) -> None:
    if not settings.redis.url:
        raise RuntimeError(
            "worker needs [redis] url (SCRM__REDIS__URL); on the embedded default "
            "`python run.py serve` runs the worker in-process"
        )
    async with open_runtime(settings) as runtime:
        broker = create_broker(settings)
        broker.state.processor = EventProcessor(settings.queue, runtime.wecom)
        await broker.startup()
        log.info("worker.started concurrency=%d", settings.queue.concurrency)
        sweeper = asyncio.create_task(
            sweep_forever(enqueuer(broker), settings.queue, queue_is_durable=True)
        )
        try:
            await run_stream_worker(broker, settings.queue.concurrency)
        finally:
            sweeper.cancel()
            await broker.shutdown()
