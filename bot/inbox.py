"""Durable callback inbox with group commit.

Each accepted callback must be on disk before WeCom gets its 200, but one database
round trip per request would cap ingest far below what one process can decrypt. The
writer therefore batches: requests that arrive while a write is in flight are written
together by the next one, in a single `INSERT … ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id`. The unique dedupe key makes a re-delivery (or the same event racing in
through several requests) a no-op that is still acknowledged.

New ids go to the queue the same way: one enqueue in flight at a time, carrying every id
stored since the last one (at most `max_enqueue` per message), so under load one queue
message covers several batches. The ids are enqueued after the 200s went out; an
enqueue that fails leaves the events pending for the sweep.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from tortoise import connections

from models.events import EventStatus, InboxEvent

log = logging.getLogger("scrm.inbox")

# enqueue(ids, urgent): urgent ids travel in their own lane (see handlers.dispatch.URGENT).
Enqueue = Callable[[list[int], bool], Awaitable[None]]


@dataclass(frozen=True)
class IncomingEvent:
    payload: str
    event: str
    change_type: str
    handled: bool
    urgent: bool = False

    @cached_property
    def dedupe_key(self) -> str:
        return hashlib.sha256(self.payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Accepted:
    inbox_id: int | None
    duplicate: bool


class InboxWriter:
    """Write incoming events in batches; enqueue the new, handled ones for the worker."""

    def __init__(
        self,
        enqueue: Enqueue,
        *,
        max_batch: int = 500,
        max_concurrent_writes: int = 1,
        max_enqueue: int = 200,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._enqueue = enqueue
        self._max_batch = max_batch
        self._max_writes = max_concurrent_writes
        self._clock = clock
        self._waiting: list[tuple[IncomingEvent, asyncio.Future[Accepted]]] = []
        self._writers = 0
        self._max_enqueue = max_enqueue
        # Per lane (urgent or not): ids waiting to be enqueued, and whether a task is on it.
        self._to_enqueue: dict[bool, list[int]] = {False: [], True: []}
        self._enqueuing: dict[bool, bool] = {False: False, True: False}
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, item: IncomingEvent) -> Accepted:
        """Return once `item` is durably stored (or known to be a duplicate)."""
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writers < self._max_writes:
            self._writers += 1
            self._start(self._write_while_waiting())
        return await future

    def _start(self, job: Coroutine[object, object, None]) -> None:
        task = asyncio.create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for in-flight writes and enqueues (used at shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _write_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._write(batch)
        finally:
            self._writers -= 1

    async def _write(self, batch: list[tuple[IncomingEvent, asyncio.Future[Accepted]]]) -> None:
        by_key: dict[str, list[tuple[IncomingEvent, asyncio.Future[Accepted]]]] = {}
        for item, future in batch:
            by_key.setdefault(item.dedupe_key, []).append((item, future))
        try:
            inserted = await insert_events(
                [entries[0][0] for entries in by_key.values()], self._clock()
            )
        except Exception as exc:  # the database is down: WeCom must retry, so 5xx
            log.exception("inbox.write_failed batch=%d", len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for key, entries in by_key.items():
            new_id = inserted.get(key)
            for index, (_item, future) in enumerate(entries):
                duplicate = new_id is None or index > 0
                if not future.done():
                    future.set_result(Accepted(new_id, duplicate))
            first = entries[0][0]
            if new_id is not None and first.handled:
                self._to_enqueue[first.urgent].append(new_id)
        for urgent, waiting in self._to_enqueue.items():
            if waiting and not self._enqueuing[urgent]:
                self._enqueuing[urgent] = True
                self._start(self._enqueue_while_waiting(urgent))

    async def _enqueue_while_waiting(self, urgent: bool) -> None:
        waiting = self._to_enqueue[urgent]
        try:
            while waiting:
                ids = waiting[: self._max_enqueue]
                del waiting[: self._max_enqueue]
                try:
                    await self._enqueue(ids, urgent)
                except Exception:
                    # Stored as pending: the worker's sweep enqueues it again.
                    log.exception("inbox.enqueue_failed ids=%s", ids)
        finally:
            self._enqueuing[urgent] = False


_COLUMNS = ("dedupe_key", "event", "change_type", "payload", "status", "attempts", "received_at")

# PostgreSQL: one statement text whatever the batch size (the rows travel as arrays), so
# asyncpg prepares it once instead of once per batch size it has not seen lately.
_POSTGRES_INSERT = (
    f"INSERT INTO inbox_event ({','.join(_COLUMNS)}) "
    "SELECT k, e, c, p, s, 0, $6::timestamptz "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(k, e, c, p, s) "
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key"
)


async def insert_events(items: list[IncomingEvent], now: datetime) -> dict[str, int]:
    """Insert what is new; return dedupe_key → id for the rows this call inserted."""
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    columns = _COLUMNS
    received_at = InboxEvent._meta.fields_map["received_at"].to_db_value(now, InboxEvent)
    if postgres:
        pending, ignored = EventStatus.PENDING.value, EventStatus.IGNORED.value
        arrays = (
            [item.dedupe_key for item in items],
            [item.event for item in items],
            [item.change_type for item in items],
            [item.payload for item in items],
            [pending if item.handled else ignored for item in items],
            received_at,
        )
        # execute_query_dict, not execute_query: tortoise's asyncpg client runs an INSERT
        # through execute() and drops its RETURNING rows, which made every new event
        # look like a duplicate on PostgreSQL (acknowledged, never enqueued).
        result = await conn.execute_query_dict(_POSTGRES_INSERT, list(arrays))
        return {str(row["dedupe_key"]): int(row["id"]) for row in result}
    rows: list[str] = []
    values: list[object] = []
    row = "(" + ",".join("?" for _ in columns) + ")"
    for item in items:
        status = EventStatus.PENDING if item.handled else EventStatus.IGNORED
        values.extend((item.dedupe_key, item.event, item.change_type, item.payload,
                       status.value, 0, received_at))
        rows.append(row)
    sql = (
        f"INSERT INTO inbox_event ({','.join(columns)}) VALUES {','.join(rows)} "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key"
    )
    result = await conn.execute_query_dict(sql, values)
    return {str(row["dedupe_key"]): int(row["id"]) for row in result}
