"""Outgoing WeCom calls per API path, corp and window (a minute by default), counted in
Redis.

WeCom allows a corp 10,000 calls a minute per API and answers 45009 past that, then
blocks the API for the rest of its minute window (wecom-protocol.md §4.2). Counting our
own calls in a fixed minute window shared by all processes keeps us under the limit
instead of learning it from 45009. A call over the limit waits for the next window,
unless the caller has a deadline that wait would pass (`WindowTooFar`).

Permits are reserved from Redis in blocks (INCRBY, with EXPIRE in one MULTI pipeline,
no Lua, so the same code runs on fakeredis) and handed out from process memory, so most
calls make no Redis round trip. The block is limit/200, between 1 and 50 permits: 50 at
the default 10,000/min, so one round trip serves 50 calls. The limit still holds across
processes, since every permit used was counted in Redis first; the price is that
permits a process reserved and did not use before the window ended are lost, at most
(block - 1) per process, API and minute (0.5 % of the limit per process), and a process
may wait for the next window while another still holds unused permits. Limits under
400/min use blocks of 1, i.e. exact counting. Clock and sleep are injected so tests do
not wait.

`window_seconds` makes the window another length: the group SOP dispatcher paces its
add_msg_template calls per second (`sop.push_calls_per_second`) with a 1-second window
on top of the transport's per-minute one. Limits are then calls per that window, and
the Redis keys carry the length so the two windows of one API never share a counter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from redis.asyncio import Redis

__all__ = ["RateLimiter", "WINDOW_SECONDS", "WindowTooFar", "block_for"]

WINDOW_SECONDS = 60
BLOCK_FRACTION = 200
MAX_BLOCK = 50

log = logging.getLogger("bot.wecom")


def block_for(limit: int) -> int:
    """How many permits one Redis round trip reserves for an API with this limit."""
    return max(1, min(MAX_BLOCK, limit // BLOCK_FRACTION))


class WindowTooFar(Exception):
    """The API's limit is used up and the next window opens after the caller's deadline."""

    def __init__(
        self, api: str, limit: int, wait: float, window_seconds: int = WINDOW_SECONDS
    ) -> None:
        per = "min" if window_seconds == WINDOW_SECONDS else f"{window_seconds}s"
        super().__init__(f"{api}: {limit}/{per} used up; the next window is {wait:.1f} s away")
        self.api = api
        self.limit = limit
        self.wait = wait


@dataclass
class _Permits:
    window: int
    left: int


class RateLimiter:
    """`acquire(api)` returns once a call of `api` fits in its limit per window.

    `per_minute` and `per_api` are calls per window: per minute with the default
    `window_seconds`, per second with `window_seconds=1`."""

    def __init__(
        self,
        redis: Redis,
        corp_id: str,
        *,
        per_minute: int,
        per_api: Mapping[str, int],
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[object]],
        window_seconds: int = WINDOW_SECONDS,
    ) -> None:
        if window_seconds < 1:
            raise ValueError("window_seconds must be >= 1")
        self._window = window_seconds
        self._key_prefix = (f"wecom:ratelimit:{corp_id}" if window_seconds == WINDOW_SECONDS
                            else f"wecom:ratelimit:{corp_id}:w{window_seconds}")
        self._redis = redis
        self._per_minute = per_minute
        self._per_api = dict(per_api)
        self._clock = clock
        self._sleep = sleep
        self._permits: dict[str, _Permits] = {}
        self._refills: dict[str, asyncio.Lock] = {}

    def limit_for(self, api: str) -> int:
        return self._per_api.get(api, self._per_minute)

    async def acquire(self, api: str, deadline: float | None = None) -> None:
        """Wait until a call of `api` may go; `WindowTooFar` instead of waiting past
        `deadline` (a time on the injected clock)."""
        limit = self.limit_for(api)
        earliest_window = 0
        while True:
            window = max(int(self._clock() // self._window), earliest_window)
            if self._take(api, window):
                return
            # One reservation at a time per API: the others then take from its block.
            async with self._refills.setdefault(api, asyncio.Lock()):
                if self._take(api, window):
                    return
                granted, count = await self._reserve(api, window, limit)
                if granted:
                    self._permits[api] = _Permits(window, granted - 1)
                    return
            now = self._clock()
            wait = max(0.0, (window + 1) * self._window - now)
            if deadline is not None and now + wait > deadline:
                raise WindowTooFar(api, limit, wait, self._window)
            log.info(
                "wecom_rate_limit_wait api=%s limit=%d count=%d wait_seconds=%.3f",
                api, limit, count, wait,
            )
            earliest_window = window + 1
            await self._sleep(wait)

    def _take(self, api: str, window: int) -> bool:
        permits = self._permits.get(api)
        if permits is None or permits.window != window or permits.left <= 0:
            return False
        permits.left -= 1
        return True

    async def _reserve(self, api: str, window: int, limit: int) -> tuple[int, int]:
        """Count a block of calls in Redis; returns how many of them fit under the limit
        (0 when none does) and the window's count."""
        block = block_for(limit)
        key = f"{self._key_prefix}:{api}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(key, block)
            pipe.expire(key, 2 * self._window)
            count, _ = await pipe.execute()
        return max(0, min(block, limit - (count - block))), count
