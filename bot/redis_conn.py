"""Redis connection: a real server from `[redis] url`, or fakeredis in-process when empty.

The in-process stand-in serves the embedded default (one process: server, worker and
sandbox together). Anything that more than one process shares needs a real Redis.
"""

from __future__ import annotations

import fakeredis
from redis.asyncio import Redis


def open_redis(url: str) -> Redis:
    if not url:
        return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    return Redis.from_url(url)
