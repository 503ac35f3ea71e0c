"""Running inbox events through their handlers: claim with a lease, retry with backoff,
mark failed, sweep up what a dead worker left behind.

The queue may deliver an id twice (a redelivered stream message, a sweep racing the
original enqueue); the claim is a conditional UPDATE, so only one worker runs an event
at a time and a finished event is never run again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.expressions import Q

from bot.events import parse_event
from bot.settings import QueueSettings
from handlers.dispatch import handler_for
from models.events import EventStatus, InboxEvent
from models.upsert import placeholders

log = logging.getLogger("scrm.worker")

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claimed:
    """An inbox event taken for one attempt."""

    id: int
    event: str
    change_type: str
    payload: str
    attempts: int


class EventProcessor:
    def __init__(
        self,
        queue: QueueSettings,
        wecom: Any,
        *,
        clock: Clock = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._queue = queue
        self._wecom = wecom
        self._clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(queue.concurrency)

    async def process_many(self, ids: list[int]) -> None:
        await asyncio.gather(*(self.process(event_id) for event_id in ids))

    async def process(self, event_id: int) -> None:
        """Run one event to done or failed; return early if someone else has it."""
        async with self._slots:
            while True:
                row = await self._claim(event_id)
                if row is None:
                    return
                delay = await self._run(row)
                if delay is None:
                    return
                await self._sleep(delay)

    async def _claim(self, event_id: int) -> Claimed | None:
        """Take the event for one attempt, in one statement (UPDATE … RETURNING)."""
        now = self._clock()
        lease = now + timedelta(seconds=self._queue.lease_seconds)
        conn = connections.get("default")
        p = placeholders(conn.capabilities.dialect, 0, 6)
        stamp = InboxEvent._meta.fields_map["lease_until"].to_db_value
        rows = await conn.execute_query_dict(
            f"UPDATE inbox_event SET status = {p[0]}, lease_until = {p[1]}, "
            f"attempts = attempts + 1 WHERE id = {p[2]} AND (status = {p[3]} "
            f"OR (status = {p[4]} AND lease_until <= {p[5]})) "
            "RETURNING id, event, change_type, payload, attempts",
            [EventStatus.PROCESSING.value, stamp(lease, InboxEvent), event_id,
             EventStatus.PENDING.value, EventStatus.PROCESSING.value, stamp(now, InboxEvent)],
        )
        return Claimed(**rows[0]) if rows else None

    async def _run(self, row: Claimed) -> float | None:
        """Run the handler; return the backoff before the next attempt, or None when
        the event is finished (done, failed or ignored)."""
        handler = handler_for(row.event, row.change_type)
        if handler is None:
            await self._finish(row, EventStatus.IGNORED, None)
            return None
        try:
            await handler(parse_event(row.payload), self._wecom)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if row.attempts >= self._queue.max_attempts:
                log.error("event.failed id=%s event=%s/%s attempts=%s error=%s",
                          row.id, row.event, row.change_type, row.attempts, error)
                await self._finish(row, EventStatus.FAILED, error)
                return None
            delay = min(
                self._queue.retry_base_seconds * 2 ** (row.attempts - 1),
                self._queue.retry_max_seconds,
            )
            log.warning("event.retry id=%s event=%s/%s attempt=%s in=%.2fs error=%s",
                        row.id, row.event, row.change_type, row.attempts, delay, error)
            # Keep the lease over the backoff so no sweep takes the event early.
            await InboxEvent.filter(id=row.id).update(
                last_error=error, lease_until=self._clock() + timedelta(seconds=delay)
            )
            return delay
        await self._finish(row, EventStatus.DONE, None)
        log.info("event.done id=%s event=%s/%s attempts=%s",
                 row.id, row.event, row.change_type, row.attempts)
        return None

    async def _finish(self, row: Claimed, status: EventStatus, error: str | None) -> None:
        await InboxEvent.filter(id=row.id).update(
            status=status, lease_until=None, processed_at=self._clock(), last_error=error
        )


async def stranded_event_ids(
    now: datetime, pending_older_than: float, limit: int = 1000
) -> list[int]:
    """Events no worker is on: pending for long (their enqueue was lost), pending and
    due (a replay), or processing with an expired lease (their worker died)."""
    stale = now - timedelta(seconds=pending_older_than)
    rows = await InboxEvent.filter(
        Q(status=EventStatus.PENDING, received_at__lte=stale)
        | Q(status=EventStatus.PENDING, lease_until__lte=now)
        | Q(status=EventStatus.PROCESSING, lease_until__lte=now)
    ).order_by("id").limit(limit).values("id")
    return [int(row["id"]) for row in rows]


async def replay(event_id: int) -> InboxEvent:
    """Put a failed (or ignored) event back to pending with a fresh attempt count, due
    now: the next sweep of any worker takes it (or the caller enqueues it)."""
    row = await InboxEvent.get_or_none(id=event_id)
    if row is None:
        raise LookupError(f"no event with id {event_id}")
    if row.status in (EventStatus.PENDING, EventStatus.PROCESSING):
        raise ValueError(f"event {event_id} is {row.status.value}, not finished")
    await InboxEvent.filter(id=event_id).update(
        status=EventStatus.PENDING, attempts=0, lease_until=utcnow(), last_error=None,
        processed_at=None,
    )
    return await InboxEvent.get(id=event_id)
