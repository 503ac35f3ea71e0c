"""Running inbox events through their handlers: claim with a lease, retry with backoff,
mark failed, sweep up what a dead worker left behind.

The queue may deliver an id twice (a redelivered stream message, a sweep racing the
original enqueue); the claim is a conditional UPDATE, so only one worker runs an event
at a time and a finished event is never run again.

Welcome first: the urgent lane's processor holds a slot for an event only until its
handler says the welcome is out (handlers.welcome.AFTER_WELCOME); the rest of that
handler, and every event of the normal lane, then waits while any urgent event of this
process waits for a slot (`UrgentFirst`). Under a burst the process spends itself on
welcomes, whose codes die after 20 s, and catches up on the rest after; at a rate the
slots absorb, nothing waits.

Claims and `done` marks are group-committed per process: the ones that come while a
statement is in flight go together in the next one (`UPDATE … WHERE id IN (…)`), so
under load an event costs a fraction of a statement for each instead of one. An event
is claimed only once it has a processing slot, as before.
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
from bot.group_commit import GroupCommit
from bot.settings import QueueSettings
from handlers.dispatch import handler_for
from handlers.welcome import AFTER_WELCOME
from models.events import EventStatus, InboxEvent
from models.upsert import id_list, placeholders

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


class UrgentFirst:
    """Per process: how many urgent events wait for a slot; `turn()` returns when none
    does."""

    def __init__(self) -> None:
        self._waiting = 0
        self._clear = asyncio.Event()
        self._clear.set()

    async def slot(self, slots: asyncio.Semaphore) -> None:
        """Take an urgent slot, counted as waiting meanwhile."""
        if not slots.locked():
            await slots.acquire()
            return
        self._waiting += 1
        self._clear.clear()
        try:
            await slots.acquire()
        finally:
            self._waiting -= 1
            if self._waiting == 0:
                self._clear.set()

    async def turn(self) -> None:
        await self._clear.wait()


class _Held:
    """The slot one event holds: urgent until its welcome is out, then a rest slot."""

    def __init__(self, processor: EventProcessor) -> None:
        self._processor = processor
        self._semaphore: asyncio.Semaphore | None = processor._slots

    async def to_rest(self) -> None:
        p = self._processor
        if self._semaphore is not p._slots:
            return
        p._slots.release()
        self._semaphore = None
        await p._priority.turn()
        await p._rest.acquire()
        self._semaphore = p._rest

    def release(self) -> None:
        if self._semaphore is not None:
            self._semaphore.release()
            self._semaphore = None


class EventProcessor:
    def __init__(
        self,
        queue: QueueSettings,
        wecom: Any,
        *,
        clock: Clock = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        urgent: bool,
        priority: UrgentFirst,
    ) -> None:
        self._queue = queue
        self._wecom = wecom
        self._clock = clock
        self._sleep = sleep
        self._urgent = urgent
        self._priority = priority
        self._slots = asyncio.Semaphore(queue.concurrency)
        # Urgent events past their welcome: more of them may run than slots, since they
        # wait mostly on WeCom; the bound keeps a burst from opening unbounded work.
        self._rest = asyncio.Semaphore(4 * queue.concurrency)
        self._claims: GroupCommit[int, Claimed] = GroupCommit(self._claim_all)
        self._dones: GroupCommit[int, bool] = GroupCommit(self._done_all)

    async def process_many(self, ids: list[int]) -> None:
        await asyncio.gather(*(self.process(event_id) for event_id in ids))

    async def process(self, event_id: int) -> None:
        """Run one event to done or failed; return early if someone else has it."""
        if self._urgent:
            await self._priority.slot(self._slots)
        else:
            await self._priority.turn()
            await self._slots.acquire()
        held = _Held(self)
        hook = AFTER_WELCOME.set(held.to_rest if self._urgent else None)
        try:
            while True:
                # Grouped with other claims in one statement: `_claim_all`.
                row = await self._claims(event_id)
                if row is None:
                    return
                delay = await self._run(row)
                if delay is None:
                    return
                await self._sleep(delay)
        finally:
            AFTER_WELCOME.reset(hook)
            held.release()

    async def _claim_all(self, ids: list[int]) -> dict[int, Claimed]:
        """Take the events that are free for one attempt each, in one statement
        (UPDATE … RETURNING): pending, or processing with an expired lease."""
        now = self._clock()
        lease = now + timedelta(seconds=self._queue.lease_seconds)
        conn = connections.get("default")
        dialect = conn.capabilities.dialect
        p = placeholders(dialect, 0, 2)
        which, id_params = id_list(dialect, 2, ids)
        q = placeholders(dialect, 2 + len(id_params), 3)
        stamp = InboxEvent._meta.fields_map["lease_until"].to_db_value
        rows = await conn.execute_query_dict(
            f"UPDATE inbox_event SET status = {p[0]}, lease_until = {p[1]}, "
            f"attempts = attempts + 1 WHERE {which} AND (status = {q[0]} "
            f"OR (status = {q[1]} AND lease_until <= {q[2]})) "
            "RETURNING id, event, change_type, payload, attempts",
            [EventStatus.PROCESSING.value, stamp(lease, InboxEvent), *id_params,
             EventStatus.PENDING.value, EventStatus.PROCESSING.value, stamp(now, InboxEvent)],
        )
        return {int(row["id"]): Claimed(**row) for row in rows}

    async def _done_all(self, ids: list[int]) -> dict[int, bool]:
        """Mark events done, in one statement."""
        conn = connections.get("default")
        dialect = conn.capabilities.dialect
        p = placeholders(dialect, 0, 2)
        which, id_params = id_list(dialect, 2, ids)
        stamp = InboxEvent._meta.fields_map["processed_at"].to_db_value
        await conn.execute_query(
            f"UPDATE inbox_event SET status = {p[0]}, lease_until = NULL, "
            f"processed_at = {p[1]}, last_error = NULL WHERE {which}",
            [EventStatus.DONE.value, stamp(self._clock(), InboxEvent), *id_params],
        )
        return {}

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
        if status == EventStatus.DONE:
            await self._dones(row.id)
            return
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
