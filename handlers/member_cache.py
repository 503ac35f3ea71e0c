"""The member's `GET /me` answer kept in memory, per process, so the hot path of the
mini-program makes no database round trip (bench/member_api.py: two queries per request
held it at a tenth of a bare endpoint's throughput).

An entry is keyed by the session token's hash and holds the member id, the session's
expiry and the rendered JSON. A hit needs all of:
- the session not expired by the app clock (checked on every hit, so an expired
  session is refused at once even when cached);
- the entry younger than a random 0.5–1 × `TTL_SECONDS` by the same app clock;
- no change to the member announced since the entry's database read began (the
  entry's `generation`; so a read racing a write cannot keep the old answer).

Every change a member could see (ledger movements, levels, profile, phone, merges,
erasure, guide linking, logout and revocation) calls `member_changed(ids)` once it is
committed, or inside an `announcing_transaction` (the ledger, check-ins and order
imports), which announces after the commit. It evicts in every cache of this process at
once, so a member's own write is visible to their next request, and publishes the ids
on the Redis channel `CHANNEL`; every server process listens (`listening`) and evicts
what it hears.

Staleness bounds: on the process that made the change, none. On another process, the
pub/sub delay (milliseconds). If a message is lost (Redis down or the listener
reconnecting; the listener then empties its cache), at most `TTL_SECONDS`. The
announcers are a process-wide registry (the ledger's contract takes no Redis client):
the app and `bot.runtime` register theirs. On the embedded default each process has its
own in-process Redis, so a separate CLI process's changes (e.g. `orders import`) reach
a running server after at most `TTL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from bot.background import pause, raise_if_cancelling, stop_tasks

__all__ = ["CHANNEL", "TTL_SECONDS", "MemberCache", "announcing", "announcing_transaction",
           "listening", "member_changed", "publish_change"]

log = logging.getLogger("scrm.members")

CHANNEL = "scrm:members:changed"
# The staleness bound when an invalidation is lost.
TTL_SECONDS = 2.0
# Entries (sessions with their answer) and remembered evictions: memory stays flat.
MAX_ENTRIES = 100_000
MAX_EVICTIONS = 100_000
RECONNECT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class _Entry:
    member_id: int
    expires_at: float  # the session's, in app-clock seconds
    body: bytes
    generation: int  # the cache's generation when the database read began
    # App-clock time after which the entry is read again: TTL × a random 0.5–1 after
    # it was stored, so entries stored in one burst do not all miss in the same instant.
    fresh_until: float


class MemberCache:
    """Token hash → (member, session expiry, `GET /me` body), with member evictions."""

    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._evicted: OrderedDict[int, int] = OrderedDict()  # member → generation
        self._evicted_floor = 0  # the generation of the last forgotten eviction
        self.generation = 0

    def answer(self, session_hash: str, now: float) -> bytes | None:
        """The cached body for this session at app-clock time `now`, or None."""
        entry = self._entries.get(session_hash)
        if entry is None:
            return None
        if (entry.expires_at <= now or entry.fresh_until <= now
                or self._evicted.get(entry.member_id, self._evicted_floor) > entry.generation):
            del self._entries[session_hash]
            return None
        self._entries.move_to_end(session_hash)
        return entry.body

    def put(self, session_hash: str, member_id: int, expires_at: float, body: bytes,
            generation: int, now: float) -> None:
        """Keep an answer read from the database at app-clock time `now`; `generation` is
        `self.generation` as it was before that read began."""
        fresh_until = now + self.ttl * random.uniform(0.5, 1.0)
        self._entries[session_hash] = _Entry(member_id, expires_at, body, generation,
                                             fresh_until)
        self._entries.move_to_end(session_hash)
        if len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)

    def evict(self, member_ids: Iterable[int]) -> None:
        for member_id in member_ids:
            self.generation += 1
            self._evicted[member_id] = self.generation
            self._evicted.move_to_end(member_id)
        while len(self._evicted) > MAX_EVICTIONS:
            _, self._evicted_floor = self._evicted.popitem(last=False)

    def clear(self) -> None:
        """Forget everything, including answers whose database read is under way."""
        self.generation += 1
        self._entries.clear()
        self._evicted.clear()
        self._evicted_floor = self.generation


_caches: weakref.WeakSet[MemberCache] = weakref.WeakSet()
_announcers: list[Redis] = []
# The members changed in the current `announcing_transaction`, announced at its commit.
_pending: ContextVar[set[int] | None] = ContextVar("member_cache_pending", default=None)


async def publish_change(redis: Redis, member_ids: Iterable[int]) -> None:
    await redis.publish(CHANNEL, " ".join(str(int(i)) for i in member_ids))


async def member_changed(*member_ids: int) -> None:
    """Call once a change members can see is committed (inside an
    `announcing_transaction`: it waits for the commit): evicts in this process at once
    and tells the other processes. Never fails the caller: a lost message costs at most
    `TTL_SECONDS` of staleness."""
    pending = _pending.get()
    if pending is not None:
        pending.update(member_ids)
        return
    for cache in list(_caches):
        cache.evict(member_ids)
    for redis in list(_announcers):
        try:
            await publish_change(redis, member_ids)
        except Exception:  # noqa: BLE001 - the change is committed; staleness is bounded
            log.warning("member_cache.publish_failed members=%s", member_ids, exc_info=True)


@asynccontextmanager
async def announcing_transaction() -> AsyncIterator[BaseDBAsyncClient]:
    """tortoise's `in_transaction()`, with the `member_changed` calls made inside it
    announced once it commits (nested: once the outermost one commits), so no reader
    between the eviction and the commit can cache the old state. Nothing is announced
    for a transaction rolled back."""
    outer = _pending.get()
    changed: set[int] = set() if outer is None else outer
    token = _pending.set(changed)
    try:
        async with in_transaction() as conn:
            yield conn
    finally:
        _pending.reset(token)
    if outer is None and changed:
        await member_changed(*sorted(changed))


@asynccontextmanager
async def announcing(redis: Redis) -> AsyncIterator[None]:
    """While open, `member_changed` publishes on this Redis client."""
    _announcers.append(redis)
    try:
        yield
    finally:
        _announcers.remove(redis)


@asynccontextmanager
async def listening(cache: MemberCache, redis: Redis) -> AsyncIterator[None]:
    """While open, the cache takes this process's evictions and those published on
    `CHANNEL`; subscribed before it yields."""
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(CHANNEL)
    _caches.add(cache)
    task = asyncio.create_task(_listen(cache, redis, pubsub), name="member-cache")
    try:
        yield
    finally:
        _caches.discard(cache)
        await stop_tasks([task])


async def _listen(cache: MemberCache, redis: Redis, pubsub: PubSub) -> None:
    """Evict what is heard; after a failure, resubscribe and empty the cache (what was
    published meanwhile is lost)."""
    while True:
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    cache.evict(int(part) for part in message["data"].split())
        except Exception:  # noqa: BLE001 - keep listening
            raise_if_cancelling()
            log.warning("member_cache.listen_failed; emptying the cache", exc_info=True)
        finally:
            await pubsub.aclose()
        await pause(RECONNECT_SECONDS)
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL)
        except Exception:  # noqa: BLE001 - retried after the pause
            raise_if_cancelling()
            log.warning("member_cache.subscribe_failed", exc_info=True)
        cache.clear()
