"""A short mutual-exclusion lock in Redis, shared by every process on the same Redis.

For critical sections of a few database round trips (e.g. counting a group's pushes
and admitting the next one). Taken with `SET key token NX PX ttl`; released only by its
holder, with a WATCH/MULTI check-and-delete (no Lua, so fakeredis runs it too). The
ttl frees the lock if its holder dies; a section must finish well within it.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import WatchError

__all__ = ["redis_lock", "LockTimeout"]

POLL_SECONDS = 0.01


class LockTimeout(Exception):
    """The lock stayed taken for longer than the caller would wait."""


@asynccontextmanager
async def redis_lock(redis: Redis, key: str, *, ttl_seconds: float = 30.0,
                     wait_seconds: float = 60.0) -> AsyncIterator[None]:
    token = secrets.token_hex(8)
    loop = asyncio.get_running_loop()
    give_up = loop.time() + wait_seconds
    while not await redis.set(key, token, nx=True, px=max(1, int(ttl_seconds * 1000))):
        if loop.time() > give_up:
            raise LockTimeout(f"lock {key} still taken after {wait_seconds:g} s")
        await asyncio.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        await _release(redis, key, token)


async def _release(redis: Redis, key: str, token: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        try:
            await pipe.watch(key)
            held = await pipe.get(key)
            if held is None or (held.decode() if isinstance(held, bytes) else held) != token:
                return  # expired, maybe taken by someone else since: not ours to delete
            pipe.multi()
            pipe.delete(key)
            await pipe.execute()
        except WatchError:
            pass  # changed under us: it expired and another holder has it now
