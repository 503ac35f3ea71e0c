"""Locks in Redis, shared by every process on the same Redis: redis-py's `Lock`, released
with a WATCH/MULTI compare-and-delete instead of its Lua script, so the in-process
stand-in (fakeredis, which runs without Lua) runs the same code.

Used for the WeCom token refresh (one process fetches at a time) and for a group SOP
owner's receive-limit admissions (one dispatcher counts at a time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockNotOwnedError, WatchError

__all__ = ["CompareDeleteLock", "as_bytes", "delete_if", "redis_lock"]

POLL_SECONDS = 0.01


async def delete_if(redis: Any, key: Any, matches: Callable[[bytes | None], bool]) -> bool:
    """Delete `key` if its current value satisfies `matches`, atomically (WATCH/MULTI)."""
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                if not matches(as_bytes(await pipe.get(key))):
                    return False
                pipe.multi()
                pipe.delete(key)
                await pipe.execute()
                return True
            except WatchError:
                continue


def as_bytes(value: Any) -> bytes | None:
    return value.encode("utf-8") if isinstance(value, str) else value


class CompareDeleteLock(Lock):
    """redis-py's lock, released with WATCH/MULTI instead of a Lua script."""

    async def do_release(self, expected_token: bytes) -> None:
        if not await delete_if(self.redis, self.name, lambda held: held == expected_token):
            raise LockNotOwnedError("Cannot release a lock that's no longer owned")


def redis_lock(redis: Redis, key: str, *, ttl_seconds: float = 30.0,
               wait_seconds: float = 60.0) -> Lock:
    """`async with redis_lock(...)`: a short critical section across processes. The ttl
    frees the lock if its holder dies (a section must finish well within it); waiting
    longer than `wait_seconds` raises redis' LockError. A lock that expired before its
    section ended is not an error on release (it is logged by redis-py)."""
    return redis.lock(key, timeout=ttl_seconds, sleep=POLL_SECONDS,
                      blocking_timeout=wait_seconds, lock_class=CompareDeleteLock,
                      thread_local=False, raise_on_release_error=False)
