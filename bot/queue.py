"""The job queue (taskiq): InMemoryBroker on the embedded default, RedisStreamBroker
(consumer group, acknowledged after the task runs) in production. The same task code
runs on both; messages carry only inbox ids, the inbox holds the payloads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends
from taskiq.acks import AcknowledgeType
from taskiq.api.receiver import run_receiver_task
from taskiq_redis import RedisStreamBroker

from bot.processing import EventProcessor, stranded_event_ids, utcnow
from bot.settings import QueueSettings, Settings

log = logging.getLogger("scrm.queue")

TASK_NAME = "scrm.process_events"
STREAM = "scrm:events"
GROUP = "scrm-workers"


async def process_events(
    ids: list[int], context: Context = TaskiqDepends()  # noqa: B008 (taskiq injection)
) -> None:
    processor: EventProcessor = context.state.processor
    await processor.process_many(ids)


def create_broker(settings: Settings) -> AsyncBroker:
    broker: AsyncBroker
    if settings.redis.url:
        broker = RedisStreamBroker(
            settings.redis.url,
            queue_name=STREAM,
            consumer_group_name=GROUP,
            # A message unacknowledged this long (its worker died) is claimed by another.
            idle_timeout=settings.queue.lease_seconds * 1000,
            unacknowledged_lock_timeout=float(settings.queue.lease_seconds),
            consumer_id="0",
            # Each message carries up to 200 ids: fetching few at a time spreads a
            # backlog over the workers instead of one worker taking a hundred messages.
            xread_count=4,
        )
    else:
        broker = InMemoryBroker(max_async_tasks=settings.queue.concurrency)
    broker.register_task(process_events, task_name=TASK_NAME)
    return broker


def enqueuer(broker: AsyncBroker) -> Callable[[list[int]], Awaitable[None]]:
    task = broker.find_task(TASK_NAME)
    assert task is not None

    async def enqueue(ids: list[int]) -> None:
        await task.kiq(ids)

    return enqueue


LOST_AFTER_LEASES = 5


async def sweep_forever(
    enqueue: Callable[[list[int]], Awaitable[None]],
    queue: QueueSettings,
    *,
    queue_is_durable: bool,
) -> None:
    """Re-enqueue stranded events at start and every `sweep_interval_seconds`.

    A pending event normally waits in the queue, however long the backlog; it counts as
    lost only after LOST_AFTER_LEASES leases. An in-memory queue dies with its process,
    so at start everything pending is lost and taken at once.
    """
    lost_after = float(queue.lease_seconds * LOST_AFTER_LEASES)
    first = True
    while True:
        try:
            age = 0.0 if first and not queue_is_durable else lost_after
            ids = await stranded_event_ids(utcnow(), pending_older_than=age)
            if ids:
                log.warning("sweep.requeue count=%d first=%d", len(ids), ids[0])
                await enqueue(ids)
            first = False
        except Exception:
            log.exception("sweep.failed")
        await asyncio.sleep(queue.sweep_interval_seconds)


async def run_stream_worker(broker: AsyncBroker, concurrency: int) -> None:
    """Consume the Redis stream until cancelled (`python run.py worker`)."""
    await run_receiver_task(
        broker,
        max_async_tasks=concurrency,
        ack_time=AcknowledgeType.WHEN_EXECUTED,
        run_startup=False,
    )
