"""Outgoing WeCom calls per API path, corp and minute, counted in Redis.

WeCom allows a corp 10,000 calls a minute per API and answers 45009 past that, then
blocks the API for the rest of its minute window (wecom-protocol.md §4.2). Counting our
own calls in a fixed minute window shared by all processes keeps us under the limit
instead of learning it from 45009. A call over the limit waits for the next window.

One Redis round trip per call: INCR and EXPIRE in one MULTI pipeline (no Lua, so the
same code runs on fakeredis). Clock and sleep are injected so tests do not wait.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from redis.asyncio import Redis

__all__ = ["RateLimiter", "WINDOW_SECONDS"]

WINDOW_SECONDS = 60

log = logging.getLogger("bot.wecom")


class RateLimiter:
    """`acquire(api)` returns once a call of `api` fits in its per-minute limit."""

    def __init__(
        self,
        redis: Redis,
        corp_id: str,
        *,
        per_minute: int,
        per_api: Mapping[str, int],
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[object]],
    ) -> None:
        self._redis = redis
        self._corp_id = corp_id
        self._per_minute = per_minute
        self._per_api = dict(per_api)
        self._clock = clock
        self._sleep = sleep

    def limit_for(self, api: str) -> int:
        return self._per_api.get(api, self._per_minute)

    async def acquire(self, api: str) -> None:
        limit = self.limit_for(api)
        earliest_window = 0
        while True:
            now = self._clock()
            window = max(int(now // WINDOW_SECONDS), earliest_window)
            key = f"wecom:ratelimit:{self._corp_id}:{api}:{window}"
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 2 * WINDOW_SECONDS)
                count, _ = await pipe.execute()
            if count <= limit:
                return
            wait = max(0.0, (window + 1) * WINDOW_SECONDS - now)
            log.info(
                "wecom_rate_limit_wait api=%s limit=%d count=%d wait_seconds=%.3f",
                api, limit, count, wait,
            )
            earliest_window = window + 1
            await self._sleep(wait)
