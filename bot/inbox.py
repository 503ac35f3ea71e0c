"""Durable callback inbox with group commit.

Each accepted callback must be on disk before WeCom gets its 200, but one database
round trip per request would cap ingest far below what one process can decrypt. The
writer therefore batches: requests that arrive while a write is in flight are written
together by the next one, in a single `INSERT … ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id`. The unique dedupe key makes a re-delivery (or the same event racing in
through several requests) a no-op that is still acknowledged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from tortoise import connections

from models.events import EventStatus, InboxEvent

log = logging.getLogger("scrm.inbox")

Enqueue = Callable[[list[int]], Awaitable[None]]


@dataclass(frozen=True)
class IncomingEvent:
    payload: str
    event: str
    change_type: str
    handled: bool

    @property
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
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._enqueue = enqueue
        self._max_batch = max_batch
        self._max_writes = max_concurrent_writes
        self._clock = clock
        self._waiting: list[tuple[IncomingEvent, asyncio.Future[Accepted]]] = []
        self._writers = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, item: IncomingEvent) -> Accepted:
        """Return once `item` is durably stored (or known to be a duplicate)."""
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writers < self._max_writes:
            self._writers += 1
            task = asyncio.create_task(self._write_while_waiting())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

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
        to_process: list[int] = []
        for key, entries in by_key.items():
            new_id = inserted.get(key)
            for index, (item, future) in enumerate(entries):
                duplicate = new_id is None or index > 0
                if not future.done():
                    future.set_result(Accepted(new_id, duplicate))
            if new_id is not None and entries[0][0].handled:
                to_process.append(new_id)
        if to_process:
            try:
                await self._enqueue(to_process)
            except Exception:
                # Stored as pending: the worker's sweep enqueues it again.
                log.exception("inbox.enqueue_failed ids=%s", to_process)


async def insert_events(items: list[IncomingEvent], now: datetime) -> dict[str, int]:
    """Insert what is new; return dedupe_key → id for the rows this call inserted."""
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    columns = ("dedupe_key", "event", "change_type", "payload", "status", "attempts", "received_at")
    received_at = InboxEvent._meta.fields_map["received_at"].to_db_value(now, InboxEvent)
    rows: list[str] = []
    values: list[object] = []
    for item in items:
        status = EventStatus.PENDING if item.handled else EventStatus.IGNORED
        params = (item.dedupe_key, item.event, item.change_type, item.payload, status.value, 0, received_at)
        if postgres:
            start = len(values)
            rows.append("(" + ",".join(f"${start + i + 1}" for i in range(len(params))) + ")")
        else:
            rows.append("(" + ",".join("?" for _ in params) + ")")
        values.extend(params)
    sql = (
        f"INSERT INTO inbox_event ({','.join(columns)}) VALUES {','.join(rows)} "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key"
    )
    _, result = await conn.execute_query(sql, values)
    return {str(row["dedupe_key"]): int(row["id"]) for row in result}
