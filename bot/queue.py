"""The job queue (taskiq): InMemoryBroker on the embedded default, RedisStreamBroker
(consumer group, acknowledged after the task runs) in production. The same task code
runs on both; messages carry only inbox ids, the inbox holds the payloads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends
from taskiq.acks import AcknowledgeType
from taskiq.api.receiver import run_receiver_task
from taskiq_redis import RedisStreamBroker

from bot.background import pause, raise_if_cancelling
from bot.inbox import Enqueue
from bot.processing import EventProcessor, UrgentFirst, stranded_event_ids, utcnow
from bot.settings import QueueSettings, Settings

log = logging.getLogger("scrm.queue")

TASK_NAME = "scrm.process_events"
GROUP = "scrm-workers"
# Two lanes, each its own stream, broker, receiver and processor: events with a
# WelcomeCode never wait behind a backlog of other events.
STREAMS = {False: "scrm:events", True: "scrm:events:urgent"}

async def process_events(
    ids: list[int], context: Context = TaskiqDepends()  # noqa: B008 (taskiq injection)
) -> None:
    processor: EventProcessor = context.state.processor
    await processor.process_many(ids)


@dataclass(frozen=True)
class Lanes:
    normal: AsyncBroker
    urgent: AsyncBroker

    def __iter__(self) -> Iterator[AsyncBroker]:
        return iter((self.normal, self.urgent))

    async def startup(self, settings: Settings, wecom: Any) -> None:
        # One priority per process: the normal lane, and the rest of urgent events'
        # work, wait while urgent events wait for a slot.
        priority = UrgentFirst()
        for urgent, broker in ((False, self.normal), (True, self.urgent)):
            broker.state.processor = EventProcessor(settings.queue, wecom, urgent=urgent,
                                                    priority=priority)
            await broker.startup()

    async def shutdown(self) -> None:
        for broker in self:
            await broker.shutdown()


def _broker(settings: Settings, stream: str) -> AsyncBroker:
    broker: AsyncBroker
    if settings.redis.url:
        broker = RedisStreamBroker(
            settings.redis.url,
            queue_name=stream,
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


def create_lanes(settings: Settings) -> Lanes:
    return Lanes(_broker(settings, STREAMS[False]), _broker(settings, STREAMS[True]))


def enqueuer(lanes: Lanes) -> Enqueue:
    tasks = {urgent: broker.find_task(TASK_NAME) for urgent, broker in
             ((False, lanes.normal), (True, lanes.urgent))}

    async def enqueue(ids: list[int], urgent: bool) -> None:
        task = tasks[urgent]
        assert task is not None
        await task.kiq(ids)

    return enqueue


LOST_AFTER_LEASES = 5

async def sweep_forever(
    enqueue: Enqueue,
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
                await enqueue(ids, False)
            first = False
        except Exception:
            raise_if_cancelling()
            log.exception("sweep.failed")
        await pause(queue.sweep_interval_seconds)


# Urgent messages a worker takes at once, per slot: a message stays in flight until the
# rest of its events' onboarding is done, which no longer holds a slot; taking more keeps
# later welcomes from waiting in the stream behind that rest.
URGENT_MESSAGES_PER_SLOT = 4


async def run_stream_workers(lanes: Lanes, concurrency: int) -> None:
    """Consume both Redis streams until cancelled (`python run.py worker`)."""
    await asyncio.gather(*(
        run_receiver_task(
            broker, max_async_tasks=concurrency * (URGENT_MESSAGES_PER_SLOT if urgent else 1),
            ack_time=AcknowledgeType.WHEN_EXECUTED, run_startup=False)
        for urgent, broker in ((False, lanes.normal), (True, lanes.urgent))
    ))
